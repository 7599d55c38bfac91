"""E-mail addresses in text: the three address corpora, participants, surrounding punctuation.

The detector's notion of a valid address is email-validator's with default options
(docs/behaviour.md §6), so that is the oracle for every input. The isemail and flanker files define
validity by RFC 5322 grammar instead (SOURCES.md: do not merge the semantics); their
inputs are used here as a varied stress set under email-validator's rule, not for
their own flags.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from email_validator import EmailNotValidError, validate_email

from inboxwarden.detectors import Finding, Kind, Part, scan_text

_PLAIN = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+")
"""Addresses the detector grows in full; rarer local-part characters end the growth."""


def _valid(address: str) -> bool:
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _all_inputs(load_json: Callable[[str], Any]) -> list[str]:
    inputs = [row["input"] for row in load_json("addresses/email-validator-vectors.json")]
    flanker = load_json("addresses/flanker-vectors.json")
    inputs += [row["input"] for row in flanker["mailbox_and_localpart"]]
    inputs += [row["input"] for row in flanker["domain_typo_suggestions"]]
    inputs += [row["input"] for row in load_json("addresses/isemail-vectors.json")["tests"]]
    return inputs


def test_email_validator_vectors_with_default_options_agree_with_the_oracle(
    load_json: Callable[[str], Any],
) -> None:
    rows = load_json("addresses/email-validator-vectors.json")
    defaults = [row for row in rows if row["options"] == {}]
    assert len(defaults) >= 90
    assert all(_valid(row["input"]) == row["valid"] for row in defaults)


def test_every_address_vector_has_its_expected_outcome(load_json: Callable[[str], Any]) -> None:
    inputs = _all_inputs(load_json)
    assert len(inputs) >= 1500
    wrong = []
    for address in inputs:
        text = f"Skriv till {address} nu"
        start, end = 11, 11 + len(address)
        emails = [f for f in scan_text(text) if f.kind is Kind.EMAIL_ADDRESS]
        if _PLAIN.fullmatch(address) and _valid(address):
            ok = emails == [Finding(Kind.EMAIL_ADDRESS, Part.BODY, start, end)]
        elif _valid(address):
            # Quoted or rare local parts: what is found lies inside the address and is
            # itself a valid address ("b@example.com" of "a!b@example.com").
            ok = all(start <= f.start and f.end <= end for f in emails)
        else:
            # Never reported whole; a valid address inside it may be ("x@y.se" of "a@x@y.se").
            ok = all((f.start, f.end) != (start, end) for f in emails)
        ok = ok and all(_valid(text[f.start : f.end]) for f in emails)
        if not ok:
            wrong.append((address, emails))
    assert wrong == []


def test_participants_are_excluded_case_insensitively() -> None:
    text = "Den 3 mars skrev Anna <Anna.Svensson@Exempel.SE>:\n> kopia till bo@exempel.se"
    found = scan_text(text, exclude_addresses={"anna.svensson@exempel.se"})
    assert [text[f.start : f.end] for f in found] == ["bo@exempel.se"]


def test_a_single_participant_may_be_given_as_a_plain_string() -> None:
    assert scan_text("till bo@exempel.se", exclude_addresses="BO@exempel.se") == []


def test_an_address_is_excluded_by_its_normalised_form_too() -> None:
    text = "maila åsa@BÜCHER.example"
    assert scan_text(text, exclude_addresses=["åsa@bücher.example"]) == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("<mailto:anna.svensson@exempel.se>", "anna.svensson@exempel.se"),
        ("(anna@exempel.se).", "anna@exempel.se"),
        ("'anna@exempel.se', och", "anna@exempel.se"),
        ("...anna@exempel.se...", "anna@exempel.se"),
        ("Kontakt: a-b_c+tag@sub-domän.exempel.se!", "a-b_c+tag@sub-domän.exempel.se"),
    ],
)
def test_surrounding_punctuation_is_not_part_of_the_address(text: str, address: str) -> None:
    start = text.index(address)
    assert scan_text(text) == [Finding(Kind.EMAIL_ADDRESS, Part.BODY, start, start + len(address))]


@pytest.mark.parametrize(
    "text",
    [
        "user@localhost och admin@server.local och test@x.test",
        "Twitter: @inboxwarden, pris 10 @ 5 kr, a@b",
        "Ingen domän: anna@ eller @exempel.se",
    ],
)
def test_special_use_domains_and_non_addresses_are_not_found(text: str) -> None:
    assert scan_text(text) == []
