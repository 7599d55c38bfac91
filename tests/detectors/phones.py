"""The phone-number oracle for tests: libphonenumber's matcher itself, unaccelerated."""

from __future__ import annotations

from phonenumbers import Leniency, PhoneNumberMatcher


def matcher_spans(text: str) -> list[tuple[int, int]]:
    """Return what `PhoneNumberMatcher` (VALID, region SE) finds in ``text``."""
    matches = PhoneNumberMatcher(text, "SE", leniency=Leniency.VALID)
    return [(match.start, match.end) for match in matches]


def is_phone(written: str) -> bool:
    """Return whether the matcher takes the whole string as one phone number."""
    return matcher_spans(written) == [(0, len(written))]
