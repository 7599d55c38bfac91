"""Sends the employee digests: plan, fetch the listed headers, render, deliver, audit.

The imperative shell around :mod:`.digest`. The due messages come from the scan's own
``plan`` path (``run_scan(dry=True)``), so the digest lists exactly what a run would
act on. Delivery is then a second job through the same mailbox runner, with a second
session per mailbox: it needs From and Subject (which the scan only fetches when a
rule reads them), and it writes, which the read-only plan session must not. That is
two logins per mailbox twice a month, a fair price for keeping the plan code path the
one and only. Delivery is not retried: a digest handed to the relay cannot be taken
back, and the next tick sends what is still due.

One failing mailbox never stops the others (docs/behaviour.md §5.7): it is reported in its
:class:`DigestOutcome`, and the scheduler's next tick (see :func:`.digest.digest_due`)
tries again. Logs and audit events carry counts and HMAC references, never a subject
or an address other than the mailbox's own.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Literal
from zoneinfo import ZoneInfo

import structlog

from inboxwarden.config import Settings
from inboxwarden.errors import DeliveryError, MailboxError
from inboxwarden.imap.session import ImapSession
from inboxwarden.mailbox.enforcement import MailboxOutcome
from inboxwarden.mailbox.runner import Ending, MailboxRunner, Visit
from inboxwarden.mailbox.scan_job import run_scan
from inboxwarden.policy.cycle import Window
from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.people import Employee, Language, Mode
from inboxwarden.policy.planning import Decision
from inboxwarden.policy.references import Referencer
from inboxwarden.reports.digest import Digest, DigestKind, build_digest, listed_uids
from inboxwarden.reports.inbox import INBOX, find_old_digests, place_digest
from inboxwarden.reports.marker import HEADER, new_marker
from inboxwarden.reports.mime import build_message, message_bytes, message_id
from inboxwarden.reports.smtp import SmtpEndpoint, send
from inboxwarden.reports.templating import Formatter, Rendered, Templates
from inboxwarden.state import AuditEvent, StateStore

__all__ = [
    "DigestJob",
    "DigestOutcome",
    "DigestStatus",
    "digest_table",
    "render_digest",
    "send_digests",
]

log = structlog.get_logger(__name__)

DigestStatus = Literal["sent", "nothing_due", "skipped", "failed", "stopped"]


@dataclass
class DigestOutcome:
    """What happened to one mailbox's digest; what ``inboxwarden digest`` prints."""

    mailbox: str
    status: DigestStatus
    kind: DigestKind | None = None
    due: int = 0
    delivery: str | None = None
    replaced: int = 0
    left: int = 0
    """Older digests still in the INBOX because the server could not remove them."""
    why_left: str | None = None
    error: str | None = None
    message: EmailMessage | None = field(default=None, repr=False)
    """The digest itself, only when asked for (the demo saves it); it holds subjects."""


def render_digest(digest: Digest, templates: Templates, tz: ZoneInfo) -> Rendered:
    """Subject, text and HTML of *digest*; templates see ``digest`` and ``fmt``."""
    fmt = Formatter(digest.language, tz)
    return templates.render("digest", digest.language, digest=digest, fmt=fmt)


def send_digests(
    runner: MailboxRunner,
    window: Window,
    only: str | None = None,
    *,
    smtp: SmtpEndpoint | None = None,
    keep_messages: bool = False,
) -> list[DigestOutcome]:
    """Send each chosen mailbox its digest as of *window*; one outcome per mailbox.

    Mailboxes in ``observe`` mode get nothing (no write may reach them, docs/behaviour.md
    §4), nor do mailboxes with nothing due. *smtp* overrides the relay of ``[smtp]`` when
    ``digest.delivery = "smtp"``; *keep_messages* keeps each digest in its outcome.
    """
    settings = runner.settings
    templates = Templates(settings.digest.templates_dir)
    if settings.digest.delivery == "smtp" and smtp is None:
        smtp = SmtpEndpoint.from_settings(settings.smtp)
    summary = run_scan(runner, window, only=only, dry=True)
    planned = {o.mailbox: o for o in summary.outcomes}
    entries = [e for e in runner.chosen(only) if e.email in planned]
    run_id = runner.state.start_run("digest", window.now)
    job = DigestJob(
        settings,
        runner.state,
        runner.referencer,
        window,
        run_id,
        templates,
        smtp,
        planned,
        keep_messages=keep_messages,
    )
    outcomes = runner.each(job, entries, run_id=run_id)
    failed = sum(o.status == "failed" for o in outcomes)
    runner.state.finish_run(run_id, ok=len(outcomes) - failed, failed=failed)
    log.info(
        "digests_finished",
        run_id=run_id,
        mailboxes=len(outcomes),
        sent=sum(o.status == "sent" for o in outcomes),
        failed=failed,
    )
    return outcomes


@dataclass(frozen=True)
class DigestJob:
    """Delivery as a :class:`~inboxwarden.mailbox.runner.MailboxJob`: one digest per mailbox."""

    settings: Settings
    state: StateStore
    referencer: Referencer
    window: Window
    run_id: str
    templates: Templates
    smtp: SmtpEndpoint | None
    planned: dict[str, MailboxOutcome]
    """What the plan found in each mailbox, by address."""
    keep_messages: bool = False
    event: str = "digest"
    retries: bool = False

    def start(self, entry: Employee, mode: Mode) -> DigestOutcome:
        return DigestOutcome(entry.email, "stopped")

    def work(self, visit: Visit, outcome: DigestOutcome) -> DigestOutcome:
        return self._one(visit, self.planned[visit.entry.email])

    def finish(self, visit: Visit, outcome: DigestOutcome, ending: Ending) -> DigestOutcome:
        exc = ending.error
        if ending.status == "stopped":
            outcome = DigestOutcome(visit.entry.email, "stopped")
        elif ending.status != "ok":
            error = ending.error_name
            if isinstance(exc, (MailboxError, DeliveryError)):
                # The table shows the reason ("cannot reach the SMTP relay: …"), not only a class.
                error = f"{type(exc).__name__}: {exc}"
            outcome = DigestOutcome(visit.entry.email, "failed", error=error)
        log.info(
            "digest_done",
            status=outcome.status,
            kind=outcome.kind,
            due=outcome.due,
            delivery=outcome.delivery,
            replaced=outcome.replaced,
        )
        return outcome

    def _one(self, visit: Visit, planned: MailboxOutcome) -> DigestOutcome:
        entry = visit.entry
        if planned.status != "ok" or planned.plan is None:
            return DigestOutcome(entry.email, "failed", error=planned.error or "plan failed")
        if planned.mode == "observe":
            return DigestOutcome(entry.email, "skipped")
        # What the server will not let us do is not announced as going to happen: the
        # employee reads it as a message to deal with themselves (like ``report``).
        decisions = [
            dataclasses.replace(d, action="report", target=None) if d.blocked else d
            for d in planned.plan.decisions
            if d.action != "keep"
        ]
        if not decisions:
            return DigestOutcome(entry.email, "nothing_due")
        imap = self.settings.digest.delivery == "imap"
        referencer = self.referencer
        with visit.open_session() as session:
            session.select(INBOX, readonly=True)
            digest, message = self._compose(entry, planned, decisions, session)
            ref = referencer.ref_of(message_id(message))
            events = [AuditEvent("digest", ref, folder=INBOX if imap else None)]
            replaced, left, why_left = 0, 0, None
            if imap:
                old = find_old_digests(session, referencer, entry.email)
                placed = place_digest(
                    session,
                    message_bytes(message),
                    self.window.now,
                    old=old,
                    # Legal hold: nothing is ever deleted there, not even ours
                    # (docs/behaviour.md §5.5).
                    remove_old=not entry.legal_hold,
                )
                events += [
                    AuditEvent(
                        "digest_remove",
                        referencer.ref_of(d.message_id) if d.message_id else None,
                        folder=INBOX,
                        target=placed.trash,
                    )
                    for d in placed.removed
                ]
                replaced = len(placed.removed)
                if placed.why_left is not None:
                    left, why_left = len(placed.left), placed.why_left
        if not imap:
            if self.smtp is None:
                raise DeliveryError("digest.delivery is smtp but no relay is configured")
            send(self.smtp, message)
        self.state.audit(self.run_id, entry.email, events)
        # What `serve` asks before sending again (see .digest.digest_due).
        self.state.record_digest(entry.email, digest.kind, self.window.now)
        return DigestOutcome(
            entry.email,
            "sent",
            kind=digest.kind,
            due=digest.total,
            delivery="imap" if imap else "smtp",
            replaced=replaced,
            left=left,
            why_left=why_left,
            message=message if self.keep_messages else None,
        )

    def _compose(
        self,
        entry: Employee,
        planned: MailboxOutcome,
        decisions: list[Decision],
        session: ImapSession,
    ) -> tuple[Digest, EmailMessage]:
        settings = self.settings
        language: Language = entry.language or settings.organisation.language
        digest = build_digest(
            decisions,
            mailbox=entry.email,
            language=language,
            mode=planned.mode,
            window=self.window,
            organisation=settings.organisation.name,
            policy_url=settings.organisation.policy_url,
            headers=_fetch_senders(session, decisions),
        )
        message = build_message(
            render_digest(digest, self.templates, self.window.timezone),
            sender=settings.digest.from_,
            to=entry.email,
            now=self.window.now,
            language=language,
            headers={HEADER: new_marker(self.referencer, entry.email)},
        )
        return digest, message


def _fetch_senders(session: ImapSession, decisions: list[Decision]) -> dict[int, MessageInfo]:
    """From and Subject of the messages the digest lists, checked to be the same messages.

    The plan was made in another session a moment ago; a UID that now names a message
    with another arrival time or size (the folder was recreated) is not used, and the
    digest falls back to what the plan itself fetched.
    """
    planned = {d.message.uid: d.message for d in decisions}
    found: dict[int, MessageInfo] = {}
    wanted = listed_uids(decisions)
    for item in session.fetch_messages(sorted(wanted), header_fields=["from", "subject"]):
        if isinstance(item, int):
            continue
        before = planned.get(item.uid)
        if before is not None and (item.internaldate, item.size) == (
            before.internaldate,
            before.size,
        ):
            found[item.uid] = item
    return found


def digest_table(outcomes: list[DigestOutcome]) -> str:
    """``inboxwarden digest``: one line per mailbox, then how many were sent."""
    lines = []
    width = max((len(o.mailbox) for o in outcomes), default=7)
    for o in outcomes:
        if o.status == "sent":
            extra = f", replaced {o.replaced} older" if o.replaced else ""
            detail = f"sent ({o.kind}, {o.due} due, by {o.delivery}{extra})"
            if o.left:
                detail += f"; {o.left} older digest(s) NOT removed: {o.why_left}"
        elif o.status == "failed":
            detail = f"FAILED ({o.error})"
        elif o.status == "skipped":
            detail = "skipped (observe mode)"
        elif o.status == "stopped":
            detail = "not sent (the service was stopping)"
        else:
            detail = "nothing due"
        lines.append(f"{o.mailbox.ljust(width)}  {detail}")
    sent = sum(o.status == "sent" for o in outcomes)
    failed = sum(o.status == "failed" for o in outcomes)
    lines.append("")
    lines.append(f"{sent} digest(s) sent, {failed} failed, {len(outcomes) - sent - failed} idle.")
    return "\n".join(lines) + "\n"
