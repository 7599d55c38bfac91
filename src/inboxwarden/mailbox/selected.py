"""The folder a mailbox's writes happen in, and what they did there.

:class:`SelectedFolder` carries what every journalled command needs (the session, the
state, the run, the mailbox's references); :class:`Applied` counts what came of them,
the numbers of a mailbox's log line and report row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from inboxwarden.imap.session import ImapSession
from inboxwarden.policy.references import Referencer
from inboxwarden.state import StateStore

__all__ = ["Applied", "SelectedFolder"]


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
    given_back: int = 0
    audited: int = 0
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SelectedFolder:
    """The folder the actions work in, as selected in *session*, and where they record.

    The messages leave *folder* (the INBOX) for a rule's ``target``; the session, the
    state, the run and the mailbox's references travel with it.
    """

    session: ImapSession
    state: StateStore
    run_id: str
    mailbox: str
    folder: str
    uidvalidity: int
    referencer: Referencer
    #: Called between commands, so a long run keeps its claim on the mailbox.
    heartbeat: Callable[[], None] = lambda: None
    #: Per target folder: its UIDVALIDITY and a UIDNEXT no higher than the next copy's
    #: UID, learned from the previous command's COPYUID, so a STATUS is read only once.
    floors: dict[str, tuple[int, int]] = field(default_factory=dict, compare=False)
    #: Bookkeeping of a MOVE already answered, done while the server works on the next
    #: one (see ``actions._move``): state writes only, never an IMAP command, as it runs
    #: with a command in flight. ``actions.apply_batches`` leaves nothing here.
    deferred: list[Callable[[], None]] = field(default_factory=list, compare=False)
    #: References of the next command's messages, computed while this one is in flight.
    refs_ahead: dict[int, str] = field(default_factory=dict, compare=False)
