"""What the server told about a folder and its messages, as plain typed data.

:class:`~inboxwarden.imap.session.ImapSession` hands these out (SELECT, QRESYNC, FETCH
of flags, NAMESPACE), so that no imapclient value crosses its wall.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["FlagState", "FolderState", "Namespace", "Resync"]


class Namespace(NamedTuple):
    """The personal namespace (RFC 2342): folder names start with *prefix* (``INBOX.``
    on many hosts) and *separator* divides the levels."""

    prefix: str
    separator: str


@dataclass(frozen=True, slots=True)
class FolderState:
    """What SELECT told us (RFC 3501 §6.3.1, RFC 4551 for HIGHESTMODSEQ)."""

    name: str
    uidvalidity: int
    uidnext: int
    exists: int
    keywords_allowed: bool
    #: The folder's HIGHESTMODSEQ (RFC 7162 §3.1.2.1) where the session tracks changes
    #: (CONDSTORE enabled); None otherwise, or where the folder keeps no MODSEQs.
    highestmodseq: int | None = None


@dataclass(frozen=True, slots=True)
class Resync:
    """What ``SELECT … (QRESYNC …)`` told about a folder since a MODSEQ (RFC 7162 §3.2.5)."""

    folder: FolderState
    #: UIDs expunged since then, as inclusive runs (``VANISHED (EARLIER)``); may cover
    #: UIDs that never existed, so it is only ever asked about UIDs one knows.
    vanished: tuple[tuple[int, int], ...]
    #: The flags now of every message changed (or added) since then, by UID.
    changed: dict[int, frozenset[str]]

    def gone(self, uid: int) -> bool:
        """True when *uid* was expunged since the MODSEQ asked about."""
        return any(first <= uid <= last for first, last in self.vanished)


@dataclass(frozen=True, slots=True)
class FlagState:
    """A message's flags now, and its MODSEQ where the server has CONDSTORE."""

    flags: frozenset[str]
    modseq: int | None = None
