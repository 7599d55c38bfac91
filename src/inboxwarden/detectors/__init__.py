"""Detectors of personal data in mail: pure functions from text to findings (docs/behaviour.md §6).

The flow, by module: `text` turns a MIME message into the texts to scan (`headers`
decodes header values and charsets, `html_text` reduces HTML); `candidates` finds
the few places in a text where personal data could start and hands each to its
validator (`swedish_id`, `payment`, `phone`, `email_address`, with `context` for
order/invoice labels and `luhn` for the shared check digit); `message_scan` is the entry
point; `kinds` holds what comes out; `masking` renders findings for the employee's
own digest. No module does I/O, reads a clock, or keeps a value it found.
"""

from __future__ import annotations

# Explicit, not lazy: a PEP 562 table of names once pointed at a module that had been
# renamed and nothing noticed until the tests failed to import. The scanners' own
# libraries are loaded where first needed (phone.py, payment.py), so importing the
# package (as the policy does, for the kinds) does not load phonenumbers or
# python-stdnum: 11 MB and about a tenth of a second of every run's start-up.
from inboxwarden.detectors.kinds import Finding, Kind, MessageScan, Part, TextScan, kinds_of
from inboxwarden.detectors.masking import mask, mask_text
from inboxwarden.detectors.message_scan import scan_message, scan_text
from inboxwarden.detectors.swedish_id import swedish_id_kind
from inboxwarden.detectors.text import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_RAW_BYTES,
    Extraction,
    TextSegment,
    extract_text,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_RAW_BYTES",
    "Extraction",
    "Finding",
    "Kind",
    "MessageScan",
    "Part",
    "TextScan",
    "TextSegment",
    "extract_text",
    "kinds_of",
    "mask",
    "mask_text",
    "scan_message",
    "scan_text",
    "swedish_id_kind",
]
