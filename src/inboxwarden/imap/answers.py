"""Turns the server's answers into plain data: FETCH items into MessageInfo, COPYUID
into a UID mapping (RFC 4315 §3), BODYSTRUCTURE into "has an attachment".

Untyped imapclient values end here; what leaves is typed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import Any

import structlog
from imapclient.response_parser import parse_fetch_response

from inboxwarden.imap import uidset
from inboxwarden.imap.fetch_parser import UnexpectedShape, read_fetch
from inboxwarden.policy.message import MessageInfo, flag_set, parse_header_block

__all__ = ["as_text", "copyuid_mapping", "messages_of", "to_message"]

log = structlog.get_logger(__name__)


def as_text(value: Any) -> str:
    """An atom, flag or response code as imapclient hands it over (bytes or not), as text."""
    return value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)


def copyuid_mapping(code: Any) -> dict[int, int]:
    parts = as_text(code).split()
    if len(parts) < 3:
        return {}
    return uidset.pairs(uidset.parse(parts[1]), uidset.parse(parts[2]))


def messages_of(
    data: Iterable[Any], wanted: set[int], covered: list[int], *, fast: bool
) -> Iterator[MessageInfo | int]:
    """Messages of one FETCH answer; the fast reader first, imapclient's parser if needed.

    *data* may still be arriving (:func:`inboxwarden.imap.stream.receive_each`): the fast
    reader yields each message as soon as it is read. *wanted* holds the UIDs not yet
    seen in any batch (an answer may carry another batch's message); *covered* are this
    batch's, reported as skipped if unreadable. Where the fast reader meets a shape it
    does not know, imapclient's parser reads the whole answer, and yields what the fast
    reader had not.
    """
    source = iter(data)
    if fast:
        # The answer from the first message not yet read on, for imapclient's parser if
        # it comes to that: a whole batch's raw answer kept to the end would double the
        # scan's memory.
        tape: list[Any] = []

        def taped() -> Iterator[Any]:
            for element in source:
                tape.append(element)
                yield element

        items = read_fetch(taped())
        while True:
            # Only the reader's own errors mean "another shape": the stream raises
            # MailboxError, never these.
            try:
                item = next(items, None)
            except (UnexpectedShape, ValueError, TypeError):
                break
            if item is None:
                return
            # Read on the next message's first line, or on its own last one.
            del tape[: -1 if isinstance(tape[-1], tuple) else None]
            if item.uid in wanted:
                wanted.discard(item.uid)
                yield MessageInfo(
                    uid=item.uid,
                    internaldate=item.internaldate,
                    size=item.size,
                    flags=flag_set(item.flags),
                    headers=parse_header_block(item.header),
                )
        source = iter([*tape, *source])
    raw = list(source)  # read to the end first: a cut connection is not an odd answer
    try:
        parsed = parse_fetch_response(raw, False, True)
    except Exception:  # imapclient raises bare errors on odd answers
        unread = sorted(wanted.intersection(covered))
        log.warning("fetch_unparsable", uids=len(unread))
        wanted.difference_update(unread)
        yield from unread
        return
    for uid, item in parsed.items():
        if uid in wanted:
            wanted.discard(uid)
            yield to_message(uid, item)


def to_message(uid: int, item: dict[bytes, Any]) -> MessageInfo | int:
    try:
        internaldate = item[b"INTERNALDATE"]
        if internaldate.tzinfo is None:
            internaldate = internaldate.replace(tzinfo=UTC)
        header = b""
        for key, value in item.items():
            if key.startswith(b"BODY[HEADER") and isinstance(value, bytes):
                header = value
        structure = item.get(b"BODYSTRUCTURE")
        return MessageInfo(
            uid=uid,
            internaldate=internaldate,
            size=int(item.get(b"RFC822.SIZE", 0)),
            flags=flag_set(
                tuple(
                    f.decode("utf-8", "replace") if isinstance(f, bytes) else str(f)
                    for f in item.get(b"FLAGS", ())
                )
            ),
            headers=parse_header_block(header),
            has_attachment=None if structure is None else _has_attachment(structure),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return uid


def _has_attachment(structure: Any) -> bool:
    """True when any body part is an attachment (RFC 3501 §7.4.2 body-fld-dsp)."""
    try:
        if structure.is_multipart:
            return any(_has_attachment(part) for part in structure[0])
        for element in structure:
            if isinstance(element, tuple) and len(element) == 2:
                kind = element[0]
                if isinstance(kind, bytes) and kind.lower() == b"attachment":
                    return True
        return False
    except (AttributeError, IndexError, TypeError):
        return False
