"""scan_text as a whole: hard negatives, overlapping kinds, masking, and the public API."""

from __future__ import annotations

import pytest

import inboxwarden.detectors as detectors
from inboxwarden.detectors import Finding, Kind, Part, kinds_of, mask, mask_text, scan_text

MIXED = (
    "Hej! Pnr 19811218-9876, samordningsnr 730288-9931, mobil 070-174 06 05,\n"
    "kort 4111 1111 1111 1111, IBAN SE45 5000 0000 0583 9825 7466, mejl anna@exempel.se."
)


def test_every_kind_is_found_once_in_order() -> None:
    found = [(f.kind, MIXED[f.start : f.end]) for f in scan_text(MIXED)]
    assert found == [
        (Kind.PERSONNUMMER, "19811218-9876"),
        (Kind.SAMORDNINGSNUMMER, "730288-9931"),
        (Kind.PHONE, "070-174 06 05"),
        (Kind.PAYMENT_CARD, "4111 1111 1111 1111"),
        (Kind.IBAN, "SE45 5000 0000 0583 9825 7466"),
        (Kind.EMAIL_ADDRESS, "anna@exempel.se"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Org.nr 556016-0680, momsreg.nr SE556016068001, AP-fond 802005-1952.",
        "Leverans 2026-11-27T10:00:00+01:00, loggat 20261127103000, kl. 08:30.",
        "Pris 1 234,50 kr, totalt 12 345 678 SEK ($1,299.00), moms 25 %.",
        "Datum 27.11.2026, 2026-11-27, 11/27/2026 och vecka 48.",
        "Ordernr 4501234567, ordernummer: 198803200016, OCR 12345678901234567897",
        "Fakturanummer 73500123456789012345, artikel 1234-5678-90.",
        "Postadress Box 123, 111 22 Stockholm. Bankgiro 5050-1055, plusgiro 90 20 04-9.",
        "Version 10.0.19045.2846, IP 192.168.100.200, ISBN 978-91-0-012345-6.",
        "Ring 112, SOS 90000, vecka 2026-W48.",
    ],
)
def test_hard_negatives_are_not_findings(text: str) -> None:
    assert scan_text(text) == []


def test_a_ten_digit_number_that_is_both_a_phone_and_an_identity_is_reported_once() -> None:
    text = "nr 0701740607"  # a PTS phone number that is also a valid samordningsnummer
    assert [f.kind for f in scan_text(text)] == [Kind.SAMORDNINGSNUMMER]


def test_an_iban_wins_over_an_identity_number_inside_it() -> None:
    text = "IBAN ES10 0075 0080 11 0600658108 tack"
    assert [f.kind for f in scan_text(text)] == [Kind.IBAN]


def test_an_identity_number_wins_over_the_address_it_is_part_of() -> None:
    text = "mejla 8803200016@skola.exempel.se"
    assert [f.kind for f in scan_text(text)] == [Kind.PERSONNUMMER]


def test_part_and_index_are_carried_into_findings() -> None:
    found = scan_text("880320-0016", part=Part.ATTACHMENT_NAME, index=3)
    assert found == [Finding(Kind.PERSONNUMMER, Part.ATTACHMENT_NAME, 0, 11, 3)]


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("19811218-9876", "19811218-****"),
        ("811218-9876", "811218-****"),
        ("198112189876", "19811218****"),
        ("730288-9931", "730288-****"),
        ("070-174 06 05", "070-*** ** 05"),
        ("+46701740605", "+4670*****05"),
        ("anna.svensson@exempel.se", "a***@exempel.se"),
        ("SE45 5000 0000 0583 9825 7466", "SE** **** **** **** **** 7466"),
        ("4111 1111 1111 1111", "**** **** **** 1111"),
        ("378282246310005", "***********0005"),
    ],
)
def test_mask_keeps_only_what_lets_the_owner_recognise_the_value(value: str, masked: str) -> None:
    text = f"x {value} y"
    (finding,) = scan_text(text)
    assert mask(text, finding) == masked


def test_mask_text_masks_every_finding_and_keeps_the_rest() -> None:
    assert mask_text(MIXED, exclude_addresses={"anna@exempel.se"}) == (
        "Hej! Pnr 19811218-****, samordningsnr 730288-****, mobil 070-*** ** 05,\n"
        "kort **** **** **** 1111, IBAN SE** **** **** **** **** 7466, mejl anna@exempel.se."
    )
    assert mask_text("Re: inget känsligt") == "Re: inget känsligt"


def test_kinds_of_gives_the_set_of_kinds() -> None:
    assert kinds_of(scan_text(MIXED)) == set(Kind)
    assert kinds_of([]) == frozenset()


def test_the_public_api_is_exported_and_importable() -> None:
    assert sorted(detectors.__all__) == [
        "DEFAULT_MAX_BYTES", "DEFAULT_MAX_RAW_BYTES", "Extraction", "Finding", "Kind", "MessageScan", "Part",
        "TextScan", "TextSegment", "extract_text", "kinds_of", "mask", "mask_text", "scan_message",
        "scan_text", "swedish_id_kind",
    ]  # fmt: skip
    assert all(hasattr(detectors, name) for name in detectors.__all__)
