"""``inboxwarden fanout``: scan every chosen mailbox, store and list the findings."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from inboxwarden.errors import MailboxError
from inboxwarden.fanout.analysis import Finding, Thresholds
from inboxwarden.fanout.folder_scan import FolderScan, scan_folders
from inboxwarden.mailbox.engine import Engine
from inboxwarden.policy.people import Employee

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
    engine: Engine, now: datetime, *, only: str | None = None, since: datetime | None = None
) -> list[FanoutOutcome]:
    """Scan the configured folders of each chosen mailbox and store new findings."""
    settings = engine.settings.fanout
    start = since or now - timedelta(days=settings.window_days)
    thresholds = Thresholds(settings.max_cc, settings.max_recipients)
    employees = engine.chosen(only)

    def one(entry: Employee) -> FanoutOutcome:
        structlog.contextvars.bind_contextvars(mailbox=entry.email)
        outcome = FanoutOutcome(entry.email)
        try:
            with engine.open_session(entry) as session:
                outcome.folders = scan_folders(
                    session,
                    mailbox=entry.email,
                    folders=list(settings.folders),
                    since=start,
                    domains=list(engine.settings.organisation.domains),
                    thresholds=thresholds,
                    referencer=engine.referencer,
                )
        except MailboxError as exc:
            outcome.status, outcome.error = "failed", type(exc).__name__
            log.warning("fanout_failed", error=type(exc).__name__)
            return outcome
        engine.state.save_findings(
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
        structlog.contextvars.clear_contextvars()
        return outcome

    workers = max(1, min(engine.settings.imap.max_connections, len(employees)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fanout") as pool:
        return list(pool.map(one, employees))


def fanout_json(outcomes: list[FanoutOutcome]) -> dict[str, object]:
    """``fanout --format json``: ``{"findings": [...]}`` as docs/behaviour.md §13 gives it."""
    return {"findings": [f.as_json() for o in outcomes for f in o.findings]}


def fanout_table(outcomes: list[FanoutOutcome]) -> str:
    """``fanout``: per mailbox, the folders scanned, then one line per finding."""
    lines = []
    for o in outcomes:
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
