"""Values planted into the labelled evaluation set (labelled.py): positives and decoys.

Identity numbers, phones, IBANs and invalid inputs come from the shared corpus, so
nothing here is a real person's number: Skatteverket's test personnummer and
samordningsnummer, PTS's fictional phone ranges, the IBAN registry's samples.
Addresses and card numbers are generated or the card schemes' published test numbers.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from stdnum import luhn

from inboxwarden.detectors import Kind

from .ids import with_check_digit

ID_FORMATS = ("YYMMDD-NNNN", "YYMMDD+NNNN", "YYYYMMDDNNNN", "YYYYMMDD-NNNN", "YYMMDDNNNN")


class Sources:
    """Values to plant, read from the corpus and generated from a seeded generator."""

    def __init__(self, corpus: Path) -> None:
        def load(relative: str) -> Any:
            return json.loads((corpus / relative).read_text(encoding="utf-8"))

        self.pins: list[str] = load("personnummer/personnummer-meta/allPins.json")
        self.coords: list[str] = load("personnummer/personnummer-meta/allCoords.json")
        vectors = load("personnummer/vectors.json")
        self.invalid_ids = [
            row["input"] for row in vectors if not row["valid"] and row["kind"] != "org"
        ]
        orgs = [row["input"] for row in vectors if row["kind"] == "org"]
        for row in load("personnummer/organisationsnummer-meta/list.json"):
            if row["type"] != "Enskild firma":
                orgs += [row["input"], row["long_format"]]
        self.orgs = orgs
        phones = load("phones/se-phone-vectors.json")["vectors"]
        self.phones = [v["input"] for v in phones if v["type"] != "emergency"]
        ibans = load("banking/iban-vectors.json")
        self.ibans = [v["input"] for v in ibans if v["valid"]]
        self.bad_ibans = [v["input"] for v in ibans if not v["valid"] and len(v["input"]) > 8]
        accounts = load("banking/se-bank-accounts.json")
        self.accounts = [a["input"] for a in accounts if "personkonto" not in a.get("note", "")]


def _written_id(twelve: str, variant: str) -> str:
    return {
        "YYMMDD-NNNN": f"{twelve[2:8]}-{twelve[8:]}",
        "YYMMDD+NNNN": f"{twelve[2:8]}+{twelve[8:]}",
        "YYYYMMDDNNNN": twelve,
        "YYYYMMDD-NNNN": f"{twelve[:8]}-{twelve[8:]}",
        "YYMMDDNNNN": twelve[2:],
    }[variant]


def _identity(rng: random.Random, pool: list[str]) -> tuple[str, str]:
    variant = rng.choice(ID_FORMATS)
    centenarians = [n for n in pool if int(n[:4]) <= 1925]
    twelve = rng.choice(centenarians if variant == "YYMMDD+NNNN" else pool)
    return variant, _written_id(twelve, variant)


def _luhn_number(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return body + str(luhn.calc_check_digit(body))


def _grouped(digits: str) -> str:
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


_NAMES = ["anna.svensson", "erik.berg", "maria.lind", "johan.k", "sara_nilsson", "per+lön"]
_DOMAINS = ["exempel.se", "foretaget.se", "kommun.se", "gmail.com", "outlook.com", "mejl.nu"]
_CARDS = ["4111 1111 1111 1111", "5555 5555 5555 4444", "3782 822463 10005", "6011111111111117"]


def positive(rng: random.Random, src: Sources, kind: Kind) -> tuple[str, str, str]:
    """Return (variant, value, sentence template) for a planted positive."""
    if kind is Kind.PERSONNUMMER:
        variant, value = _identity(rng, src.pins)
        template = rng.choice(["Mitt personnummer är {v}.", "Pnr: {v}", "{v} (anställd)"])
    elif kind is Kind.SAMORDNINGSNUMMER:
        variant, value = _identity(rng, src.coords)
        template = rng.choice(["Samordningsnummer {v}", "Hans nummer: {v}, tack."])
    elif kind is Kind.PHONE:
        variant, value = "se-corpus", rng.choice(src.phones)
        if rng.random() < 0.15:
            variant, value = "foreign", rng.choice(["+44 20 7946 0123", "+1 415 555 2671"])
        template = rng.choice(["Ring mig på {v}.", "Mobil: {v}", "Tel {v} (dagtid)"])
    elif kind is Kind.EMAIL_ADDRESS:
        local = rng.choice(_NAMES) + rng.choice(["", "", str(rng.randint(1, 99))])
        variant, value = "address", f"{local}@{rng.choice(_DOMAINS)}"
        template = rng.choice(["Skriv till {v} istället.", "E-post: {v}", "<{v}>"])
    elif kind is Kind.IBAN:
        variant, value = "corpus", rng.choice(src.ibans)
        template = rng.choice(["Betala till {v}.", "IBAN: {v}", "Konto {v} tack"])
    else:
        variant = "test-card" if rng.random() < 0.5 else "generated"
        value = (
            rng.choice(_CARDS)
            if variant == "test-card"
            else _grouped(_luhn_number(rng, rng.choice(["4", "51", "55"]), 16))
        )
        template = rng.choice(["Kortnummer {v}, exp 12/27.", "Dra från kortet {v}"])
    return variant, value, template


# One branch per decoy category, in one function: the order of the rng calls is what the
# corpus seed reproduces, so a split must not reorder them.
def negative(rng: random.Random, src: Sources, participants: list[str]) -> tuple[str, str, str]:  # noqa: C901
    """Return (category, value, sentence template) for a planted decoy."""
    category = rng.choice(
        ["org_number", "invalid_check_digit", "impossible_date", "invalid_vector", "order_number",
         "iso_timestamp", "price", "date", "long_invoice_number", "invalid_iban",
         "bank_account", "invalid_card", "opening_hours", "participant_email"]
    )  # fmt: skip
    if category == "participant_email" and not participants:
        category = "org_number"
    if category == "org_number":
        return category, rng.choice(src.orgs), "Org.nr {v}"
    if category == "invalid_check_digit":
        twelve = rng.choice(src.pins + src.coords)
        bad = twelve[:-1] + str((int(twelve[-1]) + rng.randint(1, 9)) % 10)
        return category, _written_id(bad, rng.choice(ID_FORMATS[2:])), "Pnr {v}"
    if category == "impossible_date":
        date = rng.choice(["19880230", "19880431", "19881301", "19880100", "19880692", "19010229"])
        twelve = with_check_digit(date + f"{rng.randint(1, 999):03d}")
        return category, _written_id(twelve, rng.choice(ID_FORMATS[2:])), "Personnummer {v}"
    if category == "invalid_vector":
        return category, rng.choice(src.invalid_ids), "Angivet nummer: {v}"
    if category == "order_number":
        value = str(rng.randint(10**9, 10**12 - 1))
        return category, value, rng.choice(
            ["Ordernummer: {v}", "Order #{v}", "Beställningen {v} levereras i morgon.",
             "OCR {v}", "Ärende {v}"]
        )  # fmt: skip
    if category == "iso_timestamp":
        return (
            category,
            rng.choice(
                [
                    "2026-11-27T10:00:00",
                    "20261127103000",
                    "2026-11-27 10:00",
                    "2026-11-27T10:00:00Z",
                ]
            ),
            "Skickat {v}",
        )
    if category == "price":
        amount = f"{rng.randint(1, 99)} {rng.randint(0, 999):03d} {rng.randint(0, 999):03d},00"
        return category, rng.choice([amount + " kr", "1 234,50 kr", "€ 1.299,00"]), "Totalt {v}"
    if category == "date":
        return (
            category,
            rng.choice(["27.11.2026", "2026-11-27", "08-12-2024", "11/27/2026"]),
            ("Datum {v}"),
        )
    if category == "long_invoice_number":
        value = _luhn_number(rng, str(rng.randint(1, 9)), rng.randint(16, 20))
        return category, value, rng.choice(["Fakturanummer {v}", "OCR-nummer: {v}", "Kvitto {v}"])
    if category == "invalid_iban":
        return category, rng.choice(src.bad_ibans), "IBAN {v}"
    if category == "bank_account":
        return category, rng.choice(src.accounts), "Bankkonto {v}"
    if category == "invalid_card":
        card = rng.choice(_CARDS)
        return category, card[:-1] + str((int(card[-1]) + 1) % 10), "Kort {v}"
    if category == "opening_hours":
        return category, rng.choice(["08.00-17.00", "10:00–15:30"]), "Öppet {v}"
    return category, rng.choice(participants), "Svara till {v} som vanligt."
