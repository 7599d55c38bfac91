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
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _oracle_normal_form(address: str) -> str | None:
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def test_the_plain_shortcut_gives_email_validators_answer_on_every_vector(
    load_json: Callable[[str], Any],
) -> None:
    """Where the shortcut answers at all, it answers as email-validator does."""
    from inboxwarden.detectors.email_address import _plain_normal_form

    inputs = [
        *_all_inputs(load_json),
        "Anna.Svensson@Example.SE",
        "info@exempel.se",
        "Postmaster@Exempel.se",
        "a@b.test",
        "a@sub.localhost",
        "a@xn--bcher-kva.se",
        "a@ab--cd.se",
        "a@exempel.123",
        "a@exempel.s3",
        "a@" + "b" * 63 + ".se",
        "a@" + "b" * 64 + ".se",
        "a@" + ".".join(["c" * 60] * 5) + ".se",
        "x" * 64 + "@exempel.se",
        "x" * 65 + "@exempel.se",
    ]
    answered = 0
    for address in inputs:
        plain = _plain_normal_form(address)
        if plain is not None:
            answered += 1
            assert plain == _oracle_normal_form(address), address
    assert answered >= 100


_ATOM = st.text(alphabet="abcXYZ019_%+-", min_size=1, max_size=12)
_LABEL = st.text(alphabet="abcXYZ019-", min_size=1, max_size=12) | st.sampled_from(
    ["se", "SE", "com", "test", "localhost", "invalid", "xn--bcher-kva", "a" * 63, "b" * 64]
)


@settings(max_examples=3000, deadline=None)
@given(
    local=st.lists(_ATOM, min_size=1, max_size=3).map(".".join)
    | st.sampled_from(["info", "INFO", "Abuse", "x" * 70]),
    labels=st.lists(_LABEL, min_size=1, max_size=5),
    glue=st.sampled_from([".", "..", "-."]),
)
def test_the_plain_shortcut_never_differs_from_email_validator(
    local: str, labels: list[str], glue: str
) -> None:
    from inboxwarden.detectors.email_address import _plain_normal_form

    address = f"{local}@{glue.join(labels)}"
    plain = _plain_normal_form(address)
    if plain is not None:
        assert plain == _oracle_normal_form(address)
