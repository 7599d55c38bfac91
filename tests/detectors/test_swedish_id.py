"""Personnummer and samordningsnummer: the corpus vectors, Skatteverket's test numbers, edges."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from inboxwarden.detectors import Finding, Kind, Part, scan_text, swedish_id_kind

from .ids import FORMATS, with_check_digit, written
from .phones import is_phone

UNSUPPORTED_FORMS = {
    "8803-20-0016": "hyphens inside the date: only stdnum's lenient parser takes it; "
    "docs/behaviour.md §6 lists the accepted forms and the personnummer spec rejects this one",
}


def expected_kind(row: dict[str, Any]) -> Kind | None:
    """The outcome docs/behaviour.md §6 asks for, for one row of personnummer/vectors.json."""
    if row["input"] in UNSUPPORTED_FORMS or row["kind"] in ("interim", "org"):
        return None  # interim numbers: off, as in the personnummer spec's default
    if not row["valid"]:
        return None
    return {"person": Kind.PERSONNUMMER, "coordination": Kind.SAMORDNINGSNUMMER}[row["kind"]]


def only_true_phones(text: str, findings: list[Finding]) -> bool:
    """Whether every finding is a phone number by libphonenumber's own matcher.

    A string that is no identity number may still be a phone number: "090527 1474" is
    an Umeå number and "0102290012" a Swedish 010 number, as libphonenumber says.
    """
    return all(f.kind is Kind.PHONE and is_phone(text[f.start : f.end]) for f in findings)


def test_every_vector_of_the_personnummer_corpus_has_its_expected_outcome(
    load_json: Callable[[str], Any],
) -> None:
    rows = load_json("personnummer/vectors.json")
    assert len(rows) == 171
    wrong = []
    for row in rows:
        text = f"Uppgiven identitet: {row['input']}."
        start = text.index(row["input"])
        want = expected_kind(row)
        got = scan_text(text)
        if want is None:
            ok = got == []  # zero findings of any kind on invalid and organisation vectors
        else:
            ok = got == [Finding(want, Part.BODY, start, start + len(row["input"]))]
        if not ok:
            wrong.append((row["input"], row["kind"], row["valid"], got))
    assert wrong == []


@pytest.mark.parametrize(
    ("name", "kind"),
    [("allPins", Kind.PERSONNUMMER), ("allCoords", Kind.SAMORDNINGSNUMMER)],
)
@pytest.mark.parametrize("form", FORMATS)
def test_every_skatteverket_test_number_is_found_in_every_form(
    load_json: Callable[[str], Any], name: str, kind: Kind, form: str
) -> None:
    numbers = load_json(f"personnummer/personnummer-meta/{name}.json")
    lines = [f"nr {written(number, form)} ok" for number in numbers]
    text = "\n".join(lines)
    findings = scan_text(text)
    expected = []
    offset = 0
    for line in lines:
        expected.append(Finding(kind, Part.BODY, offset + 3, offset + len(line) - 3))
        offset += len(line) + 1
    assert len(findings) == len(expected) and findings == expected


def test_organisation_numbers_of_both_corpora_are_not_personal_data(
    load_json: Callable[[str], Any],
) -> None:
    rows = load_json("personnummer/organisationsnummer-meta/list.json")
    legal = [row for row in rows if row["type"] != "Enskild firma"]  # those are pnr
    legal += load_json("personnummer/personnummer-meta/orgnumber.json")
    inputs = {row.get("input") or row["short_format"] for row in legal}
    inputs |= {row[k] for row in legal for k in ("long_format", "separated_format") if k in row}
    assert len(inputs) >= 20
    for value in inputs:
        assert scan_text(f"Org.nr {value} (moms)") == [], value


@pytest.mark.parametrize(
    "text",
    [
        "Leveranstid 2026-11-27T10:00:00, bekräftad 20261127103000.",
        "Summa 1 234 567,89 kr och 8 803 200 016 öre.",
        "Referens 198803200016042 (längre sifferföljd)",
        "ID 1198803200016 eller 88032000161",
        "Kod ABC8803200016 och 8803200016XYZ",
        "Belopp 8803200016,50 kr, version 1.8803200016",
        "Fil /data/8803200016/rapport och 880320-0016-01",
        "Ordernummer: 8803200016, order #198803200016, Fakturanr 8803200016",
        "Ingen mellanslag: 19090527 1474 eller 880320 0016",
        "Datum i fel ordning: 20-03-88-0016",
    ],
)
def test_shapes_that_only_resemble_a_personnummer_are_not_found(text: str) -> None:
    assert scan_text(text) == []


def test_a_personnummer_after_an_order_label_is_found_when_written_with_its_hyphen() -> None:
    text = "Order: 880320-0016"
    assert scan_text(text) == [Finding(Kind.PERSONNUMMER, Part.BODY, 7, 18)]


@pytest.mark.parametrize("hyphen", ["-", "\u2010", "\u2011", "\u2013"])
def test_a_typographic_hyphen_is_accepted_as_separator(hyphen: str) -> None:
    assert swedish_id_kind(f"880320{hyphen}0016") is Kind.PERSONNUMMER


@pytest.mark.parametrize("candidate", ["", "abc", "880320-001", "880320-0016 ", "1880320-0016"])
def test_swedish_id_kind_wants_exactly_one_number(candidate: str) -> None:
    assert swedish_id_kind(candidate) is None


@pytest.mark.parametrize(
    ("first_eleven", "why"),
    [
        ("19880230001", "30 February"),
        ("19880431001", "31 April"),
        ("19010229001", "1901 is not a leap year"),
        ("19881300001", "month 13"),
        ("19880000001", "month and day 00 in a personnummer"),
        ("19889200001", "day 92 is beyond a co-ordination day"),
        ("17880320001", "the 18th century"),
        ("21880320001", "the 22nd century"),
    ],
)
def test_a_luhn_valid_number_with_an_impossible_date_is_not_found(
    first_eleven: str, why: str
) -> None:
    twelve = with_check_digit(first_eleven)
    for form in FORMATS:
        value = written(twelve, form)
        if form.startswith("YYMMDD") and why in ("the 18th century", "the 22nd century"):
            continue  # the ten-digit forms carry no century
        text = f"pnr {value}"
        assert only_true_phones(text, scan_text(text)), (value, why)


def test_the_leap_day_of_2000_is_valid_only_for_someone_born_in_2000() -> None:
    twelve = with_check_digit("20000229001")
    assert swedish_id_kind(f"{twelve[2:8]}-{twelve[8:]}") is Kind.PERSONNUMMER
    assert swedish_id_kind(f"{twelve[2:8]}+{twelve[8:]}") is None  # 1900 had no 29 February
    assert swedish_id_kind("19" + twelve[2:]) is None


def test_co_ordination_numbers_with_an_unknown_month_or_day_are_found() -> None:
    for first_eleven in ("19800060001", "19800260001", "19800291001"):
        twelve = with_check_digit(first_eleven)
        assert swedish_id_kind(twelve) is Kind.SAMORDNINGSNUMMER, twelve


def test_a_nordea_personal_account_number_is_found_as_the_personnummer_it_is(
    load_json: Callable[[str], Any],
) -> None:
    accounts = load_json("banking/se-bank-accounts.json")
    for row in accounts:
        text = f"Konto: {row['input']}"
        findings = scan_text(text)
        if "personkonto" in row.get("note", ""):
            assert [f.kind for f in findings] == [Kind.PERSONNUMMER]
        else:
            # Known false positive: Swedbank's "043 386 711-6" is also a valid 043 number.
            assert only_true_phones(text, findings), row["input"]
