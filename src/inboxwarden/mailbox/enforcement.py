"""The monthly rule in one mailbox: connect, scan, plan, apply, remember.

The imperative shell around the pure policy code, for one mailbox in one connection;
:mod:`.scan_job` runs it over every mailbox through the :mod:`.runner`. ``plan`` runs
the very same path with nothing applied.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import structlog

from inboxwarden.errors import FolderError
from inboxwarden.imap.session import ImapSession
from inboxwarden.mailbox.actions import Applied, SelectedFolder, apply_batches, apply_flags
from inboxwarden.mailbox.inbox_scan import scan_inbox
from inboxwarden.mailbox.recovery import recover_transfers
from inboxwarden.mailbox.runner import Visit
from inboxwarden.policy.cycle import Window
from inboxwarden.policy.folder_naming import name_characters
from inboxwarden.policy.matching import RuleBook
from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.people import Mode
from inboxwarden.policy.planning import (
    MailboxFacts,
    MailboxPlan,
    plan_mailbox,
    recorded_target,
    withhold,
)
from inboxwarden.policy.references import Referencer
from inboxwarden.state import StateStore

__all__ = ["INBOX", "Enforcement", "MailboxOutcome", "find_trash", "target_refusals"]

log = structlog.get_logger(__name__)
INBOX = "INBOX"


@dataclass
class MailboxOutcome:
    """What happened in one mailbox during a run."""

    mailbox: str
    mode: Mode
    status: str = "ok"
    error: str | None = None
    plan: MailboxPlan | None = None
    applied: Applied = field(default_factory=Applied)
    skipped: int = 0
    attempts: int = 0
    commands: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        """Add the wall time spent in *phase* (connect, scan, plan, apply) to the timings."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[phase] = self.timings.get(phase, 0.0) + time.perf_counter() - start

    def counts(self) -> dict[str, int]:
        """The numbers stored per run and printed in the summary; no message details."""
        p, a = self.plan, self.applied
        return {
            "inbox": p.inbox if p else 0,
            "due": p.due if p else 0,
            "overdue": p.overdue if p else 0,
            "held": p.held if p else 0,
            "flagged": a.flagged,
            "unflagged": a.unflagged,
            "moved": a.moved,
            "deleted": a.deleted,
            "vanished": a.vanished,
            "refused": a.refused,
            "recovered": a.recovered,
            "given_back": a.given_back,
            "skipped": self.skipped,
            "imap_commands": self.commands,
            **{f"{phase}_ms": round(seconds * 1000) for phase, seconds in self.timings.items()},
        }


@dataclass(frozen=True)
class Enforcement:
    """What enforcing the rule in any one mailbox of a run needs, fixed for the run."""

    window: Window
    """The cycle as the run sees it, computed once for every mailbox."""
    rules: RuleBook
    keyword: str
    also_flagged: bool
    personal: frozenset[str]
    """The rules whose folder names are personal data (recorded as HMACs)."""
    state: StateStore
    referencer: Referencer
    run_id: str | None
    """None for ``plan``, which writes nothing anywhere."""

    def mailbox(self, visit: Visit, outcome: MailboxOutcome) -> None:
        """Scan, plan and (in a run) apply in *visit*'s mailbox, into *outcome*."""
        entry, dry = visit.entry, self.run_id is None
        writes = not dry and outcome.mode != "observe"
        with outcome.timed("connect"):
            session = visit.open_session()
        with session:
            with outcome.timed("select"):
                trash, no_trash = find_trash(session, create=writes)
                folder = session.select(INBOX, readonly=not writes)
            if not dry and self.state.check_uidvalidity(entry.email, INBOX, folder.uidvalidity):
                log.warning("uidvalidity_changed", folder=INBOX)
            selected = SelectedFolder(
                session,
                self.state,
                self.run_id or "plan",
                entry.email,
                INBOX,
                folder.uidvalidity,
                self.referencer,
                visit.checkpoint,
            )
            applied = Applied()
            if writes:
                with outcome.timed("recover"):
                    applied = recover_transfers(selected)
                    if applied.recovered or applied.given_back:
                        folder = session.select(INBOX, readonly=False)
            records = self.state.flag_records(entry.email, INBOX, folder.uidvalidity)
            with outcome.timed("scan"):
                scan = scan_inbox(
                    session,
                    window=self.window,
                    rules=self.rules,
                    keyword=self.keyword if folder.keywords_allowed else None,
                    known_uids=records,
                    batch_size=session.batch_size,
                )
            with outcome.timed("plan"):
                namespace = session.namespace()
                characters = name_characters(scan.messages, self.rules)
                facts = MailboxFacts(
                    namespace.separator,
                    folder.keywords_allowed,
                    trash,
                    prefix=namespace.prefix,
                    refused=session.refused_characters(characters),
                    no_trash_reason=no_trash,
                )
                plan = plan_mailbox(
                    entry,
                    scan.messages,
                    mode=outcome.mode,
                    records=records,
                    inbox_uids=scan.uids,
                    inbox_count=folder.exists,
                    window=self.window,
                    rules=self.rules,
                    facts=facts,
                    keyword=self.keyword,
                    also_flagged=self.also_flagged,
                )
                withhold(plan, target_refusals(session, plan.targets))
            outcome.plan, outcome.skipped = plan, scan.skipped
            if writes:
                self._apply(selected, plan, scan.messages, applied, outcome)
            outcome.applied = applied
            outcome.commands = session.commands

    def _apply(
        self,
        selected: SelectedFolder,
        plan: MailboxPlan,
        messages: list[MessageInfo],
        applied: Applied,
        outcome: MailboxOutcome,
    ) -> None:
        with outcome.timed("apply"):
            by_uid = {m.uid: m for m in messages}
            flagged = apply_flags(selected, plan, by_uid, self.keyword)
            applied.flagged, applied.unflagged = flagged.flagged, flagged.unflagged
            if plan.mode == "enforce":
                moved = apply_batches(
                    selected, plan, by_uid, self.keyword, batch_size=selected.session.batch_size
                )
                for name in ("moved", "deleted", "vanished", "refused", "given_back", "audited"):
                    setattr(applied, name, getattr(applied, name) + getattr(moved, name))
                applied.reasons += moved.reasons
                # What the plan already knew the server would refuse was not attempted.
                for withheld in plan.withheld:
                    applied.refused += len(withheld.uids)
                    shown = recorded_target(
                        withheld.target, withheld.rule in self.personal, self.referencer
                    )
                    applied.reasons.append(f"{shown or 'Trash'}: {withheld.reason}")


def find_trash(session: ImapSession, *, create: bool) -> tuple[str | None, str]:
    """The trash folder, and why there is none when there is none.

    A missing trash is created where this run may write (``notify`` and ``enforce``
    runs, before any delete is due); otherwise the name it would get is returned when
    the server would allow it, so ``plan`` shows what a run will do.
    """
    found = session.special_folder("\\Trash")
    if found is not None:
        return found, ""
    if create:
        try:
            return session.ensure_trash(), ""
        except FolderError as exc:
            log.warning("trash_not_created", reason=str(exc))
            return None, f"no Trash folder: {exc}"
    name = f"{session.namespace().prefix}Trash"
    code = session.refusal(name)
    if code is not None:
        return None, f"no Trash folder, and the server refuses to create one [{code}]"
    return name, ""


def target_refusals(session: ImapSession, targets: list[str]) -> dict[str, str]:
    """The target folders the server would refuse, each with the response code that says
    so; all of them where the server can neither MOVE nor COPY + UID EXPUNGE."""
    if not (session.has("MOVE") or session.has("UIDPLUS")):
        return dict.fromkeys(targets, "the server has neither MOVE nor UIDPLUS")
    refusals: dict[str, str] = {}
    for target in targets:
        code = session.refusal(target)
        if code is not None:
            refusals[target] = f"the server refuses this folder [{code}]"
    return refusals
