"""Payment card numbers and IBANs in text.

A card number must pass Luhn, have 13 to 19 digits, and fit the issuer prefix and
length of a card scheme (ISO/IEC 7812 issuer identification numbers). The prefix test
is what keeps random Luhn-valid 16-digit references out: one in ten passes Luhn alone,
and Swedish OCR payment references are Luhn numbers by design. It is written compact
or in the groups printed on cards (4-4-4-4, 4-6-5, 4-6-4); a group that continues into
more digits (an IBAN, a longer reference) is not a card.

An IBAN is validated by python-stdnum (`stdnum.iban`: ISO 13616 mod-97 and each
country's length and BBAN format), the one call into that untyped module here. It is
written compact or grouped with spaces, dots or hyphens, and may be followed by
ordinary words, so the longest run of groups that validates is taken.
"""

from __future__ import annotations

import re
from typing import Final

from stdnum import iban as _iban

from inboxwarden.detectors.context import is_labelled_reference
from inboxwarden.detectors.kinds import Kind
from inboxwarden.detectors.luhn import luhn_ok

_CARD: Final = re.compile(
    r"(?<![\w+.,/#\-])(?<![0-9][ \-])"
    r"(?:[0-9]{13,19}"
    r"|[0-9]{4}(?P<s>[ \-])[0-9]{4}(?P=s)[0-9]{4}(?P=s)[0-9]{1,4}(?:(?P=s)[0-9]{1,3})?"
    r"|[0-9]{4}(?P<a>[ \-])[0-9]{6}(?P=a)[0-9]{4,5})"
    r"(?!\w|[\-.,/][0-9]|[ \-][0-9]{4})"
)

_IBAN_SHAPE: Final = re.compile(r"[A-Z]{2} ?[0-9]{2}(?:[ .\-]?[A-Za-z0-9]){10,32}")
"""Country code, check digits, then up to 32 BBAN characters in any grouping."""

_IBAN_SEPARATORS: Final = re.compile(r"[ .\-]")

_IBAN_MIN_LENGTH: Final = 15
"""Norway's 15 characters is the shortest IBAN of any country."""


def find_cards(text: str, pos: int, endpos: int) -> list[tuple[int, int, Kind]]:
    """Return the spans of valid card numbers starting in ``text[pos:endpos]``."""
    found: list[tuple[int, int, Kind]] = []
    for match in _CARD.finditer(text, pos, endpos):
        raw = match.group()
        digits = raw.replace(" ", "").replace("-", "")
        if not (card_scheme_fits(digits) and luhn_ok(digits)):
            continue
        if raw == digits and is_labelled_reference(text, match.start()):
            continue
        found.append((match.start(), match.end(), Kind.PAYMENT_CARD))
    return found


def card_scheme_fits(digits: str) -> bool:
    """Return whether the prefix and length fit a card scheme in use."""
    n = len(digits)
    p2, p3, p4 = int(digits[:2]), int(digits[:3]), int(digits[:4])
    if digits[0] == "4":  # Visa
        return n in (13, 16, 19)
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:  # Mastercard
        return n == 16
    if p2 in (34, 37):  # American Express
        return n == 15
    if p2 in (36, 38, 39) or 300 <= p3 <= 305:  # Diners Club
        return 14 <= n <= 19
    if p4 == 6011 or p2 in (62, 65) or 644 <= p3 <= 649 or 3528 <= p4 <= 3589 or 2200 <= p4 <= 2204:
        return 16 <= n <= 19  # Discover, UnionPay, JCB, Mir
    if p2 == 50 or 56 <= p2 <= 69:  # Maestro
        return 12 <= n <= 19
    return False


def find_iban(text: str, pos: int) -> tuple[int, int, Kind] | None:
    """Return the span of a valid IBAN starting exactly at ``pos``, if there is one."""
    match = _IBAN_SHAPE.match(text, pos)
    if match is None:
        return None
    end = match.end()
    if end < len(text) and text[end].isalnum():
        end = _previous_group_end(text, pos, end)
    while end - pos >= _IBAN_MIN_LENGTH:
        if _iban_ok(text[pos:end]):
            return (pos, end, Kind.IBAN)
        end = _previous_group_end(text, pos, end)
    return None


def _previous_group_end(text: str, start: int, end: int) -> int:
    """Return the end of the group before the one ending at ``end``, or ``start``."""
    i = end - 1
    while i > start and text[i].isalnum():
        i -= 1
    while i > start and not text[i].isalnum():
        i -= 1
    return i + 1 if i > start else start


def _iban_ok(candidate: str) -> bool:
    """Return whether python-stdnum accepts the candidate as an IBAN.

    The ISO 7064 mod-97 check runs first, in plain integer arithmetic, because most
    candidates ("AB 2024 …" after a company name) fail it and stdnum's full
    validation costs ~50 µs.
    """
    compact = _IBAN_SEPARATORS.sub("", candidate).upper()  # ASCII letters and digits
    rearranged = compact[4:] + compact[:4]
    if int("".join(str(int(char, 36)) for char in rearranged)) % 97 != 1:
        return False
    return bool(_iban.is_valid(candidate))
