"""IBANs and payment card numbers: the banking corpus and the card schemes' test numbers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from stdnum import luhn

from inboxwarden.detectors import Finding, Kind, Part, scan_text
from inboxwarden.detectors.payment import card_scheme_fits


def test_every_iban_vector_has_its_expected_outcome(load_json: Callable[[str], Any]) -> None:
    vectors = load_json("banking/iban-vectors.json")
    assert len(vectors) == 217
    wrong = []
    for vector in vectors:
        written = vector["input"]
        text = f"Betala till {written} och tack"
        start = text.index(written)
        found = scan_text(text)
        if vector["valid"]:
            ok = found == [Finding(Kind.IBAN, Part.BODY, start, start + len(written))]
        else:
            ok = all(f.kind is not Kind.IBAN for f in found)
        if not ok:
            wrong.append((written, found))
    assert wrong == []


def test_an_iban_followed_by_words_and_punctuation_ends_at_its_last_group() -> None:
    text = "IBAN: SE45 5000 0000 0583 9825 7466 och BIC ESSESESS. Tack!"
    assert scan_text(text) == [Finding(Kind.IBAN, Part.BODY, 6, 35)]


def test_an_iban_glued_to_a_preceding_word_is_not_found() -> None:
    assert scan_text("XSE4550000000058398257466") == []


# Published test numbers of the card schemes (they pass Luhn and are never issued).
TEST_CARDS = [
    "4111 1111 1111 1111",  # Visa
    "4012888888881881",  # Visa
    "4222222222222",  # Visa, 13 digits
    "5555 5555 5555 4444",  # Mastercard
    "2223 0000 4841 0010",  # Mastercard 2-series
    "3782 822463 10005",  # American Express, 4-6-5
    "3714-496353-98431",  # American Express
    "6011 1111 1111 1117",  # Discover
    "3530 1113 3330 0000",  # JCB
    "3056 9309 0259 04",  # Diners Club, 14 digits
    "6759 6498 2643 8453",  # Maestro
    "6200 0000 0000 0005",  # UnionPay
]


@pytest.mark.parametrize("written", TEST_CARDS)
def test_card_scheme_test_numbers_are_found_in_their_printed_grouping(written: str) -> None:
    text = f"Kortnummer {written}, giltigt till 12/27."
    start = text.index(written)
    assert scan_text(text) == [Finding(Kind.PAYMENT_CARD, Part.BODY, start, start + len(written))]


@pytest.mark.parametrize("written", TEST_CARDS)
def test_a_card_number_with_one_digit_changed_is_not_found(written: str) -> None:
    digits = [i for i, c in enumerate(written) if c.isdigit()]
    position = digits[len(digits) // 2]
    changed = written[:position] + str((int(written[position]) + 3) % 10) + written[position + 1 :]
    assert not luhn.is_valid(changed.replace(" ", "").replace("-", ""))  # Luhn sees every change
    assert scan_text(f"Kort {changed}") == []


@pytest.mark.parametrize(
    "text",
    [
        "OCR 7350012345678904 anges vid betalning",  # Luhn-valid OCR, labelled
        "Fakturanummer: 4111111111111111",  # a card-shaped number, labelled as an invoice
        "Referens 12345678901234567890123 (23 siffror)",
        "Sändning 00373500000012345678",
        "Kod 9111 1111 1111 1111 1111",  # 20 digits in groups: longer than any card
        "Konto 1234 5678 9012 3456",  # no scheme starts with 1
        "SE45 5000 0000 0583 9825 7467",  # IBAN check digits wrong; not a card either
    ],
)
def test_references_and_long_numbers_are_not_cards(text: str) -> None:
    assert [f.kind for f in scan_text(text)] == []


def test_card_schemes_decide_length_by_prefix() -> None:
    assert card_scheme_fits("4" * 16) and not card_scheme_fits("4" * 15)
    assert card_scheme_fits("34" + "0" * 13) and not card_scheme_fits("34" + "0" * 14)
    assert not card_scheme_fits("1" + "0" * 15)
