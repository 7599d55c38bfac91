"""Finds personal data in chosen messages on the server, reading as little as possible.

Used by the fan-out scan for its candidates and by the scan of the INBOX when a rule has
a ``personal_data`` condition. BODYSTRUCTURE (RFC 3501 §7.4.2) tells which parts hold
text; only the first bytes of those are fetched (partial FETCH, §6.4.5), and attachment
names are read from the structure, so no attachment is ever downloaded.
"""

from __future__ import annotations

from collections import defaultdict

from inboxwarden.detectors import Kind, Part, kinds_of, scan_message, scan_text
from inboxwarden.detectors.file_names import file_name_text
from inboxwarden.imap.session import ImapSession
from inboxwarden.imap.structure import BodyPart
from inboxwarden.message import MessageInfo

#: Bytes read of each text part: enough for any letter, bounded for a pasted log file.
PART_LIMIT = 200_000


def personal_data_kinds(
    session: ImapSession, messages: dict[int, MessageInfo]
) -> tuple[dict[int, frozenset[Kind]], int]:
    """The kinds of personal data in each message, and how many bytes that fetched.

    Subjects, text parts and attachment names are scanned; the messages' own
    participants do not count as e-mail addresses found in them.
    """
    structures = session.fetch_structures(list(messages))
    by_sections: dict[tuple[str, ...], list[int]] = defaultdict(list)
    found: dict[int, set[Kind]] = defaultdict(set)
    fetched_bytes = 0
    for uid, message in messages.items():
        parts = structures.get(uid, [])
        exclude = _participants(message)
        subject = scan_text(message.subject, exclude_addresses=exclude, part=Part.SUBJECT)
        found[uid] |= kinds_of(subject)
        for part in parts:
            if part.filename:
                names = scan_text(
                    file_name_text(part.filename),
                    exclude_addresses=exclude,
                    part=Part.ATTACHMENT_NAME,
                )
                found[uid] |= kinds_of(names)
        sections = tuple(_sections(parts))
        if sections:
            by_sections[sections].append(uid)
    for sections, uids in by_sections.items():
        fetched = session.fetch_sections(uids, sections, limit=PART_LIMIT)
        fetched_bytes += sum(len(v) for v in fetched.values())
        for uid in uids:
            exclude = _participants(messages[uid])
            for section in sections:
                raw = _part_bytes(fetched, uid, section)
                if raw:
                    found[uid] |= scan_message(raw, exclude_addresses=exclude).kinds
    return {uid: frozenset(found.get(uid, ())) for uid in messages}, fetched_bytes


def _sections(parts: list[BodyPart]) -> list[str]:
    """What to fetch for the text parts: ``HEADER`` + ``1`` for a single-part message."""
    texts = [p.section for p in parts if p.is_text]
    if len(parts) == 1 and texts == ["1"]:
        return ["HEADER", "1"]
    return texts


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
