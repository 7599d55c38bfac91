"""The scheduled jobs of ``serve``: each calls the same entry point as its CLI command.

The mailbox jobs (``scan``, its digests, ``fanout``) all run through one
:class:`~inboxwarden.mailbox.runner.MailboxRunner` that shares the service's stop
signal: on SIGTERM no job starts another mailbox, and the scan leaves the one in
progress between two journalled commands.

``scan`` is ``run --once`` followed by the digests that are due (docs/behaviour.md §7: once at the
boundary, once before the enforcement date, remembered in the state); ``fanout``,
``report`` and ``retention`` are ``inboxwarden fanout``, ``report`` and the expiry of
inboxwarden's own data. A job that fails is logged and counted, and the service goes
on: the next tick tries again.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import structlog

from inboxwarden.config import Settings
from inboxwarden.directory.source import load_configured_directory
from inboxwarden.errors import InboxWardenError
from inboxwarden.mailbox.runner import MailboxRunner
from inboxwarden.mailbox.scan_job import RunSummary, run_scan
from inboxwarden.reports.digest import digest_due
from inboxwarden.service.metrics import Metrics
from inboxwarden.state import StateStore

__all__ = ["DIGEST_MEMORY", "Jobs", "job_kind"]

log = structlog.get_logger(__name__)


def job_kind(name: str) -> str:
    """The ``runs.kind`` under which the state remembers each run of the job *name*."""
    return f"job:{name}"


#: Digest records are kept at least this long: ``digest_due`` looks back one cycle.
DIGEST_MEMORY = timedelta(days=62)


@dataclass
class Jobs:
    """The jobs, sharing the state, the metrics and the stop signal of one ``serve``."""

    settings: Settings
    state: StateStore
    metrics: Metrics
    stop: threading.Event = field(default_factory=threading.Event)
    clock: Callable[[], datetime] | None = None

    def now(self) -> datetime:
        """The time a job acts as of, in the organisation's zone."""
        return self.clock() if self.clock else datetime.now(self.settings.organisation.tz)

    def runner(self) -> MailboxRunner:
        """A fresh runner per job: the directory and secrets are read anew each time."""
        directory = load_configured_directory(self.settings).directory
        return replace(MailboxRunner.create(self.settings, directory, self.state), stop=self.stop)

    def guarded(self, name: str, job: Callable[[], None]) -> Callable[[], None]:
        """*job* with a start and a finish log line, metrics, and no exception escaping."""

        def run() -> None:
            if self.stop.is_set():
                return
            structlog.contextvars.clear_contextvars()
            log.info("job_started", job=name)
            start = time.monotonic()
            ok, run_id = False, None
            try:
                # Remembered so that a restart can tell a missed time (see missed_time).
                run_id = self.state.start_run(job_kind(name), self.now())
                job()
                ok = True
            except InboxWardenError as exc:
                log.error("job_failed", job=name, error=type(exc).__name__, reason=str(exc))
            except Exception as exc:  # a bug, or the state database gone: the service goes on
                log.error("job_crashed", job=name, error=type(exc).__name__)
                log.debug("job_crashed_traceback", exc_info=True)
            seconds = time.monotonic() - start
            if run_id is not None:
                with contextlib.suppress(Exception):  # best effort: the outcome is logged above
                    self.state.finish_run(run_id, ok=int(ok), failed=int(not ok))
            self.metrics.job_finished(name, ok, seconds, time.time())
            log.info("job_finished", job=name, ok=ok, seconds=round(seconds, 3))

        return run

    # --- the jobs -------------------------------------------------------------------

    def scan(self) -> None:
        """Flag and enforce in each mailbox's mode, then send the digests that are due."""
        runner = self.runner()
        # One window for the scan and its digests: both act as of the same instant.
        summary = run_scan(runner, runner.window(self.now()))
        self._count_run(summary)
        if not self.stop.is_set():
            self.digests(runner, summary)

    def digests(self, runner: MailboxRunner, summary: RunSummary) -> None:
        """Send the boundary or reminder digest to each mailbox that has one due.

        Only mailboxes the scan found due mail in are asked; ``digest_due`` then decides
        from the last digest the state remembers, so a second scan or a restart never
        sends one twice, and one missed while the service was down goes out late.
        """
        from inboxwarden.reports.digest_job import send_digests  # templates, SMTP

        window = summary.window
        with_due = {
            o.mailbox
            for o in summary.outcomes
            if o.status in ("ok", "partial") and o.mode != "observe" and o.plan and o.plan.due
        }
        due = tuple(
            e
            for e in runner.chosen(None)
            if e.email in with_due and digest_due(window, self.state.last_digest(e.email))
        )
        if not due:
            return
        outcomes = send_digests(runner.limited_to(due), window)
        for outcome in outcomes:
            if outcome.status == "sent" and outcome.kind:
                self.metrics.count_digest(outcome.kind)

    def fanout(self) -> None:
        """Scan for CC fan-out and store the findings."""
        from inboxwarden.fanout.job import run_fanout

        for outcome in run_fanout(self.runner(), self.now()):
            for finding in outcome.findings:
                self.metrics.count_finding(finding.severity)

    def report(self) -> None:
        """Build, write and send last week's manager reports."""
        from inboxwarden.reports import build_reports, send_reports

        directory = load_configured_directory(self.settings).directory
        reports = build_reports(self.settings, self.state, directory, now=self.now())
        outcomes = send_reports(reports, self.settings)
        failed = sum(o.status == "failed" for o in outcomes)
        if failed:
            raise InboxWardenError(f"{failed} of {len(outcomes)} manager reports failed")

    def retention(self) -> None:
        """Expire inboxwarden's own data: audit events, run counts, findings, digest records."""
        now = self.now()
        days = self.settings.audit.retention_days
        removed = self.state.purge_older_than(days, now)
        keep = max(timedelta(days=days), DIGEST_MEMORY)
        removed += self.state.forget_digests_before(now - keep)
        log.info("retention_done", removed=removed)

    def _count_run(self, summary: RunSummary) -> None:
        m = self.metrics
        for o in summary.outcomes:
            m.count_mailbox(o.status)
            m.count_messages("flagged", o.applied.flagged)
            m.count_messages("moved", o.applied.moved)
            m.count_messages("deleted", o.applied.deleted)
            m.count_messages("held", o.plan.held if o.plan else 0)
            m.count_messages("skipped", o.skipped)
