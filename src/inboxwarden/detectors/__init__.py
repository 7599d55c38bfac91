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

import importlib
from typing import TYPE_CHECKING, Any

from inboxwarden.detectors.kinds import Finding, Kind, MessageScan, Part, TextScan, kinds_of

if TYPE_CHECKING:
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

# Lazy (PEP 562): the scanners load phonenumbers and python-stdnum, 11 MB and about a
# tenth of a second at every start of a run whose rules never ask about personal data
# (the policy imports `kinds` and `headers`, which runs this file). A name that points
# at a renamed module fails tests/detectors/test_package.py, which resolves each one.
_LAZY = {
    "mask": "masking",
    "mask_text": "masking",
    "scan_message": "message_scan",
    "scan_text": "message_scan",
    "swedish_id_kind": "swedish_id",
    "DEFAULT_MAX_BYTES": "text",
    "DEFAULT_MAX_RAW_BYTES": "text",
    "Extraction": "text",
    "TextSegment": "text",
    "extract_text": "text",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


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
