"""Applies a mailbox plan to the server, keeping the safety invariants of SPEC §5.

A message leaves the INBOX only by ``UID MOVE`` (RFC 6851), or by ``UID COPY`` with a
verified ``COPYUID``, ``UID STORE +FLAGS (\\Deleted)`` and ``UID EXPUNGE`` of exactly the
copied UIDs (RFC 4315). Every transfer is written to the state's journal before its
first command, so a crash or a cut connection leaves at worst a duplicate that
:func:`recover_transfers` resolves on the next run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from inboxwarden.audit import Referencer
from inboxwarden.errors import FolderError, MissingCapability, PolicyError
from inboxwarden.imap.session import ImapSession
from inboxwarden.message import MessageInfo
from inboxwarden.planning import FLAGGED, Batch, MailboxPlan
from inboxwarden.state import AuditEvent, StateStore

log = structlog.get_logger(__name__)
DELETED = "\\Deleted"


@dataclass
class Applied:
    """What a run actually did in one mailbox: the counts of its canonical log line."""

    flagged: int = 0
    unflagged: int = 0
    moved: int = 0
    deleted: int = 0
    vanished: int = 0
    refused: int = 0
    recovered: int = 0
    audited: int = 0


@dataclass(frozen=True)
class Target:
    """Where the executor writes: the session, the state, the run and the folder."""

    session: ImapSession
    state: StateStore
    run_id: str
    mailbox: str
    folder: str
    uidvalidity: int
    referencer: Referencer


def apply_flags(
    t: Target, plan: MailboxPlan, by_uid: dict[int, MessageInfo], keyword: str
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
    t: Target,
    plan: MailboxPlan,
    by_uid: dict[int, MessageInfo],
    keyword: str,
    *,
    batch_size: int,
) -> Applied:
    """Move, delete or purge the planned batches, one UID command per target and batch."""
    done = Applied()
    for batch in plan.batches:
        if plan.employee.legal_hold and batch.kind != "move":
            # The planner already holds these; refusing here too keeps SPEC §5.5 true
            # even if a future planner change forgets it.
            raise PolicyError("refusing to delete in a mailbox on legal hold")
        for start in range(0, len(batch.uids), batch_size):
            chunk = batch.uids[start : start + batch_size]
            try:
                _apply_chunk(t, batch, chunk, by_uid, keyword, done)
            except (MissingCapability, FolderError) as exc:
                done.refused += len(chunk)
                log.warning("batch_refused", rule=batch.rule, kind=batch.kind, reason=str(exc))
    return done


def _apply_chunk(
    t: Target,
    batch: Batch,
    uids: Sequence[int],
    by_uid: dict[int, MessageInfo],
    keyword: str,
    done: Applied,
) -> None:
    s = t.session
    in_chunk = set(uids)
    recorded = [u for u in batch.recorded if u in in_chunk]
    if batch.kind == "purge":
        _purge(t, batch, uids, recorded, by_uid, done)
        return
    target = batch.target
    if target is None:
        raise FolderError("no Trash folder found (neither SPECIAL-USE nor a known name)")
    if not (s.has("MOVE") or s.has("UIDPLUS")):
        raise MissingCapability("neither MOVE nor UIDPLUS: refusing to move or delete")
    s.ensure_folder(target)
    # Our flags come off first, so the filed copy does not stay marked as due.
    clear_keyword = [u for u in batch.clear_keyword if u in in_chunk]
    clear_flagged = [u for u in batch.clear_flagged if u in in_chunk]
    if clear_keyword:
        s.store(clear_keyword, [keyword], add=False)
    if clear_flagged:
        s.store(clear_flagged, [FLAGGED], add=False)
    target_status = s.status(target)
    journal = t.state.begin_transfer(
        t.run_id, t.mailbox, t.folder, t.uidvalidity, target, target_status, uids
    )
    if s.has("MOVE"):
        mapping = s.move(uids, target)
        # Without UIDPLUS there is no COPYUID to say which moved; a UID the user moved
        # meanwhile is then counted as moved, and the next scan no longer sees it.
        moved = sorted(mapping) if mapping or s.has("UIDPLUS") else list(uids)
    else:
        mapping = s.copy(uids, target)
        moved = sorted(mapping)
        if moved:
            s.store(moved, [DELETED], add=True)
            s.expunge(moved)
    t.state.end_transfer(journal)
    t.state.forget_flags(t.mailbox, t.folder, t.uidvalidity, recorded)
    action = "move" if batch.kind == "move" else "delete"
    if batch.kind == "move":
        done.moved += len(moved)
    else:
        done.deleted += len(moved)
    done.vanished += len(uids) - len(moved)
    done.audited += t.state.audit(
        t.run_id,
        t.mailbox,
        (
            AuditEvent(
                action, t.referencer.ref(by_uid[u]), rule=batch.rule, folder=t.folder, target=target
            )
            for u in moved
            if u in by_uid
        ),
    )


def _purge(
    t: Target,
    batch: Batch,
    uids: Sequence[int],
    recorded: Sequence[int],
    by_uid: dict[int, MessageInfo],
    done: Applied,
) -> None:
    """Hard delete, only where a rule says ``purge = true``: exactly these UIDs, by UID."""
    s = t.session
    if not s.has("UIDPLUS"):
        raise MissingCapability("UIDPLUS is needed to purge exactly the chosen messages")
    s.store(uids, [DELETED], add=True)
    s.expunge(uids)
    t.state.forget_flags(t.mailbox, t.folder, t.uidvalidity, recorded)
    done.deleted += len(uids)
    done.audited += t.state.audit(
        t.run_id,
        t.mailbox,
        (
            AuditEvent("purge", t.referencer.ref(by_uid[u]), rule=batch.rule, folder=t.folder)
            for u in uids
            if u in by_uid
        ),
    )


def recover_transfers(t: Target) -> Applied:
    """Resolve transfers a crash left half done: expunge originals whose copy exists.

    A copy is recognised by Message-ID, arrival time and size among the target's
    messages with a UID at or above the UIDNEXT written down before the transfer
    started; anything not found stays in the INBOX, where the rules will meet it again.
    """
    done = Applied()
    s = t.session
    for transfer in t.state.open_transfers(t.mailbox, t.folder):
        if transfer.uidvalidity != t.uidvalidity:
            t.state.end_transfer(transfer.id)
            continue
        originals = {m.uid: m for m in _fetch(s, transfer.uids)}
        if originals:
            copies = _copies_in(
                s, transfer.target, transfer.target_uidvalidity, transfer.target_uidnext
            )
            s.select(t.folder, readonly=False)
            copied = [uid for uid, m in originals.items() if _identity(m) in copies]
            if copied:
                s.store(copied, [DELETED], add=True)
                s.expunge(copied)
                done.recovered += len(copied)
                done.audited += t.state.audit(
                    t.run_id,
                    t.mailbox,
                    (
                        AuditEvent(
                            "recover",
                            t.referencer.ref(originals[u]),
                            folder=t.folder,
                            target=transfer.target,
                        )
                        for u in copied
                    ),
                )
            log.info("transfer_recovered", expunged=len(copied), left=len(originals) - len(copied))
        t.state.end_transfer(transfer.id)
    return done


def _fetch(s: ImapSession, uids: Sequence[int]) -> list[MessageInfo]:
    return [m for m in s.fetch_messages(uids, header_fields=()) if isinstance(m, MessageInfo)]


def _identity(m: MessageInfo) -> tuple[str | None, float, int]:
    return (m.message_id, m.internaldate.timestamp(), m.size)


def _copies_in(
    s: ImapSession, folder: str, uidvalidity: int, uidnext: int
) -> set[tuple[str | None, float, int]]:
    """Identities of the messages that arrived in *folder* since the journal was written."""
    try:
        state = s.select(folder, readonly=True)
    except FolderError:
        return set()
    if state.uidvalidity != uidvalidity or state.uidnext <= uidnext:
        return set()
    new = s.search(["UID", f"{uidnext}:*"])
    return {_identity(m) for m in _fetch(s, [u for u in new if u >= uidnext])}
