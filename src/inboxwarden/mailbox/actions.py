"""Applies a mailbox plan to the server, keeping the safety invariants (docs/behaviour.md §5).

A message leaves the INBOX only by ``UID MOVE`` (RFC 6851), or by ``UID COPY`` with a
verified ``COPYUID``, ``UID STORE +FLAGS (\\Deleted)`` and ``UID EXPUNGE`` of exactly the
copied UIDs (RFC 4315). Each of these commands is journalled in the state before it is
sent, with the references of its messages; the server's COPYUID is journalled before
the next command. An original is expunged only when one distinct copy is proven for it,
and its audit event is written in the same transaction that closes the journal entry.
:mod:`inboxwarden.mailbox.recovery` finishes what a crash or a cut connection left open.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import structlog

from inboxwarden.errors import FolderError, MissingCapability, PolicyError, ServerError
from inboxwarden.imap import uidset
from inboxwarden.mailbox.copies import is_deleted, settle_copies
from inboxwarden.mailbox.selected import Applied, SelectedFolder
from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.planning import DELETED, FLAGGED, Batch, MailboxPlan, recorded_target
from inboxwarden.state import AuditEvent

__all__ = ["apply_batches", "apply_flags"]

log = structlog.get_logger(__name__)


def apply_flags(
    t: SelectedFolder, plan: MailboxPlan, by_uid: dict[int, MessageInfo], keyword: str
) -> Applied:
    """Set and clear flags as planned, remembering which ones inboxwarden set itself.

    The STORE goes first and the record second: a crash in between leaves a flag of ours
    unrecorded (harmless), never a record that would later clear a user's own flag.
    """
    done = Applied()
    s = t.session
    if plan.add_keyword:
        s.store(plan.add_keyword, [keyword], add=True)
    if plan.add_flagged:
        s.store(plan.add_flagged, [FLAGGED], add=True)
    t.state.save_flags(
        t.mailbox, t.folder, t.uidvalidity, keyword=plan.add_keyword, flagged=plan.add_flagged
    )
    if plan.remove_keyword:
        s.store(plan.remove_keyword, [keyword], add=False)
    if plan.remove_flagged:
        s.store(plan.remove_flagged, [FLAGGED], add=False)
    cleared = sorted(set(plan.remove_keyword) | set(plan.remove_flagged))
    t.state.forget_flags(t.mailbox, t.folder, t.uidvalidity, [*cleared, *plan.forget])
    flagged = sorted(set(plan.add_keyword) | set(plan.add_flagged))
    done.flagged, done.unflagged = len(flagged), len(cleared)
    for action, uids in (("flag", flagged), ("unflag", cleared)):
        done.audited += t.state.audit(
            t.run_id,
            t.mailbox,
            (
                AuditEvent(action, t.referencer.ref(by_uid[u]), folder=t.folder)
                for u in uids
                if u in by_uid
            ),
        )
    return done


def apply_batches(
    t: SelectedFolder,
    plan: MailboxPlan,
    by_uid: dict[int, MessageInfo],
    keyword: str,
    *,
    batch_size: int,
) -> Applied:
    """Move, delete or purge the planned batches, one UID command per target and batch."""
    done = Applied()
    try:
        _apply_planned(t, plan, by_uid, keyword, batch_size, done)
    finally:
        # Whatever stopped the run (a stop request, a cut connection), a MOVE that was
        # answered is closed in the state now, not left to the next run's recovery.
        _run_deferred(t)
        t.refs_ahead.clear()
    return done


def _run_deferred(t: SelectedFolder) -> None:
    while t.deferred:
        t.deferred.pop(0)()


def _apply_planned(
    t: SelectedFolder,
    plan: MailboxPlan,
    by_uid: dict[int, MessageInfo],
    keyword: str,
    batch_size: int,
    done: Applied,
) -> None:
    chunks = [
        (batch, batch.uids[start : start + batch_size])
        for batch in plan.batches
        for start in range(0, len(batch.uids), batch_size)
    ]
    for i, (batch, chunk) in enumerate(chunks):
        if plan.employee.legal_hold and batch.kind != "move":
            # The planner already holds these; refusing here too keeps the legal hold
            # even if a future planner change forgets it.
            raise PolicyError("refusing to delete in a mailbox on legal hold")
        following = chunks[i + 1][1] if i + 1 < len(chunks) else ()
        try:
            _apply_chunk(t, batch, chunk, by_uid, keyword, done, following)
        except (MissingCapability, FolderError) as exc:
            done.refused += len(chunk)
            done.reasons.append(str(exc))
            log.warning("batch_refused", rule=batch.rule, kind=batch.kind, reason=str(exc))
        except ServerError as exc:
            # A NO to the transfer itself (no right to insert, over quota): the journal
            # entry stays open for recovery; the reason is the response code only, as
            # the server's text may quote a folder name.
            reason = f"the server refused {batch.kind}: {_response_code(str(exc))}"
            done.refused += len(chunk)
            done.reasons.append(reason)
            log.warning("batch_refused", rule=batch.rule, kind=batch.kind, reason=reason)


def _apply_chunk(
    t: SelectedFolder,
    batch: Batch,
    uids: Sequence[int],
    by_uid: dict[int, MessageInfo],
    keyword: str,
    done: Applied,
    following: Sequence[int] = (),
) -> None:
    """Apply one chunk of *batch*; *following* is the next chunk's UIDs, if any."""
    s = t.session
    if batch.kind == "purge":
        if not s.has("UIDPLUS"):
            raise MissingCapability("UIDPLUS is needed to purge exactly the chosen messages")
        _purge(t, batch, uids, by_uid, done)
        return
    target = batch.target
    if target is None:
        raise FolderError("no Trash folder found (neither SPECIAL-USE nor a known name)")
    if not (s.has("MOVE") or s.has("UIDPLUS")):
        raise MissingCapability("neither MOVE nor UIDPLUS: refusing to move or delete")
    s.ensure_folder(target)
    # Our flags come off first, so the filed copy does not stay marked as due.
    in_chunk = set(uids)
    clear_keyword = [u for u in batch.clear_keyword if u in in_chunk]
    clear_flagged = [u for u in batch.clear_flagged if u in in_chunk]
    if clear_keyword:
        s.store(clear_keyword, [keyword], add=False)
    if clear_flagged:
        s.store(clear_flagged, [FLAGGED], add=False)
    # One journal entry per command: a cut after the first of several commands leaves
    # the later ones' messages out of any recovery, so they can never be taken for copied.
    commands = [c for _, c in uidset.chunks(uids, size=len(uids), max_chars=s.max_set_chars)]
    for j, command_uids in enumerate(commands):
        t.heartbeat()
        if s.has("MOVE"):
            ahead = commands[j + 1] if j + 1 < len(commands) else following
            _move(t, batch, target, command_uids, by_uid, done, ahead)
        else:
            _copy(t, batch, target, command_uids, by_uid, done)


def _journal(
    t: SelectedFolder,
    batch: Batch,
    action: str,
    command: str,
    target: str,
    uids: Sequence[int],
    refs: Sequence[str],
) -> int:
    # A folder named after a correspondent is journalled by its HMAC, never its name.
    recorded = recorded_target(target, batch.personal, t.referencer) or ""
    if command == "PURGE":
        status = (0, 0)
    else:
        # Recovery looks for copies at UIDs >= the journalled UIDNEXT, so any lower bound
        # read before the command is correct; one above our earlier copies keeps them out.
        status = t.floors.get(target) or t.session.status(target)
        t.floors[target] = status
    return t.state.begin_transfer(
        t.run_id,
        t.mailbox,
        t.folder,
        t.uidvalidity,
        target=recorded,
        target_status=status,
        command=command,
        action=action,
        rule=batch.rule,
        uids=uids,
        refs=refs,
    )


def _raise_floor(t: SelectedFolder, target: str, mapping: Mapping[int, int]) -> None:
    """Remember a UIDNEXT for *target* above the copies just made (RFC 4315 COPYUID).

    The next command's journal then needs no STATUS: that UIDNEXT is still a lower bound
    of where its copies land, and it keeps this command's copies (which may share a
    reference with the next command's messages) out of a later recovery's search.
    Without COPYUID nothing is known, and the next command reads STATUS again.
    """
    known = t.floors.pop(target, None)
    if known is not None and mapping:
        t.floors[target] = (known[0], max(known[1], max(mapping.values()) + 1))


def _refs(t: SelectedFolder, uids: Sequence[int], by_uid: Mapping[int, MessageInfo]) -> list[str]:
    known = t.refs_ahead
    return [known.pop(u, "") or _ref(t, u, by_uid) for u in uids]


def _ref(t: SelectedFolder, uid: int, by_uid: Mapping[int, MessageInfo]) -> str:
    message = by_uid.get(uid)
    return "-" if message is None else t.referencer.ref(message)


def _action(batch: Batch) -> str:
    return "move" if batch.kind == "move" else "delete"


def _move(
    t: SelectedFolder,
    batch: Batch,
    target: str,
    uids: Sequence[int],
    by_uid: dict[int, MessageInfo],
    done: Applied,
    ahead: Sequence[int] = (),
) -> None:
    """Journal and send one UID MOVE; close the previous one's entry while the server moves.

    The journal entry is committed before the command is sent, as always. Closing an
    entry (audit events, flag records) needs only the answer already read, so the
    previous MOVE's is done while this one is in flight, and this one's is deferred in
    turn: the server's time and inboxwarden's overlap instead of adding up. A crash in
    between leaves an answered MOVE's entry open, which recovery resolves as any other.
    The references of *ahead*, the next command's messages, are computed meanwhile too.
    """
    s = t.session
    refs = _refs(t, uids, by_uid)
    journal = _journal(t, batch, _action(batch), "MOVE", target, uids, refs)
    sent = s.send_move(uids, target)
    _run_deferred(t)
    t.refs_ahead.update((u, _ref(t, u, by_uid)) for u in ahead)
    mapping = s.receive_move(sent)
    _raise_floor(t, target, mapping)
    # No COPYUID without UIDPLUS: what is gone has left, by this MOVE or by the user.
    moved = set(mapping) if mapping or s.has("UIDPLUS") else set(uids) - set(s.present(uids))
    done.vanished += len(uids) - len(moved)
    ref_of = dict(zip(uids, refs, strict=True))
    t.deferred.append(lambda: _complete(t, batch, target, journal, ref_of, moved, uids, done))


def _copy(
    t: SelectedFolder,
    batch: Batch,
    target: str,
    uids: Sequence[int],
    by_uid: dict[int, MessageInfo],
    done: Applied,
) -> None:
    _run_deferred(t)
    s = t.session
    before = s.flag_states(uids)
    # A message the user marked \Deleted is their pending decision: it is not copied.
    wanted = [u for u in uids if u in before and not is_deleted(before[u].flags)]
    done.vanished += len(uids) - len(wanted)
    if not wanted:
        return
    refs = _refs(t, wanted, by_uid)
    journal = _journal(t, batch, _action(batch), "COPY", target, wanted, refs)
    mapping = s.copy(wanted, target)
    t.state.record_copyuid(journal, mapping)
    _raise_floor(t, target, mapping)
    done.vanished += len(wanted) - len(mapping)
    settled = settle_copies(t, journal, target, mapping, before, may_give_back=True)
    ref_of = dict(zip(wanted, refs, strict=True))
    _complete(t, batch, target, journal, ref_of, settled.left, settled.left, done)
    done.given_back += settled.given_back


def _complete(
    t: SelectedFolder,
    batch: Batch,
    target: str,
    journal: int,
    ref_of: Mapping[int, str],
    left: Iterable[int],
    forget: Sequence[int],
    done: Applied,
) -> None:
    """Close a journal entry with one audit event per message that *left*, and count them."""
    shown = recorded_target(target, batch.personal, t.referencer)
    action = _action(batch)
    gone = sorted(left)
    events = [_event(batch.rule, action, t.folder, shown, ref_of[u]) for u in gone]
    done.audited += t.state.complete_transfer(
        journal, t.run_id, t.mailbox, t.folder, t.uidvalidity, events, left=forget
    )
    _count(done, batch.kind, len(gone))


def _purge(
    t: SelectedFolder,
    batch: Batch,
    uids: Sequence[int],
    by_uid: dict[int, MessageInfo],
    done: Applied,
) -> None:
    """Hard delete, only where a rule says ``purge = true``: exactly these UIDs, by UID."""
    _run_deferred(t)
    s = t.session
    refs = _refs(t, uids, by_uid)
    journal = _journal(t, batch, "purge", "PURGE", "", uids, refs)
    t.state.set_transfer_phase(journal, "expunging")
    s.store(uids, [DELETED], add=True)
    s.expunge(uids)
    gone = set(uids) - set(s.present(uids))
    ref_of = dict(zip(uids, refs, strict=True))
    events = [_event(batch.rule, "purge", t.folder, None, ref_of[u]) for u in sorted(gone)]
    done.audited += t.state.complete_transfer(
        journal, t.run_id, t.mailbox, t.folder, t.uidvalidity, events, left=uids
    )
    done.deleted += len(gone)
    done.vanished += len(uids) - len(gone)


def _event(rule: str | None, action: str, folder: str, target: str | None, ref: str) -> AuditEvent:
    return AuditEvent(action, ref if ref != "-" else None, rule=rule, folder=folder, target=target)


def _count(done: Applied, kind: str, n: int) -> None:
    if kind == "move":
        done.moved += n
    else:
        done.deleted += n


def _response_code(text: str) -> str:
    """The RFC 5530 response code in a server's answer (``[NOPERM]``), if it gave one."""
    found = re.search(r"\[([A-Z][A-Z0-9-]*)", text)
    return f"[{found.group(1)}]" if found else "no response code"
