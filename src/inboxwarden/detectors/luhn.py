"""The Luhn (mod 10) check shared by Swedish identity numbers and payment cards.

This is the one place python-stdnum's untyped `luhn` module is called, so its results
enter typed code as plain `bool`.
"""

from __future__ import annotations

from stdnum import luhn as _luhn

__all__ = ["luhn_ok"]


def luhn_ok(digits: str) -> bool:
    """Return whether an ASCII digit string passes the Luhn check."""
    return bool(_luhn.is_valid(digits))
