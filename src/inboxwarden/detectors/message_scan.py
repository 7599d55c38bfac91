"""Scanning text and whole messages for personal data: the detectors' entry points.

Both functions are pure: no I/O, no clock, same input same findings. They return
positions, never values (see `inboxwarden.detectors.kinds`).
"""

from __future__ import annotations

from collections.abc import Iterable
from email.message import Message

from inboxwarden.detectors.candidates import find_spans
from inboxwarden.detectors.email_address import normalise_addresses
from inboxwarden.detectors.kinds import Finding, MessageScan, Part, TextScan
from inboxwarden.detectors.phone import MatcherBudget
from inboxwarden.detectors.text import DEFAULT_MAX_BYTES, DEFAULT_MAX_RAW_BYTES, extract_text

__all__ = ["scan_message", "scan_text"]


def scan_text(
    text: str,
    *,
    exclude_addresses: Iterable[str] = frozenset(),
    part: Part = Part.BODY,
    index: int = 0,
    max_chars: int = DEFAULT_MAX_BYTES,
) -> TextScan:
    """Return the personal data in ``text``, in order of position, never overlapping.

    Addresses in ``exclude_addresses`` (the message's own participants, compared
    case-insensitively) are not findings. ``part`` and ``index`` are copied into each
    finding, for a caller that scans a message piece by piece. Only the first
    ``max_chars`` characters are scanned (10 MB of digits once took 1.2 GB and three
    seconds); a longer text, or one with more than the phone matcher's budget of
    digit-dense text, comes back with ``truncated`` set.
    """
    excluded = normalise_addresses(exclude_addresses)
    budget = MatcherBudget()
    truncated = len(text) > max_chars
    if truncated:
        text = text[:max_chars]
    found = TextScan(
        Finding(kind, part, start, end, index)
        for start, end, kind in find_spans(text, excluded, budget)
    )
    found.truncated = truncated or budget.exhausted
    return found


def scan_message(
    message: Message | bytes,
    *,
    exclude_addresses: Iterable[str] = frozenset(),
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_raw_bytes: int = DEFAULT_MAX_RAW_BYTES,
) -> MessageScan:
    """Return the personal data in a message's subject, text parts and attachment names.

    The message may be a parsed `email.message.Message` (or `EmailMessage`) or raw
    RFC 5322 bytes. A broken message is never an exception: what could not be read is
    counted in `MessageScan.errors`, and text beyond ``max_bytes`` decoded bytes, raw
    bytes beyond ``max_raw_bytes``, or parts beyond the depth and part bounds of
    `extract_text`, are left unread and flagged `MessageScan.truncated`. Every path is
    linear in the bytes read, so a scan is bounded in time and memory.
    """
    excluded = normalise_addresses(exclude_addresses)
    extraction = extract_text(message, max_bytes=max_bytes, max_raw_bytes=max_raw_bytes)
    findings: list[Finding] = []
    errors, unread = extraction.errors, extraction.unread
    budget = MatcherBudget()  # one per message, shared by its segments
    for segment in extraction.segments:
        try:
            spans = find_spans(segment.text, excluded, budget)
        except Exception:  # a validator bug on odd text must not abort the mailbox scan
            errors += 1
            unread += 1
            continue
        findings += (
            Finding(kind, segment.part, start, end, segment.index) for start, end, kind in spans
        )
    return MessageScan(
        findings=tuple(findings),
        bytes_scanned=extraction.bytes_read,
        truncated=extraction.truncated or budget.exhausted,
        errors=errors,
        unread=unread,
    )
