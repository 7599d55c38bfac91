"""Phone numbers in text, validated by the `phonenumbers` library (libphonenumber).

Validity is libphonenumber's: `PhoneNumberMatcher` with leniency VALID and default
region SE, i.e. national Swedish numbers (``070-174 06 05``, ``08-465 004 00``) and
international ones (``+46 70 174 06 05``, ``0046 …``, ``+44 20 7946 0958``).

The matcher costs 50-150 µs per number, and a mail signature holds two or three, so
a window that is exactly one Swedish number (``0…``, ``+46…``, ``0046…``), the
common case of a signature line, takes a fast path: its national significant number
is checked against libphonenumber's own SE metadata (the general description and one
of the number-type descriptions, pattern and length, which is what `is_valid_number`
checks). The tests hold this fast path to the matcher's answer on every vector of the
phone corpus and on generated numbers. Every other window (foreign numbers, two
numbers in a row, a number followed by other digits, something that is no number)
goes to the matcher itself, memoised on the window text.

Only windows that start where a number can start (``+``, ``(0`` or ``0`` after a
non-word character) inside a digit run of the candidate pass are looked at; Swedish
numbers written without their trunk ``0`` and foreign ones without ``+``/``00`` are
not looked for. Shapes that libphonenumber accepts but that in Swedish mail are far
more often something else are dropped: ``08-12-2024`` (a date, and a valid Stockholm
number) and ``08.00-17.00`` (opening hours).

This module is the one place `phonenumbers` is imported; what it returns is turned
into plain `str`, `int` and `tuple` here.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from phonenumbers import Leniency, PhoneMetadata, PhoneNumberMatcher

_PHONE_START: Final = re.compile(r"(?<![\w+\-./])(?:\+ ?[1-9]|\(0[0-9]|0[0-9])")
_DIGIT_GROUP: Final = re.compile(r"[0-9]+")

_NOT_A_PHONE: Final = re.compile(
    r"[0-9]{2}(?P<s>[\-./])[0-9]{2}(?P=s)(?:[0-9]{2}|[0-9]{4})"  # 27.11.2024
    r"|[0-9]{4}(?P<t>[\-./])[0-9]{2}(?P=t)[0-9]{2}"  # 2024-11-27
    r"|[0-9]{1,2}[.:][0-9]{2} ?[\-\u2013] ?[0-9]{1,2}[.:][0-9]{2}"  # 08.00-17.00
)

Desc = tuple[re.Pattern[str], frozenset[int]]


def _swedish_plan() -> tuple[Desc, tuple[Desc, ...]]:
    """Return SE's general and per-type number descriptions from libphonenumber."""
    metadata = PhoneMetadata.metadata_for_region("SE")
    general = metadata.general_desc

    def desc(raw: object) -> Desc | None:
        pattern = getattr(raw, "national_number_pattern", None)
        if pattern is None:
            return None
        lengths = tuple(getattr(raw, "possible_length", ()) or ())
        if not lengths or lengths == (-1,):
            lengths = tuple(general.possible_length)
        return re.compile(str(pattern)), frozenset(int(n) for n in lengths)

    types = (
        "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost",
        "personal_number", "voip", "pager", "uan", "voicemail",
    )  # fmt: skip
    general_desc = desc(general)
    if general_desc is None:  # pragma: no cover - libphonenumber always describes SE
        raise RuntimeError("phonenumbers has no general description for SE")
    described = (desc(getattr(metadata, name, None)) for name in types)
    return general_desc, tuple(d for d in described if d is not None)


_SE_GENERAL, _SE_TYPES = _swedish_plan()


def is_valid_swedish_nsn(nsn: str) -> bool:
    """Return whether a Swedish national significant number is valid (libphonenumber)."""
    pattern, lengths = _SE_GENERAL
    if len(nsn) not in lengths or pattern.fullmatch(nsn) is None:
        return False
    return any(len(nsn) in n and p.fullmatch(nsn) is not None for p, n in _SE_TYPES)


def find_phones(text: str, pos: int, endpos: int, lookahead: int = 0) -> list[tuple[int, int]]:
    """Return the spans of phone numbers inside ``text[pos:endpos]``.

    ``lookahead`` extra characters after ``endpos`` may be shown to the matcher so it
    can reject a number glued to a letter; a caller bounding the window by another
    finding passes 0, so the matcher cannot reach into it.
    """
    start = _PHONE_START.search(text, pos, endpos)
    if start is None:
        return []
    lo = start.start()
    glued = lookahead > 0 and endpos < len(text) and text[endpos].isalpha()
    if not glued and is_swedish_number(text[lo:endpos]):
        return [] if _NOT_A_PHONE.fullmatch(text, lo, endpos) else [(lo, endpos)]
    return _matched(text, lo, endpos, lookahead)


def is_swedish_number(written: str) -> bool:
    """Return whether all the digits of ``written`` form one valid Swedish number.

    The number is national (``0`` trunk prefix) or international with country code
    46 (``+46``, ``0046``, an optional ``(0)`` after it).
    """
    digits = "".join(_DIGIT_GROUP.findall(written))
    if written.startswith("+"):
        if not digits.startswith("46"):
            return False
        nsn = digits[2:].removeprefix("0")
    elif digits.startswith("0046"):
        nsn = digits[4:].removeprefix("0")
    elif digits.startswith("0") and not digits.startswith("00"):
        nsn = digits[1:]
    else:
        return False
    return is_valid_swedish_nsn(nsn)


def _matched(text: str, lo: int, endpos: int, lookahead: int) -> list[tuple[int, int]]:
    """Return what `PhoneNumberMatcher` finds in the window, as spans of ``text``."""
    spans = _match_window(text[lo : endpos + lookahead])
    return [
        (lo + s, lo + e)
        for s, e in spans
        if lo + e <= endpos and not _NOT_A_PHONE.fullmatch(text, lo + s, lo + e)
    ]


@lru_cache(maxsize=4096)
def _match_window(window: str) -> tuple[tuple[int, int], ...]:
    """Return the matcher's spans in a window; memoised, as signatures repeat in threads."""
    return tuple(
        (int(match.start), int(match.end))
        for match in PhoneNumberMatcher(window, "SE", leniency=Leniency.VALID)
    )
