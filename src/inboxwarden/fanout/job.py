"""``inboxwarden fanout``: scan every chosen mailbox, store and list the findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from inboxwarden.config import FanoutSettings
from inboxwarden.fanout.analysis import Finding, Thresholds
from inboxwarden.fanout.folder_scan import FolderScan, scan_folders
from inboxwarden.mailbox.runner import Ending, MailboxRunner, Visit
from inboxwarden.policy.people import Employee, Mode
from inboxwarden.policy.references import Referencer
from inboxwarden.state import StateStore

__all__ = ["FanoutJob", "FanoutOutcome", "fanout_json", "fanout_table", "run_fanout"]

log = structlog.get_logger(__name__)


@dataclass
class FanoutOutcome:
    """One mailbox's fan-out scan."""

    mailbox: str
    status: str = "ok"
    error: str | None = None
    folders: list[FolderScan] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        """Every finding in every scanned folder."""
        return [f for folder in self.folders for f in folder.findings]


def run_fanout(
    runner: MailboxRunner, now: datetime, *, only: str | None = None, since: datetime | None = None
) -> list[FanoutOutcome]:
    """Scan the configured folders of each chosen mailbox and store new findings."""
    settings = runner.settings
    fanout = settings.fanout
    job = FanoutJob(
        fanout,
        since or now - timedelta(days=fanout.window_days),
        tuple(settings.organisation.domains),
        runner.referencer,
        runner.state,
    )
    return runner.each(job, runner.chosen(only))


@dataclass(frozen=True)
class FanoutJob:
    """The fan-out scan as a :class:`~inboxwarden.mailbox.runner.MailboxJob`.

    Read-only on the server, and findings are stored once per message, so a transient
    failure is retried like the scan's.
    """

    settings: FanoutSettings
    since: datetime
    domains: tuple[str, ...]
    referencer: Referencer
    state: StateStore
    event: str = "fanout"
    retries: bool = True

    def start(self, entry: Employee, mode: Mode) -> FanoutOutcome:
        return FanoutOutcome(entry.email)

    def work(self, visit: Visit, outcome: FanoutOutcome) -> FanoutOutcome:
        settings, email = self.settings, visit.entry.email
        with visit.open_session() as session:
            folders = scan_folders(
                session,
                mailbox=email,
                folders=list(settings.folders),
                since=self.since,
                domains=list(self.domains),
                thresholds=Thresholds(settings.max_cc, settings.max_recipients),
                referencer=self.referencer,
                checkpoint=visit.checkpoint,
            )
        outcome = FanoutOutcome(email, folders=folders)
        self.state.save_findings(
            {
                "mailbox": f.mailbox,
                "folder": f.folder,
                "ref": f.ref,
                "message_date": f.date,
                "recipients": f.recipients,
                "cc": f.cc,
                "external": f.external,
                "kinds": [k.value for k in f.kinds],
                "severity": f.severity,
            }
            for f in outcome.findings
        )
        log.info("fanout_done", findings=len(outcome.findings))
        return outcome

    def finish(self, visit: Visit, outcome: FanoutOutcome, ending: Ending) -> FanoutOutcome:
        if ending.status != "ok":
            outcome.status, outcome.error = ending.status, ending.error_name
        return outcome


def fanout_json(outcomes: list[FanoutOutcome]) -> dict[str, object]:
    """``fanout --format json``: ``{"findings": [...]}`` as docs/behaviour.md §13 gives it."""
    return {"findings": [f.as_json() for o in outcomes for f in o.findings]}


def fanout_table(outcomes: list[FanoutOutcome]) -> str:
    """``fanout``: per mailbox, the folders scanned, then one line per finding."""
    lines = []
    for o in outcomes:
        if o.status == "stopped":
            lines.append(f"{o.mailbox}: not scanned (the service was stopping)")
            continue
        if o.status != "ok":
            lines.append(f"{o.mailbox}: FAILED ({o.error})")
            continue
        scanned = ", ".join(
            f"{f.folder} {f.messages} messages, {f.candidates} over the thresholds"
            + (f", {f.unreadable} could not be read" if f.unreadable else "")
            for f in o.folders
        )
        lines.append(f"{o.mailbox}: {len(o.findings)} findings ({scanned or 'no folders'})")
        for f in sorted(o.findings, key=lambda f: f.date):
            kinds = ",".join(sorted(k.value for k in f.kinds))
            lines.append(
                f"    {f.date:%Y-%m-%d %H:%M}  {f.severity:<6}  {f.folder:<12}  "
                f"recipients {f.recipients:>3}  cc {f.cc:>3}  external {f.external:>3}  "
                f"{kinds}  {f.ref}"
            )
    return "\n".join(lines) + "\n"
