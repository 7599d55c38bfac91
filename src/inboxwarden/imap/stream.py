"""Sends one command and reads its answer straight from the socket's buffered file.

imaplib reads every response line through several Python layers (regex matches, list
appends, a debug hook per line); on a 16 MB FETCH answer that costs four times what the
server needs to send it. The scan's FETCH is read here instead, in imaplib's own data
shape, so both the fast reader and imapclient's parser can take the result. A ``UID
MOVE`` is sent and read here too: its answer is one ``EXPUNGE`` line per message where
the server has no QRESYNC, and sending it apart from reading it lets the caller do its
own bookkeeping while the server moves.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from inboxwarden.errors import ConnectionLost, ServerError
from inboxwarden.imap import client_internals

__all__ = ["RawData", "RawElement", "command", "receive", "receive_codes", "receive_each", "send"]

_LITERAL = re.compile(rb"\{(\d+)\}\r\n$")
_FETCH = re.compile(rb"^\* (\d+) FETCH ")

RawElement = bytes | tuple[bytes, bytes]
RawData = list[RawElement]


def command(imap: Any, line: bytes) -> RawData:
    """Send ``<tag> line`` on *imap* (an imaplib.IMAP4) and return its FETCH data."""
    return receive(imap, send(imap, line))


def send(imap: Any, line: bytes) -> bytes:
    """Send ``<tag> line`` and return the tag, without waiting for the answer.

    Several FETCH commands may be in flight (RFC 3501 §5.5): the server prepares the
    next batch while this side reads the previous one.
    """
    tag = client_internals.new_tag(imap)  # answered here, not through imaplib's table
    imap.send(tag + b" " + line + b"\r\n")
    return tag


def receive(imap: Any, tag: bytes) -> RawData:
    """Read up to the tagged answer of *tag*; return the FETCH data seen on the way."""
    return list(receive_each(imap, tag))


def receive_each(imap: Any, tag: bytes) -> Iterator[RawElement]:
    """The FETCH data of *tag*'s answer, each piece as soon as it is read; the tagged
    answer ends it (a refusal raises).

    Reading as it arrives lets the caller parse one message while the server sends the
    next, instead of waiting for the whole answer first. The data has imaplib's shape:
    ``b"12 (UID 7 …"`` lines, and ``(line, literal)`` pairs where a literal follows.
    Other untagged responses are read and dropped; the scan uses UIDs, so EXISTS or
    EXPUNGE notices change nothing it relies on.
    """
    readline, read = client_internals.reader(imap)
    done = tag + b" "
    while True:
        text = readline()
        if not text:
            raise ConnectionLost("connection closed during FETCH")
        if text.startswith(done):
            status = text[len(done) :].split(b" ", 1)[0]
            if status != b"OK":
                raise ServerError(
                    f"FETCH refused: {text[len(done) :].decode('ascii', 'replace')[:120]}"
                )
            return
        if text.startswith(b"* BYE"):
            raise ConnectionLost("server said BYE")
        fetch = _FETCH.match(text)
        literal = _LITERAL.search(text)
        if fetch is None:
            while literal is not None:  # skip an untagged answer carrying literals
                read(int(literal.group(1)))
                literal = _LITERAL.search(readline())
            continue
        head = fetch.group(1) + b" " + text[fetch.end() :]
        while literal is not None:
            body = read(int(literal.group(1)))
            yield (head[:-2], body)
            head = readline()
            literal = _LITERAL.search(head)
        yield head.rstrip(b"\r\n")


#: A status line's response code (RFC 3501 §7.1) right after its OK / NO / BAD.
_CODE = re.compile(rb"[A-Za-z]+ \[([A-Za-z0-9-]+)(?: ([^\]]*))?\]")


def receive_codes(imap: Any, tag: bytes, verb: str, codes: dict[str, list[bytes]]) -> None:
    """Read up to the tagged answer of *tag*, adding the response codes on the way to *codes*.

    Codes (``[COPYUID 7 1:3 10:12]``) of untagged ``OK`` lines and of the tagged ``OK``
    are added by name, their arguments as bytes; those read before a refusal stay.
    Every other untagged response (EXPUNGE, VANISHED, EXISTS, FETCH) is read and
    dropped: the caller works by UID.
    A ``NO`` or ``BAD`` raises :class:`ServerError` quoting the status text (response
    codes included, never message content); ``BYE`` or a closed connection raises
    :class:`ConnectionLost`.
    """
    readline, read = client_internals.reader(imap)
    done = tag + b" "
    while True:
        text = readline()
        if not text:
            raise ConnectionLost(f"connection closed during {verb}")
        if text.startswith(done):
            answer = text[len(done) :].rstrip(b"\r\n")
            if answer.split(b" ", 1)[0].upper() != b"OK":
                raise ServerError(f"{verb} refused: {answer.decode('ascii', 'replace')[:200]}")
            _collect(answer, codes)
            return
        if text.startswith(b"* BYE"):
            raise ConnectionLost("server said BYE")
        if text.startswith(b"* OK "):
            _collect(text[2:], codes)
        literal = _LITERAL.search(text)
        while literal is not None:  # an untagged answer carrying literals
            read(int(literal.group(1)))
            literal = _LITERAL.search(readline())


def _collect(status: bytes, codes: dict[str, list[bytes]]) -> None:
    found = _CODE.match(status)
    if found is not None:
        name = found.group(1).decode("ascii").upper()
        codes.setdefault(name, []).append(found.group(2) or b"")
