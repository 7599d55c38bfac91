"""Phone numbers in text, validated by the `phonenumbers` library (libphonenumber).

Validity is libphonenumber's: `PhoneNumberMatcher` with leniency VALID and default
region SE, i.e. national Swedish numbers (``070-174 06 05``, ``08-465 004 00``) and
international ones (``+46 70 174 06 05``, ``0046 …``, ``+44 20 7946 0958``).

The matcher costs 40-150 µs per number, and a mail signature holds two or three, so
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

This module is the one place `phonenumbers` is imported.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from phonenumbers import PhoneNumberDesc

__all__ = [
    "MATCHER_CHARS",
    "Desc",
    "MatcherBudget",
    "find_phones",
    "is_swedish_number",
    "is_valid_swedish_nsn",
    "looks_like_date_or_time",
    "looks_like_identity_number",
]

_PHONE_START: Final = re.compile(r"(?<![\w+\-./])(?<![0-9],)(?:\+ ?[1-9]|\(0[0-9]|0[0-9])")
"""Where a number may start: not inside a word or number, not after "8129-9," (the
clearing number before a Swedbank account)."""
MATCHER_CHARS: Final = 100_000
"""Characters of one message the matcher may read: about two seconds' work at worst."""
_MEMO_CHARS: Final = 256
_SEPARATORS_DELETED: Final = str.maketrans("", "", " -.()+")
_LEFT_TO_MATCHER: Final = re.compile(r"[^0-9 \-.()]")
"""Characters after the first on which the fast path does not claim to agree with the matcher."""
_BRACKETS: Final = re.compile(r"\(0[0-9]*\)[^()]*\Z|(?:\+|00) ?46 ?\(0\)[^()]*\Z")
"""The two places a bracket pair is written: ``(08) 465 004 00``, ``+46 (0)70 …``."""

_DATE_OR_TIME: Final = re.compile(
    r"(?P<d1>[0-9]{2})(?P<s>[\-./])(?P<d2>[0-9]{2})(?P=s)(?P<y1>[0-9]{2}|(?:19|20)[0-9]{2})"
    r"|(?P<y2>(?:19|20)[0-9]{2})(?P<t>[\-./])(?P<m>[0-9]{2})(?P=t)(?P<d>[0-9]{2})"
    r"|(?P<range>[0-9]{1,2}[.:][0-5][0-9] ?[\-\u2013] ?[0-9]{1,2}[.:][0-5][0-9])"
)
"""27.11.2024, 11/27/24, 2024-11-27, 08.00-17.00: libphonenumber takes some for numbers."""


def looks_like_date_or_time(written: str) -> bool:
    """Return whether a matched "number" is rather a date or a range of clock times."""
    match = _DATE_OR_TIME.fullmatch(written)
    if match is None:
        return False
    if match.group("range") is not None:
        return True
    if match.group("y2") is not None:
        return 1 <= int(match.group("m")) <= 12 and 1 <= int(match.group("d")) <= 31
    first, second = int(match.group("d1")), int(match.group("d2"))
    day_month = 1 <= first <= 31 and 1 <= second <= 12
    return day_month or (1 <= first <= 12 and 1 <= second <= 31)


_ID_SHAPE: Final = re.compile(r"(?:19|20)?[0-9]{2}(?P<m>[0-9]{2})(?P<d>[0-9]{2})[ +\-][0-9]{4}")
"""YYMMDD-NNNN and its kin: written so, a number is an identity number, valid or not."""


def looks_like_identity_number(written: str) -> bool:
    """Return whether a matched "number" is written as a personnummer with a real date.

    Its check digit already failed (a valid one is claimed as an identity number
    first), so it is a mistyped identity number, not a phone number: ``090527 1474``.
    """
    match = _ID_SHAPE.fullmatch(written)
    if match is None:
        return False
    month, day = int(match.group("m")), int(match.group("d"))
    day = day - 60 if day > 60 else day
    return 1 <= month <= 12 and 1 <= day <= 31


def _not_a_phone(written: str) -> bool:
    return looks_like_date_or_time(written) or looks_like_identity_number(written)


Desc = tuple[re.Pattern[str], frozenset[int]]


@cache
def _swedish_plan() -> tuple[Desc, tuple[Desc, ...]]:
    """Return SE's general and per-type number descriptions from libphonenumber.

    Read at the first number, not at import: phonenumbers is loaded only by a run that
    scans for personal data.
    """
    from phonenumbers import PhoneMetadata

    metadata = PhoneMetadata.metadata_for_region("SE")
    if metadata is None or metadata.general_desc is None:  # pragma: no cover
        raise RuntimeError("phonenumbers has no metadata for SE")
    general = metadata.general_desc

    def desc(raw: PhoneNumberDesc | None) -> Desc | None:
        if raw is None or raw.national_number_pattern is None:
            return None
        lengths = raw.possible_length or general.possible_length
        return re.compile(raw.national_number_pattern), frozenset(lengths)

    types = (
        metadata.fixed_line, metadata.mobile, metadata.toll_free, metadata.premium_rate,
        metadata.shared_cost, metadata.personal_number, metadata.voip, metadata.pager,
        metadata.uan, metadata.voicemail,
    )  # fmt: skip
    general_desc = desc(general)
    if general_desc is None:  # pragma: no cover
        raise RuntimeError("phonenumbers has no general description for SE")
    return general_desc, tuple(d for d in map(desc, types) if d is not None)


def is_valid_swedish_nsn(nsn: str) -> bool:
    """Return whether a Swedish national significant number is valid (libphonenumber)."""
    (pattern, lengths), types = _swedish_plan()
    if len(nsn) not in lengths or pattern.fullmatch(nsn) is None:
        return False
    return any(len(nsn) in n and p.fullmatch(nsn) is not None for p, n in types)


class MatcherBudget:
    """Characters the matcher may still read in one message; what is past it is not read.

    The matcher reads digit-dense text at ~20 µs a character (a megabyte of phone-number
    lists took 17 seconds), so one message gets `MATCHER_CHARS` of it, and a scan whose
    budget ran out says so (``exhausted``) rather than passing as clean.
    """

    def __init__(self, chars: int = MATCHER_CHARS) -> None:
        self.left = chars
        self.exhausted = False

    def take(self, chars: int) -> bool:
        """Spend *chars* if that many are left, else mark the budget exhausted."""
        if chars > self.left:
            self.exhausted = True
            return False
        self.left -= chars
        return True


def find_phones(
    text: str, pos: int, endpos: int, lookahead: int = 0, budget: MatcherBudget | None = None
) -> list[tuple[int, int]]:
    """Return the spans of phone numbers inside ``text[pos:endpos]``.

    ``lookahead`` extra characters after ``endpos`` may be shown to the matcher so it
    can reject a number glued to a letter; a caller bounding the window by another
    finding passes 0, so the matcher cannot reach into it. A window the ``budget``
    cannot pay the matcher for is not read.
    """
    while endpos > pos and not text[endpos - 1].isdigit():  # "070-174 06 05 " before an id
        endpos -= 1
        lookahead = 0
    start = _PHONE_START.search(text, pos, endpos)
    if start is None:
        return []
    lo = start.start()
    glued = lookahead > 0 and endpos < len(text) and text[endpos].isalpha()
    if not glued and is_swedish_number(text[lo:endpos]):
        return [] if _not_a_phone(text[lo:endpos]) else [(lo, endpos)]
    if budget is not None and not budget.take(endpos + lookahead - lo):
        return []
    return _matched(text, lo, endpos, lookahead)


def is_swedish_number(written: str) -> bool:
    """Return whether all the digits of ``written`` form one valid Swedish number.

    The number is national (``0`` trunk prefix) or international with country code
    46 (``+46``, ``0046``, an optional ``(0)`` after it). Only spaces, hyphens, dots and
    those two bracket forms may separate the digits; anything else is left to the
    matcher, which has its own rules for it.
    """
    if _LEFT_TO_MATCHER.search(written, 1):
        return False
    brackets = written.count("(") + written.count(")")
    if brackets and (brackets != 2 or not _BRACKETS.match(written)):
        return False
    digits = written.translate(_SEPARATORS_DELETED)
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
    window = text[lo : endpos + lookahead]
    # Only short windows are memoised: 4,096 long ones would hold gigabytes.
    spans = _match_window(window) if len(window) <= _MEMO_CHARS else _matches(window)
    return [
        (lo + s, lo + e)
        for s, e in spans
        if lo + e <= endpos and not _not_a_phone(text[lo + s : lo + e])
    ]


@lru_cache(maxsize=4096)
def _match_window(window: str) -> tuple[tuple[int, int], ...]:
    """Return the matcher's spans in a window; memoised, as signatures repeat in threads."""
    return _matches(window)


def _matches(window: str) -> tuple[tuple[int, int], ...]:
    from phonenumbers import Leniency, PhoneNumberMatcher

    return tuple(
        (int(match.start), int(match.end))
        for match in PhoneNumberMatcher(window, "SE", leniency=Leniency.VALID)
    )
