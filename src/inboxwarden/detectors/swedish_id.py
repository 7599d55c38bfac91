"""Swedish personal identity numbers (personnummer) and co-ordination numbers in text.

Both are ``YYMMDD`` or ``YYYYMMDD``, an optional separator, and four digits whose last
is a Luhn check digit over the ten digits without the century.
Written forms accepted, as docs/behaviour.md §6 lists them: ``YYMMDD-NNNN``, ``YYMMDD+NNNN`` (the
holder is 100 or older), ``YYYYMMDDNNNN``, ``YYYYMMDD-NNNN`` and ``YYMMDDNNNN``; also
``YYYYMMDD+NNNN``, which the personnummer package specification accepts and its test
data uses for centenarians (a redundant plus, but a real number). The
hyphen may be typographic (U+2010, U+2011, U+2013), because mail clients "correct"
it. A space is not a separator (personnummer/meta issue #41), nor are hyphens inside
the date (``8803-20-0016``, which only python-stdnum's lenient parser accepts).

What is rejected, and why:

* an organisationsnummer, whose "month" digits are 20 or more: a company, not a person;
* an impossible date, a failed check digit, a century other than 18, 19 or 20;
* birth number (the three digits after the date) ``000``, which is never issued and
  which the personnummer implementations reject;
* a number glued to letters, digits, ``.``, ``,``, ``/``, ``#`` or a hyphen on either
  side: a part of a longer number, a decimal, a path, an order or article code;
* a bare number (no separator) right after an order/invoice label
  (see `inboxwarden.detectors.context`).

python-stdnum's `stdnum.se.personnummer` rejects co-ordination numbers, so the date
rule is ours: a co-ordination number carries day + 60. Skatteverket's published test
co-ordination numbers (personnummer/meta ``allCoords.json``) have month 00 or day 60
where a part of the birth date is unknown, and days the month lacks, such as 30
February; 194 of those 2,264 official numbers fail a strict calendar check. So a
co-ordination number needs month 00-12 and day 60-91, and nothing stricter: missing a
real one costs more than the rare ten-digit number that passes both this and Luhn.
"""

from __future__ import annotations

import calendar
import re
from typing import Final

from inboxwarden.detectors.context import is_labelled_reference
from inboxwarden.detectors.kinds import Kind
from inboxwarden.detectors.luhn import luhn_ok

__all__ = ["SWEDISH_ID", "classify", "find_swedish_ids", "swedish_id_kind"]

_HYPHENS: Final = r"\-\u2010\u2011\u2013"
"""Hyphens accepted as a separator, escaped for use inside a character class."""

SWEDISH_ID: Final = re.compile(
    rf"(?<![\w+.,/#{_HYPHENS}])"
    rf"(?:(?P<century>[0-9]{{2}})(?P<date8>[0-9]{{6}})(?P<sep8>[+{_HYPHENS}]?)"
    rf"|(?P<date6>[0-9]{{6}})(?P<sep6>[+{_HYPHENS}]?))"
    r"(?P<serial>[0-9]{4})"
    rf"(?!\w|[+.,/{_HYPHENS}][0-9])"
)
"""A personnummer-shaped token: 10 or 12 digits, one optional separator, word-bounded."""

_CENTURIES_FOR_SEPARATOR: Final = {
    "+": (18, 19),  # aged 100 or more
    "": (19, 20),  # a bare ten-digit number does not say; "-" means under 100
}


def find_swedish_ids(text: str, pos: int, endpos: int) -> list[tuple[int, int, Kind]]:
    """Return ``(start, end, kind)`` for each valid number starting in ``text[pos:endpos]``."""
    found: list[tuple[int, int, Kind]] = []
    for match in SWEDISH_ID.finditer(text, pos, endpos):
        century, date6, sep, serial = match.group("century", "date8", "sep8", "serial")
        if date6 is None:
            date6, sep = match.group("date6", "sep6")
        kind = classify(century, date6, sep, serial)
        if kind is None:
            continue
        if not sep and is_labelled_reference(text, match.start()):
            continue
        found.append((match.start(), match.end(), kind))
    return found


def swedish_id_kind(candidate: str) -> Kind | None:
    """Return the kind of a whole string that is exactly one valid number, else None."""
    match = SWEDISH_ID.fullmatch(candidate)
    if match is None:
        return None
    century, date6, sep, serial = match.group("century", "date8", "sep8", "serial")
    if date6 is None:
        date6, sep = match.group("date6", "sep6")
    return classify(century, date6, sep, serial)


def classify(century: str | None, date6: str, separator: str, serial: str) -> Kind | None:
    """Return the kind of a number given in parts, or None when it is neither kind.

    ``century`` is the two leading digits of a 12-digit form, or None; ``separator``
    is ``""``, ``"+"`` or a hyphen.
    """
    month = int(date6[2:4])
    day = int(date6[4:6])
    if month > 12 or serial.startswith("000") or not luhn_ok(date6 + serial):
        return None
    if century is not None:
        if century not in ("18", "19", "20"):
            return None
        centuries: tuple[int, ...] = (int(century),)
    else:
        centuries = _CENTURIES_FOR_SEPARATOR.get(separator, (19, 20))
    if day >= 60:
        return Kind.SAMORDNINGSNUMMER if day <= 91 else None
    year = int(date6[0:2])
    if month == 0 or day == 0:
        return None
    if any(day <= calendar.monthrange(c * 100 + year, month)[1] for c in centuries):
        return Kind.PERSONNUMMER
    return None
