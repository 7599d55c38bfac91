"""The Luhn check gives python-stdnum's answer on every string."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn

from inboxwarden.detectors.luhn import luhn_ok


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="0123456789", max_size=25) | st.text(max_size=6))
def test_the_check_agrees_with_python_stdnum(digits: str) -> None:
    assert luhn_ok(digits) == bool(luhn.is_valid(digits))


def test_known_numbers() -> None:
    assert luhn_ok("79927398713") and not luhn_ok("79927398710")
    assert luhn_ok("4111111111111111") and luhn_ok("8112189876")  # a card, a personnummer
    assert not luhn_ok("") and not luhn_ok("١٢")  # Arabic-Indic digits are not ASCII
