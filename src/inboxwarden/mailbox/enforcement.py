"""The monthly rule in one mailbox: connect, scan, plan, apply, remember.

The imperative shell around the pure policy code, for one mailbox in one connection;
:mod:`.scan_job` runs it over every mailbox through the :mod:`.runner`. ``plan`` runs
the very same path with nothing applied.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import structlog

from inboxwarden.errors import FolderError, ServerError
from inboxwarden.imap.server_facts import FolderState
from inboxwarden.imap.session import ImapSession
from inboxwarden.mailbox.actions import apply_batches, apply_flags
from inboxwarden.mailbox.inbox_scan import ScanResult, add_personal_data, arriving
from inboxwarden.mailbox.recovery import recover_transfers
from inboxwarden.mailbox.runner import Visit
from inboxwarden.mailbox.selected import Applied, SelectedFolder
from inboxwarden.policy.cycle import Window
from inboxwarden.policy.folder_naming import name_characters
from inboxwarden.policy.matching import RuleBook
from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.people import Employee, Mode
from inboxwarden.policy.planning import (
    FlagRecord,
    MailboxFacts,
    MailboxPlan,
    forgettable,
    plan_mailbox,
    recorded_target,
    withhold,
)
from inboxwarden.policy.references import Referencer
from inboxwarden.policy.scan_marks import (
    Arrival,
    ScanMark,
    after_changes,
    changes_leave_the_conclusion,
    describes,
    nothing_to_write,
    settings_key,
    window_key,
)
from inboxwarden.state import StateStore

__all__ = [
    "INBOX",
    "Enforcement",
    "MailboxOutcome",
    "Replanner",
    "counts_only",
    "find_trash",
    "target_refusals",
]

log = structlog.get_logger(__name__)
INBOX = "INBOX"
#: Plans the INBOX from (messages, flag records, UIDs present or None, message count).
Replanner = Callable[
    [Iterable[MessageInfo], Mapping[int, FlagRecord], Sequence[int] | None, int], MailboxPlan
]


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
    #: The last scan's conclusion still held (see inboxwarden.policy.scan_marks): the
    #: INBOX was not read again.
    unchanged: bool = False

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
            "unchanged": int(self.unchanged),
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
    plan_settings: str
    """The settings a plan depends on, as text, for the scan marks' keyed digest."""
    min_age_days: int
    """``cycle.min_age_days``: whether which mail is due moves with the clock."""
    marks: dict[str, ScanMark | None] | None = None
    """Each mailbox's INBOX mark (or None), read as the run started (see
    :meth:`_mark_of`); without it, each is read from the state when its turn comes."""

    def mailbox(self, visit: Visit, outcome: MailboxOutcome) -> None:
        """Scan, plan and (in a run) apply in *visit*'s mailbox, into *outcome*."""
        entry, dry = visit.entry, self.run_id is None
        writes = not dry and outcome.mode != "observe"
        with outcome.timed("connect"):
            session = visit.open_session()
        with session:
            with outcome.timed("select"):
                folder = session.select(INBOX, readonly=not writes)
                # Incremental scans need a mark to keep: not for ``plan``, which lists
                # every decision, and only where the server reports HIGHESTMODSEQ.
                marking = not dry and folder.highestmodseq is not None
                mark = self._mark_of(entry.email) if marking else None
                key = settings_key(
                    self.referencer,
                    settings_json=self.plan_settings,
                    employee=entry,
                    mode=outcome.mode,
                    keywords_allowed=folder.keywords_allowed,
                )
                rules = [compiled.rule for compiled in self.rules.rules]
                window = window_key(self.window, self.min_age_days, rules)
                current = self._reusable(session, folder, mark, window, key)
                if current is not None:
                    if current != mark:
                        self.state.save_scan_mark(entry.email, INBOX, current)
                    # Nothing changed since a scan that left nothing to do, or nothing
                    # that changed is due: the same plan, the same counts.
                    outcome.plan = MailboxPlan(
                        entry,
                        outcome.mode,
                        inbox=folder.exists,
                        due=current.due,
                        overdue=current.overdue,
                        held=current.held,
                    )
                    outcome.unchanged = True
                    outcome.commands = session.commands
                    return
                if mark is not None:
                    # It no longer describes the folder: gone before anything is written.
                    self.state.save_scan_mark(entry.email, INBOX, None)
                trash, no_trash = find_trash(session, create=writes)
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
            scan, plan, planned = self._scan_and_plan(
                session, folder, entry, outcome, records, (trash, no_trash)
            )
            outcome.plan, outcome.skipped = plan, scan.skipped
            if writes:
                self._apply(selected, plan, scan.messages, applied, outcome)
            outcome.applied = applied
            if not dry:
                # A run keeps every mailbox's outcome until it ends; the decisions hold
                # each message's headers, and only ``plan`` (and the digest) reads them.
                outcome.plan = counts_only(plan)
            if marking and not scan.skipped and not applied.refused and not applied.vanished:
                with outcome.timed("mark"):
                    concluded = self._conclude(
                        session,
                        folder,
                        plan,
                        scan.messages,
                        (window, key),
                        planned,
                        entry.email,
                        readonly=not writes,
                    )
                    if concluded is not None:
                        self.state.save_scan_mark(entry.email, INBOX, concluded)
            outcome.commands = session.commands

    def _scan_and_plan(
        self,
        session: ImapSession,
        folder: FolderState,
        entry: Employee,
        outcome: MailboxOutcome,
        records: Mapping[int, FlagRecord],
        trash: tuple[str | None, str],
    ) -> tuple[ScanResult, MailboxPlan, Replanner]:
        """Read the INBOX and plan it; also the planner, for `_conclude` to plan again.

        Where the rules read no message text, each message is planned as it arrives,
        while the server sends the next, under the folder-name characters of the rules'
        own text, probed first. Should a sender's address bring another character the
        server refuses, the INBOX is planned again once it is read.
        """
        namespace = session.namespace()

        def facts_for(characters: frozenset[str]) -> MailboxFacts:
            return MailboxFacts(
                namespace.separator,
                folder.keywords_allowed,
                trash[0],
                prefix=namespace.prefix,
                refused=session.refused_characters(characters),
                no_trash_reason=trash[1],
            )

        def planner(facts: MailboxFacts) -> Replanner:
            def planned(
                messages: Iterable[MessageInfo],
                records: Mapping[int, FlagRecord],
                inbox_uids: Sequence[int] | None,
                inbox_count: int,
            ) -> MailboxPlan:
                return plan_mailbox(
                    entry,
                    messages,
                    mode=outcome.mode,
                    records=records,
                    inbox_uids=inbox_uids,
                    inbox_count=inbox_count,
                    window=self.window,
                    rules=self.rules,
                    facts=facts,
                    keyword=self.keyword,
                    also_flagged=self.also_flagged,
                )

            return planned

        scan, early, plan = ScanResult(), None, None
        messages = arriving(
            session,
            scan,
            window=self.window,
            rules=self.rules,
            keyword=self.keyword if folder.keywords_allowed else None,
            known_uids=records,
            batch_size=session.batch_size,
        )
        with outcome.timed("scan"):
            if self.rules.needs_personal_data:
                for _ in messages:  # every message first: then the text of the due ones
                    pass
                add_personal_data(session, scan, self.window)
            else:
                early = facts_for(name_characters((), self.rules))
                plan = planner(early)(messages, records, None, folder.exists)
        with outcome.timed("plan"):
            facts = facts_for(name_characters(scan.messages, self.rules))
            if plan is not None and facts == early:
                plan.forget = forgettable(records, scan.uids)
            else:
                plan = planner(facts)(scan.messages, records, scan.uids, folder.exists)
            withhold(plan, target_refusals(session, plan.targets))
        return scan, plan, planner(facts)

    def _mark_of(self, mailbox: str) -> ScanMark | None:
        """*mailbox*'s INBOX mark: the one read as the run started, once; after that (a
        retry, whose first attempt may have forgotten the mark before writing) the
        state's. A mark read early is never staler than the server's HIGHESTMODSEQ
        can tell; a mark forgotten meanwhile must stay forgotten, so that a transfer
        left open by that attempt is recovered by the full path."""
        # A mailbox is one thread's at a time, so testing and popping its key is safe.
        if self.marks is not None and mailbox in self.marks:
            return self.marks.pop(mailbox)
        return self.state.scan_mark(mailbox, INBOX)

    def _reusable(
        self,
        session: ImapSession,
        folder: FolderState,
        mark: ScanMark | None,
        window: str,
        key: str,
    ) -> ScanMark | None:
        """The mark that describes the INBOX now, if the last scan's conclusion holds.

        The same HIGHESTMODSEQ: nothing changed. A higher one: one ``FETCH … (CHANGEDSINCE
        …)`` of flags and dates shows what did, and `changes_leave_the_conclusion` says
        whether the conclusion still stands (nothing due among the changes).
        """
        modseq = folder.highestmodseq
        if modseq is None or mark is None:
            return None
        if not describes(mark, uidvalidity=folder.uidvalidity, window=window, settings=key):
            return None
        if modseq == mark.modseq:
            return mark
        if modseq < mark.modseq:
            return None  # a folder restored from a backup, or a rebuilt index
        try:
            changed = session.changed_since(mark.modseq)
        except ServerError as exc:  # a server that advertises more than it does
            log.warning("changedsince_refused", reason=str(exc))
            return None
        arrivals = {uid: Arrival(flags, when) for uid, (flags, when) in changed.items()}
        if not changes_leave_the_conclusion(
            mark,
            exists=folder.exists,
            changed=arrivals,
            is_due=self.window.is_due,
            keyword=self.keyword,
        ):
            return None
        return dataclasses.replace(
            mark, modseq=modseq, uidnext=folder.uidnext, messages=folder.exists
        )

    def _conclude(
        self,
        session: ImapSession,
        folder: FolderState,
        plan: MailboxPlan,
        scanned: list[MessageInfo],
        keys: tuple[str, str],
        planned: Replanner,
        mailbox: str,
        *,
        readonly: bool,
    ) -> ScanMark | None:
        """The mark this scan leaves, if the folder is now in a state with nothing to do.

        A plan that wrote nothing holds at the HIGHESTMODSEQ the SELECT reported (any
        later change raises it). After writes, one ``SELECT … (QRESYNC …)`` tells exactly
        what changed since that SELECT, our writes and anybody else's, at a HIGHESTMODSEQ
        consistent with it; the scanned messages brought up to date are planned again,
        and only when that plan has nothing to do either is the conclusion kept.
        """
        modseq = folder.highestmodseq
        if modseq is None or plan.withheld:
            return None
        if nothing_to_write(plan):
            return _mark(folder, modseq, keys, plan)
        if readonly or not session.qresync:
            return None  # the next scan, with nothing to write, leaves the mark
        try:
            resync = session.resync(
                INBOX, uidvalidity=folder.uidvalidity, modseq=modseq, readonly=readonly
            )
        except (ServerError, FolderError) as exc:  # no conclusion; the next scan is full
            log.warning("resync_refused", reason=str(exc))
            return None
        now = resync.folder
        if now.uidvalidity != folder.uidvalidity or now.highestmodseq is None:
            return None
        current = after_changes(scanned, resync.gone, resync.changed)
        if current is None:
            return None
        records = self.state.flag_records(mailbox, INBOX, folder.uidvalidity)
        again = planned(current, records, [m.uid for m in current], now.exists)
        if not nothing_to_write(again):
            return None
        return _mark(now, now.highestmodseq, keys, again)

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


def _mark(folder: FolderState, modseq: int, keys: tuple[str, str], plan: MailboxPlan) -> ScanMark:
    """The conclusion of *plan* about *folder* as it was at *modseq*."""
    window, key = keys
    return ScanMark(
        folder.uidvalidity,
        modseq,
        folder.uidnext,
        folder.exists,
        window,
        key,
        plan.due,
        plan.overdue,
        plan.held,
    )


def counts_only(plan: MailboxPlan) -> MailboxPlan:
    """*plan*'s counts, without the decisions and batches that reference the messages."""
    return MailboxPlan(
        plan.employee,
        plan.mode,
        inbox=plan.inbox,
        due=plan.due,
        overdue=plan.overdue,
        held=plan.held,
        user_deleted=plan.user_deleted,
    )


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
