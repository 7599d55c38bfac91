"""Realistic sample mail for the demo: three months of an office inbox, Swedish and English.

Deterministic (seeded), so the demo prints the same story every time. The personal data
in it is synthetic: personnummer use valid check digits on made-up birth dates, and the
phone numbers are in the ranges the Swedish regulator (PTS) reserves for fiction.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

from stdnum import luhn

__all__ = ["EXAMPLE_RULES", "SAMPLES", "STOCKHOLM", "Sample", "fake_personnummer", "inbox_messages"]

STOCKHOLM = ZoneInfo("Europe/Stockholm")


#: The example rules (as in config/inboxwarden.toml), for the demo and the tests.
EXAMPLE_RULES = """\
[domain_groups]
customers = ["kund.se", "client.example"]

[[rules]]
name = "invoices"
match.from_domain = ["fortnox.se"]
match.subject = "(?i)faktura|invoice"
action = "move"
target = "Bokföring/{year}"
basis = "Bokföringslagen (1999:1078) 7 kap."
retention = "7 år"

[[rules]]
name = "newsletters"
match.list_id = "*"
action = "delete"

[[rules]]
name = "customers"
match.from_domain = ["@customers"]
action = "move"
target = "Kunder/{from_domain}"
basis = "Avtal – GDPR art. 6.1 b"
retention = "Avtalstiden + 2 år"
"""


@dataclass(frozen=True)
class Sample:
    """One kind of message the demo mailboxes receive."""

    sender: str
    subjects: tuple[str, ...]
    body: str
    list_id: str | None = None
    weight: int = 1


def fake_personnummer(rng: random.Random) -> str:
    """A personnummer with a valid check digit on a made-up birth date (YYMMDD-NNNN)."""
    year, month, day = rng.randint(50, 99), rng.randint(1, 12), rng.randint(1, 28)
    stem = f"{year:02d}{month:02d}{day:02d}{rng.randint(100, 999):03d}"
    return f"{stem[:6]}-{stem[6:]}{luhn.calc_check_digit(stem)}"


SAMPLES: tuple[Sample, ...] = (
    Sample(
        "Fortnox <faktura@fortnox.se>",
        (
            "Faktura {n} från Kontorsgrossisten AB",
            "Faktura {n} – förfaller om 30 dagar",
            "Invoice {n}",
        ),
        "Hej!\n\nBifogat finner du faktura {n}. Belopp: {amount} kr. Förfallodag: 30 dagar.\n\n"
        "Med vänliga hälsningar\nFortnox\n",
        weight=3,
    ),
    Sample(
        "Lena Kund <lena.berg@kund.se>",
        ("Ärende {n}: fråga om leveransen", "Re: Offert {n}", "Kontaktuppgifter för ärende {n}"),
        "Hej,\n\nGällande ärende {n}: kunden har personnummer {pnr} och nås på 070-174 06 {tail}.\n"
        "Kan ni återkomma före fredag?\n\nMvh\nLena Berg\nKund AB\n",
        weight=4,
    ),
    Sample(
        "John Client <john.smith@client.example>",
        ("Order {n} delivery", "Re: Contract renewal {n}", "Meeting notes {n}"),
        "Hi,\n\nFollowing up on order {n} ({amount} SEK).\n"
        "Please call me on +46 70 174 06 {tail}.\n\nBest regards,\nJohn Smith\n",
        weight=3,
    ),
    Sample(
        "Branschnytt <nyhetsbrev@branschnytt.se>",
        ("Veckans nyheter v.{week}", "Branschnytt: {n} tips inför hösten"),
        "Veckans nyheter från branschen. Avregistrera dig via länken i sidfoten.\n",
        list_id="<veckobrev.branschnytt.se>",
        weight=4,
    ),
    Sample(
        "Tech Weekly <news@techweekly.example>",
        ("Tech Weekly #{n}", "This week in cloud #{n}"),
        "The week's top stories. Unsubscribe at any time.\n",
        list_id="<weekly.techweekly.example>",
        weight=2,
    ),
    Sample(
        "Kollega <per.olsson@exempel.se>",
        ("Lunch på fredag?", "Re: Semesterplanering", "Protokoll från teammötet {n}"),
        "Hej!\n\nSes vi på fredag? Ring mig på 08-465 04 {tail} annars.\n\n/Per\n",
        weight=3,
    ),
    Sample(
        "HR <hr@exempel.se>",
        ("Lönespecifikation {month}", "Uppdaterad personalhandbok"),
        "Hej,\n\nDin lönespecifikation finns i portalen. Personnummer: {pnr}.\n\nHR\n",
        weight=1,
    ),
)


def _render(sample: Sample, rng: random.Random, when: datetime, to: str) -> bytes:
    fields = {
        "n": rng.randint(1000, 9999),
        "amount": f"{rng.randint(200, 90_000):,}".replace(",", " "),
        "pnr": fake_personnummer(rng),
        "tail": f"{rng.randint(5, 99):02d}",
        "week": when.isocalendar().week,
        "month": when.strftime("%Y-%m"),
    }
    msg = EmailMessage()
    msg["From"] = sample.sender
    msg["To"] = to
    msg["Subject"] = rng.choice(sample.subjects).format(**fields)
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain=sample.sender.rpartition("@")[2].rstrip(">"))
    if sample.list_id:
        msg["List-Id"] = sample.list_id
        msg["List-Unsubscribe"] = "<mailto:unsubscribe@" + sample.list_id.strip("<>") + ">"
    msg.set_content(sample.body.format(**fields))
    return msg.as_bytes()


def inbox_messages(
    address: str, *, start: datetime, end: datetime, per_day: float, seed: int
) -> Iterator[tuple[bytes, datetime]]:
    """Messages for *address* arriving between *start* and *end*, on working hours."""
    rng = random.Random(f"{seed}:{address}")
    weights = [s.weight for s in SAMPLES]
    day = start
    while day < end:
        count = int(per_day) + (1 if rng.random() < per_day % 1 else 0)
        if day.weekday() >= 5:
            count //= 3
        for _ in range(count):
            when = day.replace(
                hour=rng.randint(7, 18), minute=rng.randint(0, 59), second=rng.randint(0, 59)
            )
            if when >= end:
                continue
            sample = rng.choices(SAMPLES, weights)[0]
            yield _render(sample, rng, when, address), when
        day += timedelta(days=1)
