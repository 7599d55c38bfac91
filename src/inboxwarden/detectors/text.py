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
decoded (`html_to_text`). Attached messages (``message/rfc822``, ``message/global``)
are read like the message itself: a forward is the commonest way personal data travels.

Every bound marks the extraction ``truncated``, so that a scan says it could not see
everything instead of passing as clean: a cap on decoded text bytes per message
(``max_bytes``; an encoded payload far past it is not even decoded beyond it), on raw
bytes parsed, on nesting (`MAX_DEPTH`), on parts (`MAX_PARTS`), and on the structure
the parser is given (`MAX_MARKERS`: a message too deep to parse in bounded time is
scanned as plain text instead).
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

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_RAW_BYTES",
    "MAX_DEPTH",
    "MAX_MARKERS",
    "MAX_PARTS",
    "Extraction",
    "TextSegment",
    "extract_text",
]

DEFAULT_MAX_BYTES: Final = 1_000_000
"""Decoded text scanned per message: far above any real mail text, far below an attachment."""

DEFAULT_MAX_RAW_BYTES: Final = 20_000_000
"""Raw message bytes parsed at most. Parsing runs at ~45 MB/s, so this bounds a scan to
about half a second; mail clients put the text before the attachments, so what is cut
is attachment data (and the scan says ``truncated``)."""

MAX_DEPTH: Final = 10
"""Levels of multiparts and attached messages read; real mail nests three or four."""

MAX_PARTS: Final = 1_000
"""MIME parts read per message; a message with more is read up to here, and truncated."""

MAX_MARKERS: Final = 100
"""Boundary declarations and attached messages a message may declare and still be parsed."""

_PARSE_BUDGET: Final = 20_000_000
"""Lines times structure markers parsed: the parser's work, about two seconds of it."""

_ATTACHED_MESSAGES: Final = frozenset({"message/rfc822", "message/global"})
_NESTING_MARKER: Final = re.compile(rb"(?i)boundary\s*=|message/(?:rfc822|global)")
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
    unread: int = 0
    """Parts that could not be read at all (``errors`` also counts charset fallbacks)."""
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
    """Return the scannable texts of a message given as an object or as raw bytes.

    Attached messages (``message/rfc822``) are read like the message itself, down to
    `MAX_DEPTH` levels of nesting; deeper parts, parts past `MAX_PARTS`, and a message
    whose structure is too deep to parse in bounded time are not read part by part,
    which makes the extraction ``truncated`` (never silently clean).
    """
    out = Extraction()
    if isinstance(message, bytes | bytearray):
        raw = bytes(message)
        if len(raw) > max_raw_bytes:
            raw = raw[:max_raw_bytes]
            out.truncated = True
        parsed = _parse(out, raw, max_bytes)
        if parsed is None:
            return out
        message = parsed
    _add_header(out, message, max_bytes)
    _walk(out, message, max_bytes, max_raw_bytes)
    return out


def _parse(out: Extraction, raw: bytes, max_bytes: int) -> Message | None:
    """Parse raw bytes, or read them as plain text where the structure is unparseable.

    The standard library's parser checks every line against every enclosing boundary,
    and recurses once per level: 200 nested multiparts over 600 kB took 8.6 seconds,
    and 1,000 raised `RecursionError`, hiding the text from the detectors. Structure
    markers are counted first (a C-speed search); too many, and the bytes are scanned
    as they are, as text, and the extraction marked ``truncated``; many, and only as
    many lines are parsed as the parse budget allows.
    """
    markers = len(_NESTING_MARKER.findall(raw))
    if markers > MAX_MARKERS:
        _add_raw(out, raw, max_bytes)
        return None
    lines = raw.count(b"\n") + 1
    if markers > 1 and lines * markers > _PARSE_BUDGET:
        raw = raw[: len(raw) * (_PARSE_BUDGET // markers) // lines]
        out.truncated = True
    try:
        return email.message_from_bytes(raw, policy=SCAN_POLICY)
    except Exception:  # a parser bug must not stop a mailbox scan
        out.errors += 1
        out.unread += 1
        _add_raw(out, raw, max_bytes)
        return None


def _add_raw(out: Extraction, raw: bytes, max_bytes: int) -> None:
    """Scan a message whose structure could not be read as one text, marked incomplete."""
    data = raw[: max(0, max_bytes - out.bytes_read)]
    out.truncated = True
    out.bytes_read += len(data)
    out.add(Part.BODY, decode_bytes(data, None)[0])


def _walk(out: Extraction, message: Message, max_bytes: int, max_raw_bytes: int) -> None:
    """Read every part in document order, iteratively, within the depth and part bounds."""
    stack: list[tuple[Message, int]] = [(message, 0)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            out.truncated = True
            return
        try:
            children = _add_part(out, part, max_bytes, max_raw_bytes)
        except Exception:  # one unreadable part must not hide the others
            out.errors += 1
            out.unread += 1
            continue
        if children and depth >= MAX_DEPTH:
            out.truncated = True
            continue
        stack.extend((child, depth + 1) for child in reversed(children))


def _add_part(out: Extraction, part: Message, max_bytes: int, max_raw_bytes: int) -> list[Message]:
    """Add one part's attachment name and text, and return the parts inside it.

    An attached message's subject is read here and its parts are returned, also when
    the parser left it unparsed (a ``message/rfc822`` part sent base64-encoded). A
    multipart the parser could not split (no boundary) is read as plain text.
    """
    name = part.get_filename()
    if name:
        _add_budgeted(out, Part.ATTACHMENT_NAME, file_name_text(header_text(name)), max_bytes)
    if part.get_content_type() in _ATTACHED_MESSAGES:
        inner = _attached_message(part, max_raw_bytes)
        if inner is None:
            out.errors += 1
            out.unread += 1
            return []
        _add_header(out, inner, max_bytes)
        return [inner]
    payload = part.get_payload()
    if isinstance(payload, list):
        return [child for child in payload if isinstance(child, Message)]
    if part.get_content_maintype() not in ("text", "multipart"):
        return []
    is_attachment = part.get_content_disposition() == "attachment"
    data, cut = _payload_bytes(part, max(0, max_bytes - out.bytes_read))
    text, unknown_charset = decode_bytes(data, part.get_content_charset())
    out.errors += unknown_charset
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    out.truncated |= cut
    out.bytes_read += len(data)
    out.add(Part.ATTACHMENT if is_attachment else Part.BODY, text)
    return []


def _attached_message(part: Message, max_raw_bytes: int) -> Message | None:
    """The message inside an attached-message part, decoded first if it was encoded.

    RFC 2046 §5.2.1 allows no transfer encoding for ``message/rfc822``, but some
    clients base64-encode forwards anyway, and the parser then takes the encoded text
    for a headerless message; ``message/global`` (RFC 6532) is not parsed at all.
    """
    payload = part.get_payload()
    cte = str(part.get("content-transfer-encoding") or "").strip().lower()
    encoded = cte in ("base64", "quoted-printable")
    if isinstance(payload, list):
        first = payload[0] if payload and isinstance(payload[0], Message) else None
        if first is None or not encoded:
            return first
        data = _decode_prefix(first.as_string()[: 2 * max_raw_bytes], cte)
    elif isinstance(payload, str):
        data = _decode_prefix(payload[: 2 * max_raw_bytes], cte if encoded else None)
    else:
        return None
    inner = data[:max_raw_bytes]
    if not inner or len(_NESTING_MARKER.findall(inner)) > MAX_MARKERS:
        return None
    return email.message_from_bytes(inner, policy=SCAN_POLICY)


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
