"""Swedish identity numbers for tests: written forms, check digits, an independent oracle.

Nothing here imports the detectors: the oracle (`reference_kind`) is written from the
rules in docs/behaviour.md §6 and the co-ordination policy in `swedish_id`'s docstring, using
python-stdnum for the Luhn check, so that a bug in the detector cannot hide in both.
"""

from __future__ import annotations

import calendar

from stdnum import luhn

REFERENCE_YEAR = 2026
"""Whoever is 100 or older in this year is written with "+" in the ten-digit form."""

FORMATS = ("YYYYMMDDNNNN", "YYYYMMDD-NNNN", "YYMMDDNNNN", "YYMMDD-NNNN")
"""The five written forms of docs/behaviour.md §6; "YYMMDD-NNNN" is written "YYMMDD+NNNN" at 100+."""


def written(twelve: str, form: str) -> str:
    """Return a 12-digit number (``YYYYMMDDNNNN``) in one of the `FORMATS`."""
    separator = "+" if REFERENCE_YEAR - int(twelve[:4]) >= 100 else "-"
    return {
        "YYYYMMDDNNNN": twelve,
        "YYYYMMDD-NNNN": f"{twelve[:8]}-{twelve[8:]}",
        "YYMMDDNNNN": twelve[2:],
        "YYMMDD-NNNN": f"{twelve[2:8]}{separator}{twelve[8:]}",
    }[form]


def with_check_digit(first_eleven: str) -> str:
    """Return a 12-digit number whose last digit makes the Luhn check over 10 digits pass."""
    return first_eleven + str(luhn.calc_check_digit(first_eleven[2:]))


def reference_kind(century: int | None, yymmdd: str, separator: str, serial: str) -> str | None:
    """Return "personnummer", "samordningsnummer" or None, from the rules alone."""
    if not luhn.is_valid(yymmdd + serial) or serial.startswith("000"):
        return None
    if century is not None and century not in (18, 19, 20):
        return None
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    if 60 <= day <= 91 and month <= 12:
        return "samordningsnummer"
    if not 1 <= month <= 12 or day == 0:
        return None
    if century is not None:
        centuries = [century]
    elif separator == "+":
        centuries = [18, 19]
    else:
        centuries = [19, 20]
    years = [c * 100 + int(yymmdd[:2]) for c in centuries]
    if any(day <= calendar.monthrange(year, month)[1] for year in years):
        return "personnummer"
    return None
