"""The text of a MIME message that detectors read: subject, text parts, attachment names.

Mail in the wild is broken in every way the corpus shows: unknown or lying charsets,
8-bit bytes in headers, truncated base64, headers the standard library's parser trips
over. Extraction therefore never raises; each part is read on its own, and what could
not be read is counted in ``errors`` so that a scan can say it is incomplete rather
than silently clean.

Raw bytes are parsed with `headers.SCAN_POLICY` (fast compat32 parsing, headers as
text). Text is decoded with the declared charset (errors replaced); a charset Python
does not know falls back to UTF-8 if the bytes are UTF-8, else Latin-1, which decodes
anything (`headers.decode_bytes`). HTML is reduced to its visible text with entities
decoded (`html_to_text`). A cap on decoded text bytes per message (``max_bytes``)
bounds the work on a huge part: past it the text is cut and the extraction marked
``truncated``, and an encoded payload far past the cap is not even decoded beyond it.
"""

from __future__ import annotations

import binascii
import email
import quopri
import re
from dataclasses import dataclass, field
from email.message import Message
from typing import Final

from inboxwarden.detectors.file_names import file_name_text
from inboxwarden.detectors.headers import SCAN_POLICY, decode_bytes, header_text
from inboxwarden.detectors.html_text import html_to_text
from inboxwarden.detectors.kinds import Part

DEFAULT_MAX_BYTES: Final = 1_000_000
"""Decoded text scanned per message: far above any real mail text, far below an attachment."""

DEFAULT_MAX_RAW_BYTES: Final = 20_000_000
"""Raw message bytes parsed at most. Parsing runs at ~45 MB/s, so this bounds a scan to
about half a second; mail clients put the text before the attachments, so what is cut
is attachment data (and the scan says ``truncated``)."""

_BASE64_NOISE: Final = re.compile(rb"[^A-Za-z0-9+/]")


@dataclass(frozen=True, slots=True)
class TextSegment:
    """One piece of text to scan, and where in the message it came from."""

    part: Part
    index: int
    text: str


@dataclass(slots=True)
class Extraction:
    """The texts of one message, with the bytes read and what could not be read."""

    segments: list[TextSegment] = field(default_factory=list)
    bytes_read: int = 0
    truncated: bool = False
    errors: int = 0
    _counts: dict[Part, int] = field(default_factory=dict)

    def add(self, part: Part, text: str) -> None:
        """Append a segment, numbering it among the segments of the same part."""
        index = self._counts.get(part, 0)
        self._counts[part] = index + 1
        self.segments.append(TextSegment(part, index, text))


def extract_text(
    message: Message | bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_raw_bytes: int = DEFAULT_MAX_RAW_BYTES,
) -> Extraction:
    """Return the scannable texts of a message given as an object or as raw bytes."""
    out = Extraction()
    if isinstance(message, bytes | bytearray):
        if len(message) > max_raw_bytes:
            message = message[:max_raw_bytes]
            out.truncated = True
        try:
            message = email.message_from_bytes(bytes(message), policy=SCAN_POLICY)
        except Exception:  # a parser bug must not stop a mailbox scan
            out.errors += 1
            return out
    try:
        parts = list(message.walk())
    except Exception:  # a broken multipart tree: read the top part alone
        out.errors += 1
        parts = [message]
    _add_header(out, message, max_bytes)
    for part in parts:
        try:
            _add_part(out, part, max_bytes)
        except Exception:  # one unreadable part must not hide the others
            out.errors += 1
    return out


def _add_part(out: Extraction, part: Message, max_bytes: int) -> None:
    """Add one part's attachment name, its text if it has any, and an inner subject."""
    name = part.get_filename()
    if name:
        _add_budgeted(out, Part.ATTACHMENT_NAME, file_name_text(header_text(name)), max_bytes)
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            _add_header(out, inner[0], max_bytes)
    if part.get_content_maintype() != "text" or part.is_multipart():
        return
    is_attachment = part.get_content_disposition() == "attachment"
    data, cut = _payload_bytes(part, max(0, max_bytes - out.bytes_read))
    text, unknown_charset = decode_bytes(data, part.get_content_charset())
    out.errors += unknown_charset
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    out.truncated |= cut
    out.bytes_read += len(data)
    out.add(Part.ATTACHMENT if is_attachment else Part.BODY, text)


def _add_header(out: Extraction, message: Message, max_bytes: int) -> None:
    """Add the subject of a message or of a message attached to it."""
    try:
        value = message.get("subject")
        subject = None if value is None else header_text(str(value))
    except Exception:  # header parser bugs: fall back to the raw value
        out.errors += 1
        raw = [v for k, v in message.raw_items() if k.lower() == "subject"]
        subject = header_text(str(raw[0])) if raw else None
    if subject:
        _add_budgeted(out, Part.SUBJECT, subject, max_bytes)


def _add_budgeted(out: Extraction, part: Part, text: str, max_bytes: int) -> None:
    """Add a short text (a subject, a name), cut to what is left of the budget."""
    room = max(0, max_bytes - out.bytes_read)
    if len(text) > room:
        text = text[:room]
        out.truncated = True
    out.bytes_read += len(text)
    out.add(part, text)


def _payload_bytes(part: Message, limit: int) -> tuple[bytes, bool]:
    """Return a part's decoded payload, at most ``limit`` bytes, and whether it was cut."""
    raw = part.get_payload()
    if isinstance(raw, str) and len(raw) > 2 * limit + 1024:
        data = _decode_prefix(raw[: 2 * limit + 1024], part.get("content-transfer-encoding"))
        return data[:limit], True
    decoded = part.get_payload(decode=True)
    data = decoded if isinstance(decoded, bytes) else b""
    if len(data) > limit:
        return data[:limit], True
    return data, False


def _decode_prefix(raw: str, transfer_encoding: object) -> bytes:
    """Decode the start of an oversized payload without decoding the rest."""
    try:
        encoded = raw.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:  # a message built in memory holds real characters
        encoded = raw.encode("utf-8", "surrogateescape")
    cte = str(transfer_encoding or "").strip().lower()
    if cte == "base64":
        compact = _BASE64_NOISE.sub(b"", encoded)
        try:
            return binascii.a2b_base64(compact[: len(compact) // 4 * 4])
        except binascii.Error:
            return b""
    if cte == "quoted-printable":
        return quopri.decodestring(encoded)
    return encoded
