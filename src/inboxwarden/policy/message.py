"""What the scan knows about one message: plain data, no connection behind it.

The scan fetches only a few header fields, so this module parses them itself instead of
building an ``email.message`` object per message: at 50,000 messages the standard
parser alone would cost seconds. Address and subject decoding happen lazily, only for
the messages and fields a rule actually reads.
"""

from __future__ import annotations

import email.header
import email.utils
import functools
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime

from inboxwarden.detectors.headers import text_codec
from inboxwarden.detectors.kinds import Kind

__all__ = ["OWN_MESSAGE_HEADER", "MessageInfo", "decode_words", "flag_set", "parse_header_block"]

#: Set on every message inboxwarden writes itself (the digest), so that it never flags,
#: files or deletes its own mail; the scan always fetches it.
OWN_MESSAGE_HEADER = "X-InboxWarden-Digest"


def parse_header_block(raw: bytes) -> dict[str, str]:
    """Header fields of *raw* by lower-case name, unfolded; the first occurrence wins.

    Undecodable bytes are replaced rather than raised on: a broken header must never
    stop a scan (docs/behaviour.md §5.7: a broken message is skipped and counted).
    """
    text = raw.decode("utf-8", errors="replace")
    if "\n " in text or "\n\t" in text:
        text = _FOLD.sub(" ", text)
    fields: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and name and " " not in name:
            key = sys.intern(name.lower())  # thousands of messages share a few names
            if key not in fields:
                # Senders and list names repeat across an INBOX: one string each. A
                # Message-ID never does, and interning it would only cost a lookup.
                value = value.strip()
                fields[key] = value if key == "message-id" else sys.intern(value)
    return fields


@functools.lru_cache(maxsize=1024)
def flag_set(flags: tuple[str, ...]) -> frozenset[str]:
    """*flags* as a frozenset shared by every message with the same flags.

    An INBOX has a handful of flag combinations; a frozenset per message would be about
    a fifth of what a scanned message costs in memory.
    """
    return frozenset(flags)


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words (``=?utf-8?q?…?=``); malformed words stay as they are."""
    if "=?" not in value:
        return value
    try:
        words = email.header.decode_header(value)
        # "punycode" and the like are no charset, and decode in quadratic time.
        if any(charset and text_codec(charset) is None for _, charset in words):
            return value
        return str(email.header.make_header(words))
    except (ValueError, LookupError, UnicodeError):
        return value


_FOLD = re.compile(r"\r?\n[ \t]+")
# The common shapes, "Name <a@b>" and "a@b", read without the full RFC 5322 parser.
_SIMPLE_ADDRESS = re.compile(
    r'^\s*(?:[^<>",;:@()\\]*<)?([^\s<>",;:@()\\]+@[^\s<>",;:@()\\]+)>?\s*$'
)


def _addresses(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    simple = _SIMPLE_ADDRESS.match(value)
    if simple is not None:
        return (simple.group(1).lower(),)
    return tuple(addr.lower() for _, addr in email.utils.getaddresses([value]) if "@" in addr)


_UNSET: object = object()


@dataclass(frozen=True, slots=True)
class MessageInfo:
    """One INBOX message as the scan saw it (RFC 3501 §2.3 message attributes).

    Slots and hand-made caches instead of ``cached_property``: a run holds tens of
    thousands of these, and a per-instance ``__dict__`` would cost a third more memory.
    """

    uid: int
    internaldate: datetime
    size: int
    flags: frozenset[str]
    headers: dict[str, str] = field(default_factory=dict)
    has_attachment: bool | None = None
    personal_data: frozenset[Kind] | None = None
    _from: object = field(default=_UNSET, init=False, repr=False, compare=False)
    _to: object = field(default=_UNSET, init=False, repr=False, compare=False)
    _cc: object = field(default=_UNSET, init=False, repr=False, compare=False)
    _subject: object = field(default=_UNSET, init=False, repr=False, compare=False)

    def _remember(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)  # a cache, not a change of the message

    @property
    def message_id(self) -> str | None:
        """The Message-ID without angle brackets, or None when the sender set none."""
        value = self.headers.get("message-id", "").strip()
        return value.strip("<>") or None

    @property
    def from_address(self) -> str | None:
        """The sender's address in lower case."""
        if self._from is _UNSET:
            found = _addresses(self.headers.get("from"))
            self._remember("_from", sys.intern(found[0]) if found else None)
        return self._from  # type: ignore[return-value]

    @property
    def from_domain(self) -> str | None:
        """The sender's domain in lower case."""
        address = self.from_address
        return address.rpartition("@")[2] if address else None

    @property
    def to_addresses(self) -> tuple[str, ...]:
        """Addresses in To, lower-cased."""
        if self._to is _UNSET:
            self._remember("_to", _addresses(self.headers.get("to")))
        return self._to  # type: ignore[return-value]

    @property
    def cc_addresses(self) -> tuple[str, ...]:
        """Addresses in Cc, lower-cased."""
        if self._cc is _UNSET:
            self._remember("_cc", _addresses(self.headers.get("cc")))
        return self._cc  # type: ignore[return-value]

    @property
    def subject(self) -> str:
        """The decoded subject."""
        if self._subject is _UNSET:
            self._remember("_subject", decode_words(self.headers.get("subject", "")))
        return self._subject  # type: ignore[return-value]

    @property
    def list_id(self) -> str | None:
        """The List-Id header (RFC 2919), when the message came through a mailing list."""
        value = self.headers.get("list-id")
        return value.strip() if value else None

    @property
    def is_own(self) -> bool:
        """True for a message inboxwarden wrote itself, such as the employee digest."""
        return OWN_MESSAGE_HEADER.lower() in self.headers

    def header(self, name: str) -> str | None:
        """A fetched header field by name, decoded."""
        value = self.headers.get(name.lower())
        return None if value is None else decode_words(value)
