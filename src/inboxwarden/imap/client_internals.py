"""What inboxwarden borrows from imapclient's and imaplib's private insides, and why.

Tested against imapclient 4.1.0 (pinned ``>=4.1,<4.2`` in pyproject.toml) and the
imaplib of CPython 3.11 to 3.13. This is the only module that touches those names;
tests/test_code_layout.py fails if another module in src/ does, and
tests/imap/test_client_internals.py checks each entry of :data:`BORROWED` (present,
same signature) so that an upgrade that moves or renames one fails there, by name,
rather than deep inside a scan.

imapclient's public API cannot do five things the session needs:

- send a command whose answer is a response code, without imapclient raising on ``NO``
  (``STATUS``/``CREATE``/``MYRIGHTS`` probes read RFC 5530 codes such as ``[CANNOT]``);
- FETCH over a folded UID set (``1:5000``): its ``fetch`` spells out every UID;
- ``SEARCH RETURN (ALL)`` (ESEARCH, RFC 4731) with the untagged ``ESEARCH`` answer;
- ``AUTHENTICATE`` with a callback that answers an error challenge (RFC 7628 §3.2.3)
  instead of sending the token twice, as ``oauth2_login`` would;
- read a large FETCH answer straight from the socket's buffered file
  (:mod:`inboxwarden.imap.stream`), and drop untagged responses imaplib collects
  (``COPYUID``, ``MODIFIED``, ``EXPUNGE``…) before they pile up over a long session.

imapclient still drives imaplib through a private ``_imap`` attribute and marks its own
helpers as provisional ("eventually this should replace _command_and_check"), so a
minor release may move them: hence the narrow pin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BORROWED",
    "TESTED_IMAPCLIENT",
    "Borrowed",
    "authenticate",
    "drop_untagged",
    "folder_argument",
    "imaplib_of",
    "new_tag",
    "raw_untagged",
    "reader",
    "simple_command",
    "take_untagged",
    "uid_command",
    "uid_fetch",
]

#: The imapclient versions this module is tested against; pyproject.toml pins the same.
TESTED_IMAPCLIENT = ">=4.1,<4.2"

RawResponse = tuple[str, list[Any]]


@dataclass(frozen=True, slots=True)
class Borrowed:
    """One private name we use: on which class, with which signature, and why.

    *signature* is ``str(inspect.signature(...))`` of the method as tested, or None for
    an instance attribute (checked on a live connection instead).
    """

    owner: str
    name: str
    signature: str | None
    why: str


#: Every private (or undocumented) name used below; the test checks each one.
BORROWED: tuple[Borrowed, ...] = (
    Borrowed("imapclient.IMAPClient", "_imap", None, "the imaplib connection beneath"),
    Borrowed(
        "imapclient.IMAPClient",
        "_normalise_folder",
        "(self, folder_name)",
        "folder names in modified UTF-7, quoted, as imapclient sends them",
    ),
    Borrowed(
        "imapclient.IMAPClient",
        "_raw_command_untagged",
        "(self, command, args, response_name=None, unpack=False, uid=True)",
        "SEARCH RETURN (ALL) and its untagged ESEARCH answer",
    ),
    Borrowed(
        "imapclient.IMAPClient",
        "_command_and_check",
        "(self, command, *args, unpack: bool = False, uid: bool = False)",
        "AUTHENTICATE with our own challenge callback",
    ),
    Borrowed(
        "imaplib.IMAP4",
        "_simple_command",
        "(self, name, *args)",
        "a command whose NO we read instead of raising",
    ),
    Borrowed("imaplib.IMAP4", "_command", "(self, name, *args)", "UID FETCH over a UID range"),
    Borrowed("imaplib.IMAP4", "_command_complete", "(self, name, tag)", "its tagged answer"),
    Borrowed("imaplib.IMAP4", "_untagged_response", "(self, typ, dat, name)", "its FETCH lines"),
    Borrowed("imaplib.IMAP4", "_new_tag", "(self)", "a tag for a pipelined FETCH"),
    Borrowed(
        "imaplib.IMAP4",
        "tagged_commands",
        None,
        "forget that tag: its answer is read here, not by imaplib",
    ),
    Borrowed(
        "imaplib.IMAP4",
        "untagged_responses",
        None,
        "response codes (COPYUID, MODIFIED, MYRIGHTS) and notices to drop",
    ),
    Borrowed(
        "imaplib.IMAP4",
        "file",
        None,
        "the socket's buffered reader, for the fast FETCH reader (Python 3.14 deprecates "
        "setting it; reading is what we do)",
    ),
)


def imaplib_of(client: Any) -> Any:
    """The ``imaplib.IMAP4`` connection beneath an ``IMAPClient``."""
    return client._imap


def folder_argument(client: Any, folder: str) -> bytes:
    """*folder* as imapclient sends it in a command: modified UTF-7, quoted, as bytes."""
    name: str | bytes = client._normalise_folder(folder)
    return name if isinstance(name, bytes) else name.encode("utf-8")


def simple_command(client: Any, command: str, folder: str, *args: str) -> RawResponse:
    """Send *command* on *folder* and return imaplib's ``(kind, data)`` whatever the kind.

    A ``NO`` comes back as ``("NO", [text])`` rather than an exception, so that its
    response code can be read (RFC 5530).
    """
    imap = client._imap
    kind, data = imap._simple_command(command, client._normalise_folder(folder), *args)
    return kind, data


def uid_fetch(client: Any, uid_set: str, items: str) -> RawResponse:
    """``UID FETCH uid_set items`` with the UID set as given (folded ranges stay folded).

    Returns ``("OK", fetch_lines)`` in imaplib's shape, or the failing kind with the
    tagged answer's text.
    """
    imap = client._imap
    tag = imap._command("UID", "FETCH", uid_set, items)
    kind, data = imap._command_complete("FETCH", tag)
    if kind != "OK":
        return kind, data
    kind, data = imap._untagged_response(kind, data, "FETCH")
    return kind, data


def uid_command(client: Any, command: str, *args: str) -> RawResponse:
    """imaplib's ``uid`` (public on imaplib, reached through the private connection)."""
    kind, data = client._imap.uid(command, *args)
    return kind, data


def raw_untagged(client: Any, command: bytes, args: list[bytes], response_name: str) -> list[Any]:
    """Send *command* with *args* as UID command; the untagged *response_name* lines.

    Raises imapclient's ``IMAPClientError`` on ``NO``/``BAD``, as its public calls do.
    """
    lines: list[Any] = client._raw_command_untagged(command, args, response_name=response_name)
    return lines


def authenticate(client: Any, mechanism: str, respond: Callable[[bytes], bytes]) -> None:
    """``AUTHENTICATE mechanism``, each server challenge answered by *respond*.

    Raises imapclient's ``IMAPClientError`` when the server refuses.
    """
    client._command_and_check("authenticate", mechanism, respond)


def take_untagged(client: Any, name: str) -> list[Any]:
    """The untagged responses (or response codes) called *name* imaplib collected since
    they were last taken, removed from its table."""
    taken: list[Any] = client._imap.untagged_responses.pop(name, [])
    return taken


def drop_untagged(client: Any, *names: str) -> None:
    """Forget the untagged responses called *names* (notices the session does not need)."""
    table = client._imap.untagged_responses
    for name in names:
        table.pop(name, None)


def new_tag(imap: Any) -> bytes:
    """A fresh command tag from *imap* (an ``imaplib.IMAP4``), not registered as awaited:
    the caller reads its tagged answer itself."""
    tag: bytes = imap._new_tag()
    imap.tagged_commands.pop(tag, None)
    return tag


def reader(imap: Any) -> tuple[Callable[[], bytes], Callable[[int], bytes]]:
    """The ``readline`` and ``read`` of *imap*'s buffered socket file, without imaplib's
    per-line layers (see :mod:`inboxwarden.imap.stream` for why)."""
    file = imap.file
    return file.readline, file.read
