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
import string
from functools import cache
from typing import Final

from inboxwarden.detectors.context import is_labelled_reference
from inboxwarden.detectors.kinds import Kind
from inboxwarden.detectors.luhn import luhn_ok

__all__ = ["card_scheme_fits", "find_cards", "find_iban"]

_CARD: Final = re.compile(
    r"(?<![\w+.,/#\-])(?<![0-9][ \-])"
    r"(?:[0-9]{13,19}"
    r"|[0-9]{4}(?P<s>[ \-])[0-9]{4}(?P=s)[0-9]{4}(?P=s)[0-9]{1,4}(?:(?P=s)[0-9]{1,3})?"
    r"|[0-9]{4}(?P<a>[ \-])[0-9]{6}(?P=a)[0-9]{4,5})"
    r"(?!\w|[\-.,/][0-9]|[ \-][0-9]{4})"
)

_IBAN_SEPARATORS: Final = re.compile(r"[ .\-]")

_BBAN_GROUPS: Final = re.compile(r"([1-9][0-9]*)!([nac])")
_BBAN_CLASSES: Final = {"n": "[0-9]", "a": "[A-Za-z]", "c": "[A-Za-z0-9]"}
_LETTERS_AS_NUMBERS: Final = str.maketrans(
    {c: str(i) for i, c in enumerate(string.ascii_uppercase, start=10)}
)
"""ISO 13616: A is 10, B is 11 … Z is 35."""


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
    """Return the span of a valid IBAN starting exactly at ``pos``, if there is one.

    Each country's IBAN has one length and BBAN format, so one regex match made for
    that country, and at most one checksum, decide a candidate: adversarial text
    ("SE45 " repeated) costs the same per character as prose.
    """
    shape = _iban_shape(text[pos : pos + 2])
    match = None if shape is None else shape.match(text, pos)
    if match is None:
        return None
    end = match.end()
    if end < len(text) and text[end].isalnum():
        return None  # the country's length ends inside a group: not an IBAN as written
    if _iban_ok(text[pos:end]):
        return (pos, end, Kind.IBAN)
    return None


@cache
def _iban_shape(country: str) -> re.Pattern[str] | None:
    """The country's IBAN as written: its BBAN format, in any grouping; None if unknown.

    Built from python-stdnum's registry (``"SE": "3!n16!n1!n"``): ``n`` digits,
    ``a`` letters, ``c`` either, each optionally after one separator.
    """
    from stdnum import numdb  # python-stdnum only once a text has an IBAN-like start

    info = numdb.get("iban").info(country)
    structure = info[0][1].get("bban") if info else None
    if not structure:
        return None
    bban = "".join(
        rf"(?:[ .\-]?{_BBAN_CLASSES[kind]}){{{count}}}"
        for count, kind in _BBAN_GROUPS.findall(structure)
    )
    return re.compile(rf"{country} ?[0-9]{{2}}{bban}")


def _iban_ok(candidate: str) -> bool:
    """Return whether python-stdnum accepts the candidate as an IBAN.

    The ISO 7064 mod-97 check runs first, in plain integer arithmetic, because most
    candidates ("AB 2024 …" after a company name) fail it and stdnum's full
    validation costs ~50 µs.
    """
    compact = _IBAN_SEPARATORS.sub("", candidate).upper()  # ASCII letters and digits
    rearranged = (compact[4:] + compact[:4]).translate(_LETTERS_AS_NUMBERS)
    if not rearranged.isdigit() or int(rearranged) % 97 != 1:
        return False
    from stdnum import iban

    return bool(iban.is_valid(candidate))
