"""Which commands an IMAP client sent, from a recorded byte stream or Dovecot's rawlog."""

from __future__ import annotations

import re
from collections.abc import Iterable

from inboxwarden.demo.localserver import LocalDovecot

_LITERAL = re.compile(rb"\{(\d+)\+?\}\r?\n$")
_COMMAND = re.compile(r"([A-Za-z0-9.]+) ([A-Za-z][A-Za-z0-9-]*)(?: ([A-Za-z]+))?")


class CommandSplitter:
    """Cuts a client's byte stream into command lines, stepping over literals.

    Each piece of the stream comes out as (bytes, line): *line* is the text of a line
    that starts a client command or a continuation response (base64 of AUTHENTICATE,
    DONE of IDLE), and None for literal data and the rest of a line after a literal.
    A partial line stays inside until its end arrives.
    """

    def __init__(self) -> None:
        self._pending = bytearray()
        self._literal_left = 0
        self._inside_command = False

    def feed(self, data: bytes) -> list[tuple[bytes, str | None]]:
        """Takes more of the stream and returns the complete pieces in it."""
        self._pending += data
        pieces: list[tuple[bytes, str | None]] = []
        while self._pending:
            if self._literal_left:
                taken = bytes(self._pending[: self._literal_left])
                del self._pending[: len(taken)]
                self._literal_left -= len(taken)
                pieces.append((taken, None))
                continue
            end = self._pending.find(b"\n")
            if end < 0:
                break
            line = bytes(self._pending[: end + 1])
            del self._pending[: end + 1]
            text = None if self._inside_command else line.decode("utf-8", "replace").rstrip()
            literal = _LITERAL.search(line)
            self._literal_left = int(literal.group(1)) if literal else 0
            self._inside_command = literal is not None
            pieces.append((line, text))
        return pieces


def command_verbs(lines: Iterable[str]) -> list[str]:
    """Returns the verb of each tagged command line: ``SELECT``, ``UID MOVE``, ``APPEND``.

    Lines without a tag and a verb (base64 continuation lines, IDLE's DONE) are skipped.
    """
    verbs: list[str] = []
    for line in lines:
        match = _COMMAND.match(line)
        if match is None:
            continue
        verb = match.group(2).upper()
        if verb == "UID" and match.group(3):
            verb = f"UID {match.group(3).upper()}"
        verbs.append(verb)
    return verbs


def stream_lines(data: bytes) -> list[str]:
    """Returns the command lines in one recorded client stream (see CommandSplitter)."""
    return [line for _piece, line in CommandSplitter().feed(data) if line is not None]


def rawlog_verbs(server: LocalDovecot, email: str) -> list[str]:
    """Returns the verbs of every command *email*'s clients sent after login (trace=True)."""
    return [verb for data in server.rawlog(email) for verb in command_verbs(stream_lines(data))]
