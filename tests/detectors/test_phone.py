"""Phone numbers: the corpus vectors, and the fast path held to libphonenumber's matcher."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inboxwarden.detectors import Finding, Kind, Part, scan_text
from inboxwarden.detectors.phone import find_phones, looks_like_date_or_time

from .ids import reference_kind
from .phones import matcher_spans


def identity_kind_of(written: str) -> Kind | None:
    """The identity kind a bare ten-digit phone number also has, by the oracle."""
    if not re.fullmatch(r"[0-9]{10}", written):
        return None
    kind = reference_kind(None, written[:6], "", written[6:])
    return None if kind is None else Kind(kind)


def test_every_vector_of_the_phone_corpus_is_found_as_one_phone_number(
    load_json: Callable[[str], Any],
) -> None:
    vectors = load_json("phones/se-phone-vectors.json")["vectors"]
    assert len(vectors) == 1642
    wrong = []
    for vector in vectors:
        written = vector["input"]
        text = f"Ring mig på {written} i morgon."
        start = text.index(written)
        if vector["type"] == "emergency":
            expected = []  # 112: a short code, not anyone's number (the vector's own note)
        else:
            # A bare ten-digit number that is also a valid identity number is reported
            # as the more sensitive kind (see candidates.PRIORITY).
            kind = identity_kind_of(written) or Kind.PHONE
            expected = [Finding(kind, Part.BODY, start, start + len(written))]
        if scan_text(text) != expected:
            wrong.append(written)
    assert wrong == []


def test_the_fast_path_agrees_with_the_matcher_on_every_corpus_vector(
    load_json: Callable[[str], Any],
) -> None:
    vectors = load_json("phones/se-phone-vectors.json")["vectors"]
    for vector in vectors:
        written = vector["input"]
        assert find_phones(written, 0, len(written)) == matcher_spans(written), written


_SEPARATORS = st.sampled_from(
    [" ", "-", " - ", ".", "/", ") ", "", "\t", "\u00a0", "\u2013", "+", "  ", "(", ". "]
)
_PREFIXES = st.sampled_from(
    ["0", "0", "0", "+46", "+46 ", "0046 ", "+46 (0)", "(0", "00 46 ", "+44 ", "+1 ", "00"]
)


@st.composite
def written_numbers(draw: st.DrawFn) -> str:
    """A digit string written with a prefix and random grouping: numbers and non-numbers."""
    digits = draw(st.text("0123456789", min_size=5, max_size=12))
    out = draw(_PREFIXES)
    i = 0
    while i < len(digits):
        size = draw(st.integers(1, 4))
        out += digits[i : i + size]
        i += size
        if i < len(digits):
            out += draw(_SEPARATORS)
    return out.strip()


@settings(max_examples=3000, deadline=None)
@given(written_numbers())
def test_the_fast_path_agrees_with_the_matcher_on_generated_numbers(written: str) -> None:
    expected = [
        (s, e) for s, e in matcher_spans(written) if not looks_like_date_or_time(written[s:e])
    ]
    assert find_phones(written, 0, len(written)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Mötet är 08-12-2024 och 27.11.2024, alternativt 2024-11-27.",
        "Öppet 08.00-17.00 och 10:00–15:30 på lördagar.",
        "Ring 112 eller 90000 vid nödsituation.",
        "Postnummer 111 22 Stockholm, bankgiro 5050-1055, plusgiro 4 12 34-5.",
        "Pris 1 234 567,00 kr, artikel 0,5 liter.",
        "Kod 0701740605kr och X0701740605",
    ],
)
def test_dates_times_short_codes_and_glued_numbers_are_not_phone_numbers(text: str) -> None:
    assert scan_text(text) == []


@pytest.mark.parametrize(
    "written", ["+44 20 7946 0123", "+1 (415) 555-2671", "+358 40 1234567", "0046 70-1740605"]
)
def test_international_numbers_are_found(written: str) -> None:
    text = f"Tel: {written}."
    assert scan_text(text) == [Finding(Kind.PHONE, Part.BODY, 5, 5 + len(written))]


@pytest.mark.parametrize(
    ("written", "is_date"),
    [
        ("2024-11-27", True),
        ("27.11.2024", True),
        ("11/27/24", True),
        ("08-12-2024", True),
        ("08.00-17.00", True),
        ("0838-95-08", False),
        ("08-45-2024", False),
        ("070-174 06 05", False),
    ],
)
def test_dates_and_time_ranges_are_told_from_numbers(written: str, is_date: bool) -> None:
    assert looks_like_date_or_time(written) is is_date


def test_a_phone_number_before_a_personnummer_in_one_run_is_still_found() -> None:
    text = "Uppgifter: 070-174 06 05 880320-0016"
    assert [(f.kind, text[f.start : f.end]) for f in scan_text(text)] == [
        (Kind.PHONE, "070-174 06 05"),
        (Kind.PERSONNUMMER, "880320-0016"),
    ]


def test_two_numbers_in_one_run_are_found_separately() -> None:
    text = "Mobil 070-174 06 05 / 08-465 004 00, fax 031-3900600 0701740606"
    found = [text[f.start : f.end] for f in scan_text(text)]
    assert found == ["070-174 06 05", "08-465 004 00", "031-3900600", "0701740606"]


def test_a_phone_number_beside_a_personnummer_in_one_run_is_still_found() -> None:
    text = "Uppgifter: 880320-0016 070-174 06 05"
    assert [(f.kind, text[f.start : f.end]) for f in scan_text(text)] == [
        (Kind.PERSONNUMMER, "880320-0016"),
        (Kind.PHONE, "070-174 06 05"),
    ]
