"""Finishes the transfers a crash or a cut connection left open, before a mailbox is scanned.

Each journal entry is one command (see :mod:`inboxwarden.mailbox.actions`). What the server did
with it is found out, never assumed:

- ``MOVE``: the server moved a message or did not; nothing is ever expunged here. The
  originals that are gone and have a copy in the target since the command (matched by
  reference, one copy for one original) get their audit event.
- ``COPY`` with its COPYUID journalled: the server's own mapping proves each copy; the
  copy must still exist. Then as on the live path
  (:func:`~inboxwarden.mailbox.copies.settle_copies`).
- ``COPY`` whose answer was lost: a copy is proven by the server's stable identity
  (``EMAILID``, ``X-GM-MSGID``) where it has one, else by a multiset match of message
  references among the target's messages since the command — one copy proves one
  original, so two originals with the same Message-ID, arrival time and size need two
  copies. Unproven originals stay in the INBOX. Nothing is given back on a guess.
- ``PURGE``: originals still marked ``\\Deleted`` are expunged; the gone ones are audited.
- ``LEGACY`` (written by 0.1.0, possibly spanning several commands): closed without
  expunging anything; a duplicate may remain, never a loss.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace

import structlog

from inboxwarden.errors import FolderError
from inboxwarden.mailbox.copies import settle_copies
from inboxwarden.mailbox.selected import Applied, SelectedFolder
from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.planning import folder_of_recorded
from inboxwarden.state import AuditEvent, Transfer

__all__ = ["pair_copies", "recover_transfers"]

log = structlog.get_logger(__name__)


def recover_transfers(t: SelectedFolder) -> Applied:
    """Resolve every open journal entry of *t*'s folder; returns what that did."""
    done = Applied()
    for transfer in t.state.open_transfers(t.mailbox, t.folder):
        t.heartbeat()
        if transfer.uidvalidity != t.uidvalidity or transfer.command == "LEGACY":
            # Renumbered UIDs name other messages now; a legacy entry proves nothing.
            t.state.end_transfer(transfer.id)
            continue
        # The journal may name the target by its HMAC (a personal folder name).
        folder = folder_of_recorded(transfer.target, _folder_names(t), t.referencer)
        located = replace(transfer, target=folder or "")
        if transfer.command == "MOVE":
            left = _recover_move(t, located) if folder is not None else []
        elif transfer.command == "PURGE":
            left = _recover_purge(t, transfer)
        else:
            left = _recover_copy(t, located, done) if folder is not None else []
        refs = transfer.ref_of
        events = [
            AuditEvent(
                transfer.action,
                refs[u] if refs.get(u, "-") != "-" else None,
                rule=transfer.rule,
                folder=t.folder,
                target=transfer.target or None,
            )
            for u in left
        ]
        done.audited += t.state.complete_transfer(
            transfer.id, t.run_id, t.mailbox, t.folder, t.uidvalidity, events, left=left
        )
        done.recovered += len(left)
        if transfer.action == "move":
            done.moved += len(left)
        else:
            done.deleted += len(left)
        log.info("transfer_recovered", command=transfer.command, left=len(left))
    return done


def _folder_names(t: SelectedFolder) -> list[str]:
    return [entry.name for entry in t.session.folders()]


def _recover_move(t: SelectedFolder, transfer: Transfer) -> list[int]:
    still = set(t.session.present(transfer.uids))
    gone = [u for u in transfer.uids if u not in still]
    if not gone:
        return []
    copies = _copies_by_ref(t, transfer)
    t.session.select(t.folder, readonly=False)
    return sorted(pair_copies(gone, transfer.ref_of, copies))


def _recover_purge(t: SelectedFolder, transfer: Transfer) -> list[int]:
    s = t.session
    states = s.flag_states(transfer.uids)
    marked = [u for u, st in states.items() if any(f.lower() == "\\deleted" for f in st.flags)]
    if marked:
        s.expunge(sorted(marked))
    still = set(s.present(transfer.uids))
    return [u for u in transfer.uids if u not in still]


def _recover_copy(t: SelectedFolder, transfer: Transfer, done: Applied) -> list[int]:
    s = t.session
    if transfer.phase == "sent":
        # The answer was lost: prove copies by identity, for originals still here only.
        present = s.present(transfer.uids)
        stable = s.stable_ids(present)
        copies = _copies_by_identity(t, transfer, stable=bool(stable))
        mapping = pair_copies(present, stable or transfer.ref_of, copies)
        s.select(t.folder, readonly=False)
    else:
        mapping = dict(transfer.mapping)
        existing = set(_existing(t, transfer, mapping.values()))
        lost = [src for src, dst in mapping.items() if dst not in existing]
        mapping = {src: dst for src, dst in mapping.items() if dst in existing}
        s.select(t.folder, readonly=False)
        if lost and transfer.phase == "expunging":
            # Their copy is gone (the user removed it): the original stays, unmarked.
            s.store(s.present(lost), ["\\Deleted"], add=False)
    settled = settle_copies(
        t,
        transfer.id,
        transfer.target,
        mapping,
        None,
        may_give_back=transfer.phase != "sent",
        marked=list(mapping) if transfer.phase == "expunging" else (),
    )
    done.given_back += settled.given_back
    return settled.left


def _copies_by_ref(t: SelectedFolder, transfer: Transfer) -> dict[str, list[int]]:
    """The target's messages since the journal entry, by reference, in UID order."""
    return _copies_by_identity(t, transfer, stable=False)


def _copies_by_identity(
    t: SelectedFolder, transfer: Transfer, *, stable: bool
) -> dict[str, list[int]]:
    """The target's messages since the journal entry, by the server's stable identity
    (*stable*) or by reference, in UID order."""
    s = t.session
    try:
        state = s.select(transfer.target, readonly=True)
    except FolderError:
        return {}
    if state.uidvalidity != transfer.target_uidvalidity or state.uidnext <= transfer.target_uidnext:
        return {}
    since = transfer.target_uidnext
    new = [u for u in s.search(["UID", f"{since}:*"]) if u >= since]
    by_ref: dict[str, list[int]] = defaultdict(list)
    if stable:
        for uid, identity in s.stable_ids(new).items():
            by_ref[identity].append(uid)
    else:
        for m in s.fetch_messages(new, header_fields=()):
            if isinstance(m, MessageInfo):
                by_ref[t.referencer.ref(m)].append(m.uid)
    for uids in by_ref.values():
        uids.sort()
    return by_ref


def _existing(t: SelectedFolder, transfer: Transfer, copies: Iterable[int]) -> list[int]:
    s = t.session
    try:
        state = s.select(transfer.target, readonly=True)
    except FolderError:
        return []
    if state.uidvalidity != transfer.target_uidvalidity:
        return []
    return s.present(sorted(copies))


def pair_copies(
    originals: Iterable[int], ref_of: dict[int, str], copies: dict[str, list[int]]
) -> dict[int, int]:
    """Pair originals with copies of the same reference, each copy used at most once.

    Both sides go in UID order, the order in which COPY and MOVE assign new UIDs
    (RFC 4315 §3), so equal references pair up as the server copied them.
    """
    pool = {ref: list(uids) for ref, uids in copies.items()}
    pairs: dict[int, int] = {}
    for uid in sorted(originals):
        ref = ref_of.get(uid, "-")
        if ref != "-" and pool.get(ref):
            pairs[uid] = pool[ref].pop(0)
    return pairs
