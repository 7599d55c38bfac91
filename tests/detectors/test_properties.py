"""Properties: any valid identity number in any text is found; one changed digit is not."""

from __future__ import annotations

import datetime as dt

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from stdnum import luhn

from inboxwarden.detectors import Finding, Kind, Part, mask, mask_text, scan_text
from inboxwarden.detectors.context import is_labelled_reference

from .ids import FORMATS, reference_kind, written

_IDENTITY = {Kind.PERSONNUMMER, Kind.SAMORDNINGSNUMMER}
_BEFORE = st.sampled_from([" ", "\n", "\t", ": ", "(", '"', "'", " \u00a0", "\n> ", "="])
_AFTER = st.sampled_from([" ", "\n", ". ", ", ", ")", "!", '"', "?", ";", ":\n"])
_PROSE = st.text(
    st.characters(codec="utf-8") | st.sampled_from("0123456789 -+"),
    max_size=40,
)


@st.composite
def identity_numbers(draw: st.DrawFn) -> tuple[str, Kind]:
    """A valid 12-digit personnummer or samordningsnummer, and its kind."""
    born = draw(st.dates(dt.date(1890, 1, 1), dt.date(2025, 12, 31)))
    coordination = draw(st.booleans())
    day = born.day + 60 if coordination else born.day
    serial = f"{draw(st.integers(1, 999)):03d}"
    eleven = f"{born.year:04d}{born.month:02d}{day:02d}{serial}"
    twelve = eleven + luhn.calc_check_digit(eleven[2:])
    return twelve, Kind.SAMORDNINGSNUMMER if coordination else Kind.PERSONNUMMER


def _embed(prefix: str, before: str, value: str, after: str, suffix: str) -> tuple[str, int]:
    text = prefix + before + value + after + suffix
    return text, len(prefix) + len(before)


@settings(max_examples=1500, deadline=None)
@given(identity_numbers(), st.sampled_from(FORMATS), _PROSE, _BEFORE, _AFTER, _PROSE)
@example(("190002290010", Kind.PERSONNUMMER), "YYMMDD-NNNN", "", " ", " ", "")
def test_a_valid_number_in_any_form_inside_any_text_is_found_as_its_kind(
    number: tuple[str, Kind], form: str, prefix: str, before: str, after: str, suffix: str
) -> None:
    twelve, kind = number
    assume(reference_kind(int(twelve[:2]), twelve[2:8], "", twelve[8:]) is not None)
    value = written(twelve, form)
    text, start = _embed(prefix, before, value, after, suffix)
    # A bare number right after "Order:", "OCR" or "#" is a reference (see context.py).
    assume("-" in form or not is_labelled_reference(text, start))
    assert Finding(kind, Part.BODY, start, start + len(value)) in scan_text(text)


@settings(max_examples=1500, deadline=None)
@given(
    identity_numbers(),
    st.sampled_from(FORMATS),
    st.data(),
    _PROSE,
    _BEFORE,
    _AFTER,
    _PROSE,
)
def test_a_number_with_one_digit_changed_is_found_only_if_it_is_still_valid(
    number: tuple[str, Kind],
    form: str,
    data: st.DataObject,
    prefix: str,
    before: str,
    after: str,
    suffix: str,
) -> None:
    twelve, _ = number
    value = written(twelve, form)
    digit_positions = [i for i, char in enumerate(value) if char.isdigit()]
    position = data.draw(st.sampled_from(digit_positions))
    new_digit = data.draw(st.sampled_from([d for d in "0123456789" if d != value[position]]))
    changed = value[:position] + new_digit + value[position + 1 :]
    digits = changed.replace("-", "").replace("+", "")
    separator = "+" if "+" in changed else ("-" if "-" in changed else "")
    long_form = len(digits) == 12
    century = int(digits[:2]) if long_form else None
    ten = digits[2:] if long_form else digits
    expected = reference_kind(century, ten[:6], separator, ten[6:])
    if not (long_form and position < 2):
        # Luhn catches every single-digit change in the ten digits it covers, so only a
        # changed century (not covered) can leave a valid number: 1988 -> 1888.
        assert not luhn.is_valid(ten) and expected is None
    text, start = _embed(prefix, before, changed, after, suffix)
    found = [
        f
        for f in scan_text(text)
        if f.kind in _IDENTITY and f.start < start + len(changed) and f.end > start
    ]
    if expected is None:
        assert found == []
    else:
        assume("-" in form or not is_labelled_reference(text, start))
        assert found == [Finding(Kind(expected), Part.BODY, start, start + len(changed))]


_NUMBERISH = st.text(
    st.sampled_from("0123456789 -+()./@:,#\nabcSEåö") | st.characters(codec="utf-8"),
    max_size=300,
)


@settings(max_examples=1500, deadline=None)
@given(_NUMBERISH)
def test_findings_are_ordered_disjoint_within_bounds_and_maskable(text: str) -> None:
    findings = scan_text(text)
    ends = [0]
    for finding in findings:
        assert ends[-1] <= finding.start < finding.end <= len(text)
        ends.append(finding.end)
        masked = mask(text, finding)
        assert "*" in masked and masked != text[finding.start : finding.end]
    masked_text = mask_text(text)
    assert scan_text(masked_text) == [] or all(
        f.kind in (Kind.PHONE, Kind.EMAIL_ADDRESS) for f in scan_text(masked_text)
    )
