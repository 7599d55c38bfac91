"""Finds personal data in chosen messages on the server, reading as little as possible.

Used by the fan-out scan for its candidates and by the scan of the INBOX when a rule has
a ``personal_data`` condition. BODYSTRUCTURE (RFC 3501 §7.4.2) tells which parts hold
text, including those of attached messages; only the first bytes of those are fetched
(partial FETCH, §6.4.5), and attachment names are read from the structure, so no
attachment is ever downloaded.

What one message may cost is bounded (docs/behaviour.md §5.7): at most `MAX_TEXT_PARTS` text parts,
`PART_LIMIT` bytes of each and `MESSAGE_LIMIT` bytes in all are fetched. A message over
a bound, or one whose structure or text could not be read in full, is *unreadable*:
what was found in the part that was read still counts, but no finding is no proof that
it holds no personal data, so the INBOX scan skips it and the fan-out scan counts it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Final

from inboxwarden.detectors import Kind, Part, kinds_of, scan_message, scan_text
from inboxwarden.detectors.file_names import file_name_text
from inboxwarden.imap.session import ImapSession
from inboxwarden.imap.structure import BodyPart
from inboxwarden.policy.message import MessageInfo

__all__ = [
    "FETCH_LIMIT",
    "MAX_TEXT_PARTS",
    "MESSAGE_LIMIT",
    "PART_LIMIT",
    "ContentScan",
    "personal_data_kinds",
]

PART_LIMIT: Final = 200_000
"""Bytes read of each text part: enough for any letter, bounded for a pasted log file."""

MAX_TEXT_PARTS: Final = 50
"""Text parts fetched per message. One message with 3,000 text parts once made every
run of its mailbox fail (``BAD … command line too large``)."""

MESSAGE_LIMIT: Final = 1_000_000
"""Bytes of text fetched per message, over all its parts."""

FETCH_LIMIT: Final = 20_000_000
"""Bytes one FETCH command may ask for: fewer messages go in a command with many parts."""


@dataclass
class ContentScan:
    """The personal data found in each message, what could not be read, and the cost."""

    kinds: dict[int, frozenset[Kind]] = field(default_factory=dict)
    unreadable: set[int] = field(default_factory=set)
    """Messages over a bound or not read in full: their kinds are a lower bound."""
    fetched_bytes: int = 0


def personal_data_kinds(session: ImapSession, messages: dict[int, MessageInfo]) -> ContentScan:
    """The kinds of personal data in each message, which could not be read, and the cost.

    Subjects (also of attached messages), text parts and attachment names are scanned;
    the messages' own participants do not count as e-mail addresses found in them.
    """
    structures = session.fetch_structures(list(messages))
    result = ContentScan()
    by_sections: dict[tuple[str, ...], list[int]] = defaultdict(list)
    found: dict[int, set[Kind]] = defaultdict(set)
    for uid, message in messages.items():
        parts = structures.get(uid)
        if parts is None:
            result.unreadable.add(uid)
            parts = []
        exclude = _participants(message)
        texts = [(Part.SUBJECT, message.subject)]
        texts += [(Part.SUBJECT, p.subject) for p in parts if p.subject]
        texts += [(Part.ATTACHMENT_NAME, file_name_text(p.filename)) for p in parts if p.filename]
        for part, text in texts:
            scanned = scan_text(text, exclude_addresses=exclude, part=part)
            found[uid] |= kinds_of(scanned)
            if scanned.truncated:
                result.unreadable.add(uid)
        sections, complete = _sections(parts)
        if not complete:
            result.unreadable.add(uid)
        if sections:
            by_sections[sections].append(uid)
    for sections, uids in by_sections.items():
        _scan_text_parts(session, messages, sections, uids, result, found)
    result.kinds = {uid: frozenset(found.get(uid, ())) for uid in messages}
    return result


def _scan_text_parts(
    session: ImapSession,
    messages: dict[int, MessageInfo],
    sections: tuple[str, ...],
    uids: list[int],
    result: ContentScan,
    found: dict[int, set[Kind]],
) -> None:
    """Fetch and scan the same *sections* of the messages *uids*, adding to *found*."""
    per_message = max(1, sum(1 for s in sections if s != "HEADER")) * PART_LIMIT
    fetched = session.fetch_sections(
        uids, sections, limit=PART_LIMIT, size=max(1, min(200, FETCH_LIMIT // per_message))
    )
    result.fetched_bytes += sum(len(v) for v in fetched.values())
    for uid in uids:
        exclude = _participants(messages[uid])
        for section in sections:
            if section != "HEADER" and (uid, section) not in fetched:
                result.unreadable.add(uid)  # the server did not answer for it
            raw = _part_bytes(fetched, uid, section)
            if raw:
                read = scan_message(raw, exclude_addresses=exclude)
                found[uid] |= read.kinds
                if not read.complete:
                    result.unreadable.add(uid)


def _sections(parts: list[BodyPart]) -> tuple[tuple[str, ...], bool]:
    """What to fetch for the text parts, within the bounds, and whether that is all of it.

    A message that is not multipart is fetched as ``HEADER`` + ``1``, its header being
    the part's MIME header.
    """
    texts = [p for p in parts if p.is_text]
    if len(parts) == 1 and [p.section for p in texts] == ["1"]:
        return ("HEADER", "1"), texts[0].size <= PART_LIMIT
    complete = not any(p.unread for p in parts)
    chosen: list[str] = []
    budget = MESSAGE_LIMIT
    for part in texts:
        cost = min(part.size, PART_LIMIT)
        if len(chosen) == MAX_TEXT_PARTS or cost > budget:
            return tuple(chosen), False
        chosen.append(part.section)
        budget -= cost
        complete &= part.size <= PART_LIMIT
    return tuple(chosen), complete


def _part_bytes(fetched: dict[tuple[int, str], bytes], uid: int, section: str) -> bytes:
    """The part as a small MIME entity: its own header (or the message's), then its body."""
    if section == "HEADER":
        return b""
    header = fetched.get((uid, f"{section}.MIME")) or fetched.get((uid, "HEADER"), b"")
    body = fetched.get((uid, section), b"")
    if not body:
        return b""
    return header.rstrip(b"\r\n") + b"\r\n\r\n" + body


def _participants(message: MessageInfo) -> frozenset[str]:
    """The message's own addresses, which are not personal data found *in* the message."""
    addresses = {message.from_address, *message.to_addresses, *message.cc_addresses}
    return frozenset(a for a in addresses if a)
