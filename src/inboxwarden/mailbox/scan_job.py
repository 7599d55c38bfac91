"""``run`` and ``plan``: the monthly rule over every chosen mailbox, through the runner.

Each mailbox is one unit of work with its own connection (see :mod:`.enforcement`); a
failing mailbox is retried with backoff and then reported, and never stops the others
(docs/behaviour.md §5.7). A run holds each mailbox's lease while it works there;
``plan`` runs the very same path with nothing applied, no lease and nothing recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog

from inboxwarden import __version__
from inboxwarden.config import Settings
from inboxwarden.mailbox.enforcement import INBOX, Enforcement, MailboxOutcome
from inboxwarden.mailbox.runner import Ending, MailboxRunner, Visit
from inboxwarden.policy.cycle import Window
from inboxwarden.policy.matching import RuleBook
from inboxwarden.policy.people import Employee, Mode
from inboxwarden.policy.scan_marks import ScanMark
from inboxwarden.state import StateStore

__all__ = ["RunSummary", "ScanJob", "plan_settings", "run_scan"]

log = structlog.get_logger(__name__)


@dataclass
class RunSummary:
    """The outcome of one run over all chosen mailboxes."""

    run_id: str | None
    window: Window
    """The cycle as the run saw it."""
    outcomes: list[MailboxOutcome]

    @property
    def now(self) -> datetime:
        """The time the run acted as of, in the cycle's zone."""
        return self.window.now

    @property
    def boundary(self) -> datetime:
        """The cycle's boundary as of the run."""
        return self.window.boundary

    @property
    def enforcement_date(self) -> datetime:
        """The enforcement date of that boundary."""
        return self.window.enforcement_date

    @property
    def failed(self) -> list[MailboxOutcome]:
        """The mailboxes that failed, or where the server refused part of the work."""
        return [o for o in self.outcomes if o.status in ("failed", "partial")]

    @property
    def busy(self) -> list[MailboxOutcome]:
        """The mailboxes skipped because another process was working on them."""
        return [o for o in self.outcomes if o.status == "busy"]


@dataclass(frozen=True)
class ScanJob:
    """The scan as a :class:`~.runner.MailboxJob`: enforce (or plan) in one mailbox."""

    enforcement: Enforcement
    event: str = "mailbox"
    retries: bool = True

    def start(self, entry: Employee, mode: Mode) -> MailboxOutcome:
        return MailboxOutcome(entry.email, mode)

    def work(self, visit: Visit, outcome: MailboxOutcome) -> MailboxOutcome:
        self.enforcement.mailbox(visit, outcome)
        return outcome

    def finish(self, visit: Visit, outcome: MailboxOutcome, ending: Ending) -> MailboxOutcome:
        outcome.status, outcome.error = ending.status, ending.error_name
        if ending.status == "stopped":
            outcome.error = None
        if ending.status == "ok" and outcome.applied.refused:
            # The server refused part of the work: not a success (exit code 1).
            outcome.status, outcome.error = "partial", "refused"
        run_id = self.enforcement.run_id
        if not ending.started and ending.status == "stopped":
            return outcome  # never begun: nothing to record
        if run_id is not None and ending.started and ending.status in ("stopped", "failed"):
            # The counts of an attempt cut short never reached the outcome; the audit
            # trail has one event per message that left, committed with its journal entry.
            left = self.enforcement.state.left_in_run(run_id, visit.entry.email)
            applied = outcome.applied
            applied.moved = max(applied.moved, left.get("move", 0))
            applied.deleted = max(applied.deleted, left.get("delete", 0) + left.get("purge", 0))
        if run_id is not None:
            self.enforcement.state.record_mailbox(
                run_id,
                visit.entry.email,
                mode=outcome.mode,
                status=outcome.status,
                counts=outcome.counts(),
                error=outcome.error,
            )
        if ending.started:
            outcome.attempts = ending.attempts
            log.info("mailbox_done", status=outcome.status, mode=outcome.mode, **outcome.counts())
        return outcome


def plan_settings(settings: Settings) -> str:
    """The settings a plan depends on, with the program's version (a new release may
    plan differently), as one text for the scan marks' keyed digest."""
    relevant = {"organisation", "cycle", "flag", "domain_groups", "rules", "default_rule"}
    return __version__ + settings.model_dump_json(include=relevant)


def run_scan(
    runner: MailboxRunner, window: Window, *, only: str | None = None, dry: bool = False
) -> RunSummary:
    """Enforce the rule in every chosen mailbox as of *window*; *dry* (``plan``) writes
    nothing anywhere."""
    settings, state = runner.settings, runner.state
    employees = runner.chosen(only)
    rules = RuleBook.compile(settings.all_rules, settings.domain_groups)
    run_id = None if dry else state.start_run("run", window.now)
    log.info("run_started", run_id=run_id, mailboxes=len(employees), dry=dry)
    enforcement = Enforcement(
        window,
        rules,
        settings.flag.keyword,
        settings.flag.also_flagged,
        frozenset(r.name for r in settings.all_rules if r.folder_names_are_personal),
        state,
        runner.referencer,
        run_id,
        plan_settings=plan_settings(settings),
        min_age_days=settings.cycle.min_age_days,
        marks=None if dry else _marks_at_start(state, employees),
    )
    outcomes = runner.each(ScanJob(enforcement), employees, run_id=run_id, leases=not dry)
    summary = RunSummary(run_id, window, outcomes)
    if run_id is not None:
        failed = len(summary.failed)
        state.finish_run(run_id, ok=len(outcomes) - failed, failed=failed)
    log.info(
        "run_finished",
        run_id=run_id,
        mailboxes=len(outcomes),
        failed=len(summary.failed),
        moved=sum(o.applied.moved for o in outcomes),
        deleted=sum(o.applied.deleted for o in outcomes),
    )
    return summary


def _marks_at_start(state: StateStore, employees: Sequence[Employee]) -> dict[str, ScanMark | None]:
    """Every chosen mailbox's INBOX mark, in a few queries instead of one per mailbox."""
    emails = [e.email for e in employees]
    found = state.scan_marks_of(emails, INBOX)
    return {email: found.get(email) for email in emails}
