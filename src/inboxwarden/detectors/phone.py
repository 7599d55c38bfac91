"""Phone numbers in text, validated by the `phonenumbers` library (libphonenumber).

Validity is libphonenumber's: `PhoneNumberMatcher` with leniency VALID and default
region SE, i.e. national Swedish numbers (``070-174 06 05``, ``08-465 004 00``) and
international ones (``+46 70 174 06 05``, ``0046 …``, ``+44 20 7946 0958``).

The matcher costs 50-150 µs per number, and a mail signature holds two or three, so
Swedish numbers (``0…``, ``+46…``, ``0046…``) take a fast path instead: the digit
groups after the start are tried from the longest prefix down, and the first whose
national significant number matches libphonenumber's own SE metadata (the general
description and one of the number-type descriptions, pattern and length, which is
what `is_valid_number` checks) is the number. The tests hold this fast path to the
matcher's answers on every vector of the phone corpus and on generated numbers. Any
other international number goes to the matcher itself, memoised on the window text.

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

_MIN_NSN: Final = 6
_MAX_NSN: Final = 12

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
    found: list[tuple[int, int]] = []
    start = _PHONE_START.search(text, pos, endpos)
    while start is not None:
        lo = start.start()
        span = _swedish_number(text, lo, endpos)
        if span is None:
            if _is_swedish_prefix(text, lo, endpos):
                next_pos = start.end()
            else:
                found += _matched(text, lo, endpos, lookahead)
                break
        else:
            if not _NOT_A_PHONE.fullmatch(text, *span):
                found.append(span)
            next_pos = span[1]
        start = _PHONE_START.search(text, next_pos, endpos)
    return found


def _is_swedish_prefix(text: str, lo: int, endpos: int) -> bool:
    """Return whether the number at ``lo`` is national or +46/0046, i.e. not foreign."""
    digits = "".join(_DIGIT_GROUP.findall(text, lo, min(endpos, lo + 8)))
    if text[lo] == "+":
        return digits.startswith("46")
    return not digits.startswith("00") or digits.startswith("0046")


def _swedish_number(text: str, lo: int, endpos: int) -> tuple[int, int] | None:
    """Return the longest valid Swedish number starting at ``lo``, if there is one."""
    international = text[lo] == "+"
    digits = ""
    ends: list[tuple[int, str]] = []
    for group in _DIGIT_GROUP.finditer(text, lo, endpos):
        digits += group.group()
        if len(digits) > _MAX_NSN + 5:
            break
        ends.append((group.end(), digits))
    for end, prefix in reversed(ends):
        if international:
            nsn = prefix[2:] if prefix.startswith("46") else ""
        elif prefix.startswith("0046"):
            nsn = prefix[4:]
        elif prefix.startswith("00"):
            nsn = ""
        else:
            nsn = prefix[1:]
        nsn = nsn.removeprefix("0") if international or prefix.startswith("00") else nsn
        if len(nsn) < _MIN_NSN:
            return None
        if end < len(text) and text[end].isalpha():
            continue
        if is_valid_swedish_nsn(nsn):
            return (lo, end)
    return None


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
