"""Puts a digest into the employee's own INBOX and takes the older digests out.

Delivery by IMAP ``APPEND`` (RFC 3501 §6.3.11) means the digest, which lists the
employee's own subjects, crosses no mail server but their own (docs/behaviour.md §7). An older
digest is replaced rather than left to pile up: it is found by its header
(``SEARCH HEADER``, RFC 3501 §6.4.4), verified (see :mod:`.marker`), and removed by
``UID STORE +FLAGS (\\Deleted)`` and ``UID EXPUNGE`` of exactly its UIDs (RFC 4315
§2.1), or moved to the trash where the server lacks UIDPLUS. Never a bare EXPUNGE,
which would take the user's own ``\\Deleted`` messages with it.

The new digest is appended *before* the old ones are removed: if the connection
breaks in between, the employee has two digests for a while, never none. The INBOX is
left first (``UNSELECT``): a server may refuse an APPEND to the folder that this
session has open read-only (Courier does). Where the server can neither ``UID EXPUNGE``
nor ``MOVE``, an old digest stays and :class:`Placed` says so, for the output to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog

from inboxwarden.errors import FolderError
from inboxwarden.imap.session import ImapSession
from inboxwarden.policy.planning import DELETED
from inboxwarden.policy.references import Referencer
from inboxwarden.reports.marker import HEADER, SEARCH_TEXT, is_our_digest

__all__ = ["INBOX", "OldDigest", "Placed", "find_old_digests", "place_digest"]

log = structlog.get_logger(__name__)
INBOX = "INBOX"


@dataclass(frozen=True, slots=True)
class OldDigest:
    """A digest already in the INBOX, by UID, with its Message-ID for the audit trail."""

    uid: int
    message_id: str | None


@dataclass(frozen=True, slots=True)
class Placed:
    """What :func:`place_digest` did with the older digests it found."""

    removed: tuple[OldDigest, ...] = ()
    trash: str | None = None
    """The folder the old digests were moved to, or None when they were expunged."""
    left: tuple[OldDigest, ...] = ()
    """Old digests that had to stay (legal hold, or neither UIDPLUS nor MOVE)."""
    why_left: str | None = None
    """Why old digests stayed although they were to be removed; None when none did."""


def find_old_digests(session: ImapSession, referencer: Referencer, mailbox: str) -> list[OldDigest]:
    """Our earlier digests in the selected INBOX: found by header, kept only if verified."""
    candidates = session.search(["HEADER", HEADER, SEARCH_TEXT])
    if not candidates:
        return []
    found: list[OldDigest] = []
    for item in session.fetch_messages(sorted(candidates), header_fields=["message-id"]):
        if isinstance(item, int):
            continue  # unreadable: not provably ours, so it stays
        if is_our_digest(item.header(HEADER), referencer, mailbox):
            found.append(OldDigest(item.uid, item.message_id))
    return found


def place_digest(
    session: ImapSession,
    message: bytes,
    when: datetime,
    *,
    old: Sequence[OldDigest],
    remove_old: bool,
) -> Placed:
    """APPEND *message* to the INBOX, then remove exactly the *old* digests.

    *old* comes from :func:`find_old_digests` before the append, so the new digest
    can never be among them. With *remove_old* false (a mailbox on legal hold, where
    nothing is ever deleted, docs/behaviour.md §5.5) the old ones stay.
    """
    session.unselect()
    session.append(INBOX, message, (), when)
    if not old:
        return Placed()
    if not remove_old:
        return Placed(left=tuple(old))
    uids = [d.uid for d in old]
    if session.has("UIDPLUS"):
        session.select(INBOX, readonly=False)
        session.store(uids, [DELETED], add=True)
        session.expunge(uids)
        return Placed(removed=tuple(old))
    if not session.has("MOVE"):
        why = "the server has neither UIDPLUS nor MOVE"
        log.warning("old_digests_left", count=len(old), reason=why)
        return Placed(left=tuple(old), why_left=why)
    try:
        trash = session.ensure_trash()
    except FolderError as exc:
        log.warning("old_digests_left", count=len(old), reason=str(exc))
        return Placed(left=tuple(old), why_left=f"no UIDPLUS and no Trash: {exc}")
    session.select(INBOX, readonly=False)
    session.move(uids, trash)
    return Placed(removed=tuple(old), trash=trash)
