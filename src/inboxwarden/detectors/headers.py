"""Header values and text bytes as plain text, however they were encoded.

Messages are parsed with `SCAN_POLICY`: the standard library's compat32 parser, with
header values returned as unfolded text. The modern `email.policy.default` is kinder
about broken headers but about seven times slower, nearly all of it in header
parsing that a scan does not need. What it would add is done here: folded values are
unfolded (RFC 5322 §2.2.3: a CRLF followed by white space is removed, so a folded
``boundary=`` parameter still finds its parts), raw 8-bit bytes in a header are read
as UTF-8 or else Latin-1 instead of becoming replacement characters, and RFC 2047
encoded words are decoded word by word with errors replaced, so one bad word does not
leave the whole subject encoded.
"""

from __future__ import annotations

import codecs
import re
from email.errors import HeaderParseError
from email.header import decode_header
from email.policy import Compat32
from typing import Final

__all__ = ["SCAN_POLICY", "ScanPolicy", "decode_bytes", "header_text", "text_codec"]

_FOLD: Final = re.compile(r"\r?\n(?=[ \t])")
_SURROGATES: Final = re.compile("[\udc80-\udcff]")
_ENCODED_WORD: Final = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_WORD_ERRORS: Final = (HeaderParseError, ValueError, LookupError, AssertionError)
_NOT_CHARSETS: Final = frozenset(
    {"punycode", "idna", "unicode-escape", "raw-unicode-escape", "undefined", "charmap"}
)
"""Codecs that pass for text encodings but are Python transforms, never a mail charset."""


class ScanPolicy(Compat32):
    """compat32 parsing whose header values are unfolded text, never `Header` objects."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        """Return a stored header value unfolded, with raw 8-bit bytes decoded."""
        value = _FOLD.sub("", value)
        if _SURROGATES.search(value):
            raw = value.encode("ascii", "surrogateescape")
            value = decode_bytes(raw, None)[0]
        return value


SCAN_POLICY: Final = ScanPolicy()


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, bool]:
    """Return text bytes decoded, and whether the declared charset had to be ignored.

    The declared charset is used with errors replaced. An unknown charset (or one that
    is not a character set: see `text_codec`), none at all, or US-ASCII over 8-bit bytes
    falls back to UTF-8 if the bytes are valid UTF-8, else to Latin-1, which decodes
    anything.
    """
    unknown = False
    if charset and not (charset.lower() in ("us-ascii", "ascii") and not data.isascii()):
        codec = text_codec(charset)
        if codec is not None:
            try:
                return data.decode(codec, "replace"), False
            except (LookupError, ValueError, TypeError):
                pass
        unknown = True
    try:
        return data.decode("utf-8"), unknown
    except UnicodeDecodeError:
        return data.decode("latin-1"), unknown


def text_codec(charset: str) -> str | None:
    """Return Python's codec for a declared charset, or None if it is not a character set.

    Python's codec registry also holds transforms that are no charset of any mail:
    ``uu``, ``rot13``, ``base64`` (not text encodings: refused by ``bytes.decode``
    anyway), and ``punycode``, ``idna``, ``unicode-escape`` and the like, which decode
    and cost up to quadratic time: a megabyte of ``charset=punycode`` took 41 seconds.
    """
    try:
        info = codecs.lookup(charset)
    except (LookupError, ValueError, TypeError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None
    return info.name


def header_text(value: str) -> str:
    """Return a header value with encoded words decoded and white space collapsed."""
    if "=?" in value:
        try:
            value = _decoded(value)
        except _WORD_ERRORS:  # one bad word: decode the others one by one
            value = _ENCODED_WORD.sub(_decoded_word, value)
    return " ".join(value.split())


def _decoded(value: str) -> str:
    pieces = []
    for chunk, charset in decode_header(value):
        if isinstance(chunk, str):
            pieces.append(chunk)
        elif charset is None:
            pieces.append(chunk.decode("raw-unicode-escape", "replace"))
        else:
            pieces.append(decode_bytes(chunk, charset)[0])
    return "".join(pieces)


def _decoded_word(match: re.Match[str]) -> str:
    try:
        return _decoded(match.group())
    except _WORD_ERRORS:
        return match.group()
