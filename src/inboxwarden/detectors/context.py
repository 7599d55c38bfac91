"""Labels before a number that say it is a business reference, not personal data.

A bare ten-digit order number and a personnummer written without its hyphen look the
same, and one in ten random numbers with a plausible date passes the Luhn check; the
same holds for a 16-digit OCR reference and a card number. Only the words in front
tell them apart, so a bare number directly after a label such as "Ordernummer:" or
"OCR" is taken at its word. Numbers in their own distinctive shape (``880320-0016``,
``4111 1111 1111 1111``) are never excused by a label.
"""

from __future__ import annotations

import re

__all__ = ["is_labelled_reference"]

_LOOKBACK = 40
"""Characters before a number searched for a label; enough for "Fakturanummer nr.: "."""

_REFERENCE_LABEL = re.compile(
    r"(?:\b(?:order|beställning|bokning|booking|faktura|invoice|ocr|ref|referens|reference"
    r"|artikel|art|tracking|kolli|sändning|shipment|ärende|case|ticket|serie|serial)"
    r"(?:[.-]?(?:nr|no|nummer|number|id))?(?:[ \t]+(?:nr|no|number|nummer|id))?\.?|#)"
    r"[ \t]*[:#.]?[ \t]*\Z",
    re.IGNORECASE,
)


def is_labelled_reference(text: str, start: int) -> bool:
    """Return whether the number at ``start`` follows a business-reference label on its line."""
    return _REFERENCE_LABEL.search(text[max(0, start - _LOOKBACK) : start]) is not None
