"""Finishing a ``UID COPY``: the originals leave only once each has one proven copy.

Used where the server has no MOVE, once :mod:`inboxwarden.mailbox.actions` journalled
the COPY and its COPYUID, and by the recovery of a COPY a crash interrupted
(:mod:`inboxwarden.mailbox.recovery`). The user may work on the INBOX meanwhile: what
they changed is carried to the copies, what they decided (moved, expunged, marked
``\\Deleted``) is theirs, and the rest is marked ``\\Deleted`` and expunged by exact UID
(docs/behaviour.md §5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from inboxwarden.imap.server_facts import FlagState
from inboxwarden.mailbox.selected import SelectedFolder
from inboxwarden.policy.planning import DELETED

__all__ = ["SETTLE_ROUNDS", "Settled", "is_deleted", "settle_copies"]

#: Rounds of "carry the user's flag changes, then mark \\Deleted unless changed again"
#: before inboxwarden gives a message that keeps changing back to the user.
SETTLE_ROUNDS = 3


@dataclass
class Settled:
    """How a COPY ended: the originals that left, and copies given back to the user."""

    left: list[int] = field(default_factory=list)
    given_back: int = 0


def settle_copies(
    t: SelectedFolder,
    journal: int,
    target: str,
    mapping: Mapping[int, int],
    before: Mapping[int, FlagState] | None,
    *,
    may_give_back: bool,
    marked: Sequence[int] = (),
) -> Settled:
    """Finish a COPY whose copies are proven (*mapping*: original → copy UID).

    The user may work on the INBOX meanwhile. Flags they changed since *before* (all
    flags when *before* is None) are carried to the copies; a message they moved,
    expunged or marked ``\\Deleted`` is theirs to decide, so its copy is given back
    (removed by its exact UID) when *may_give_back*, else left as a duplicate. The
    others are marked ``\\Deleted`` — under CONDSTORE only if unchanged since their flags
    were read (``UNCHANGEDSINCE``), otherwise the round repeats — and ``UID EXPUNGE``d.
    *marked* are originals inboxwarden may already have marked (a recovery).
    """
    s = t.session
    done = Settled()
    pending = dict(mapping)
    ours = set(marked)
    give_back: list[int] = []
    conditional = s.has("CONDSTORE")
    for _ in range(SETTLE_ROUNDS):
        # NOOP first: a server shows this session another session's expunges only at
        # a command that may announce them, and answers FETCH from its old view before.
        s.sync()
        now = s.flag_states(sorted(pending))
        carry: dict[int, frozenset[str]] = {}
        for src, dst in list(pending.items()):
            state = now.get(src)
            if state is None and src in ours:
                done.left.append(src)  # expunged already: by us, or by the user's client
                del pending[src]
            elif state is None or (is_deleted(state.flags) and src not in ours):
                if may_give_back:
                    give_back.append(dst)
                del pending[src]
            elif before is None or before.get(src) is None or state.flags != before[src].flags:
                carry[dst] = _carried(state.flags)
        _fix_copies(t, target, carry, give_back)
        done.given_back += len(give_back)
        give_back = []
        if not pending:
            break
        t.state.set_transfer_phase(journal, "expunging")
        ours_now = sorted(pending)
        modseqs = [now[u].modseq for u in ours_now]
        if conditional and all(m is not None for m in modseqs):
            changed = set(
                s.add_flags_unless_changed(ours_now, [DELETED], max(m or 0 for m in modseqs))
            )
        else:
            # Without CONDSTORE a change the user makes between the FETCH above and this
            # STORE is not carried: the one window left open (see the README).
            s.store(ours_now, [DELETED], add=True)
            changed = set()
        ours.update(u for u in ours_now if u not in changed)
        pending = {u: pending[u] for u in ours_now if u in changed}
        before = now
        if not pending:
            break
    if pending and may_give_back:
        # Still changing after every round: the user is working on it; give it back.
        _fix_copies(t, target, {}, list(pending.values()))
        done.given_back += len(pending)
    expunge = sorted(u for u in ours if u not in done.left)
    if expunge:
        s.expunge(expunge)
    done.left += expunge
    done.left.sort()
    return done


def _fix_copies(
    t: SelectedFolder, target: str, carry: Mapping[int, frozenset[str]], give_back: Sequence[int]
) -> None:
    """In *target*: set the carried flags on copies, and remove the given-back copies."""
    if not carry and not give_back:
        return
    s = t.session
    s.select(target, readonly=False)
    try:
        by_flags: dict[frozenset[str], list[int]] = {}
        for dst, flags in carry.items():
            by_flags.setdefault(flags, []).append(dst)
        for flags, dsts in by_flags.items():
            s.set_flags(dsts, sorted(flags))
        if give_back:
            s.store(give_back, [DELETED], add=True)
            s.expunge(give_back)
    finally:
        s.select(t.folder, readonly=False)


def is_deleted(flags: frozenset[str]) -> bool:
    """True when *flags* hold ``\\Deleted`` (in any case)."""
    return any(f.lower() == "\\deleted" for f in flags)


def _carried(flags: frozenset[str]) -> frozenset[str]:
    # \Recent belongs to the session; \Deleted on an original is about the original.
    return frozenset(f for f in flags if f.lower() not in ("\\recent", "\\deleted"))
