"""The Luhn (mod 10) check shared by Swedish identity numbers and payment cards.

Computed here rather than by python-stdnum's `luhn`, which gives the same answer for
digit strings (tests/detectors/test_luhn.py holds the two together) but would load
python-stdnum at every start through the package's imports, and does more per call.
"""

from __future__ import annotations

from typing import Final

_DOUBLED: Final = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
"""A digit doubled, its two digits summed: what every second digit from the right adds."""

__all__ = ["luhn_ok"]


def luhn_ok(digits: str) -> bool:
    """Return whether an ASCII digit string passes the Luhn check (False if it is empty
    or holds anything but ASCII digits)."""
    if not digits or not (digits.isascii() and digits.isdigit()):
        return False
    values = [ord(c) - 48 for c in reversed(digits)]
    total = sum(values[0::2]) + sum(_DOUBLED[d] for d in values[1::2])
    return total % 10 == 0
