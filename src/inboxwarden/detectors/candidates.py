"""The fast candidate pass: cheap scans find every place personal data could start.

The validators are slow next to a regex (libphonenumber's matcher runs at ~0.3 MB/s,
email-validator at tens of µs a call), and most mail text is prose. So the text is
first scanned, in C, for the only places where a finding can be:

* `DIGIT_RUN`: 7 or more digits joined by at most three separator characters (space,
  tab, no-break space, ``+ ( ) . /`` and hyphens). Every identity, phone and card
  number lies inside such a run; a run ends at a letter, comma, colon or line break.
* an ``@``: an e-mail address is grown outwards from it.
* `IBAN_START`: two capitals and two digits not glued to a preceding word.

These are three scans rather than one combined pattern. Measured on the benchmark
text they cost the same (~75 MB/s together, best of several runs, as does one pattern
``[0-9@A-Z](?:(?<=[0-9])…|(?<=@)|(?<=[A-Z])…)``), but each is simpler, and a match of
one kind cannot swallow the start of another (an IBAN anchor "AA 20" once hid the
personnummer in "AA 200001010016"). Each pattern starts with a literal character class,
which lets the regex engine skip prose with its fast character-set search; a leading
look-behind or ``[A-Z]{2}`` defeats that (the IBAN scan alone: 67 vs 247 MB/s).

Each run is handed to the validators over just its own span; a phone number is only
looked for in the parts of a run no identity or card number has claimed, so a number
that is both (a ten-digit personnummer of someone born in the 2000s is often a valid
Swedish phone number too) is reported once, as the more sensitive kind (`PRIORITY`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Final

from inboxwarden.detectors.email_address import find_email_address
from inboxwarden.detectors.kinds import Kind
from inboxwarden.detectors.payment import find_cards, find_iban
from inboxwarden.detectors.phone import MatcherBudget, find_phones
from inboxwarden.detectors.swedish_id import find_swedish_ids

__all__ = ["DIGIT_RUN", "IBAN_START", "PRIORITY", "Span", "find_spans"]

DIGIT_RUN: Final = re.compile(r"[0-9](?:[ \t\u00a0+()./\-\u2010\u2011\u2013]{0,3}[0-9]){6,}+")
"""Seven or more digits joined by at most three separator characters.

The repeat is possessive (``{6,}+``): a greedy group repeat keeps a backtracking entry
per iteration, so one megabyte of digits cost 120 MB of memory; a run is maximal
anyway, so giving iterations back could never produce another match."""

IBAN_START: Final = re.compile(r"[A-Z][A-Z] ?[0-9]{2}")
"""A country code and check digits; whether a word precedes it is checked after."""

PRIORITY: Final = {
    Kind.IBAN: 0,
    Kind.PERSONNUMMER: 1,
    Kind.SAMORDNINGSNUMMER: 1,
    Kind.PAYMENT_CARD: 2,
    Kind.EMAIL_ADDRESS: 3,
    Kind.PHONE: 4,
}
"""Which finding wins where two overlap, lower first.

An IBAN comes first because its mod-97 check and country format make it the surest
reading: a Luhn-valid ten-digit group inside one (``ES10 0075 0080 11 0600658108``)
is part of the account number. Otherwise the more sensitive kind wins.
"""

Span = tuple[int, int, Kind]

_SHORTEST_ID: Final = 10
_SHORTEST_CARD: Final = 13


def find_spans(
    text: str, excluded: frozenset[str], budget: MatcherBudget | None = None
) -> list[Span]:
    """Return non-overlapping ``(start, end, kind)`` spans of personal data, by position.

    ``excluded`` holds case-folded participant addresses that are not findings;
    ``budget`` bounds what the phone matcher reads (see `phone.MatcherBudget`).
    """
    spans: list[Span] = []
    for match in DIGIT_RUN.finditer(text):
        _scan_digit_run(text, match.start(), match.end(), spans, budget)
    at = text.find("@")
    while at >= 0:
        email = find_email_address(text, at, excluded)
        if email is not None:
            spans.append((email[0], email[1], Kind.EMAIL_ADDRESS))
        at = text.find("@", at + 1)
    for match in IBAN_START.finditer(text):
        start = match.start()
        if start and text[start - 1].isalnum():
            continue
        iban = find_iban(text, start)
        if iban is not None:
            spans.append(iban)
    return _without_overlaps(spans)


def _scan_digit_run(
    text: str, start: int, end: int, spans: list[Span], budget: MatcherBudget | None
) -> None:
    """Append the identity, card and phone numbers found in one digit run."""
    claimed: list[Span] = []
    if end - start >= _SHORTEST_ID:
        # Two characters past the run let the look-aheads see "-1" or ",5".
        context_end = min(len(text), end + 2)
        claimed = find_swedish_ids(text, start, context_end)
        if end - start >= _SHORTEST_CARD:
            claimed += find_cards(text, start, context_end)
    # A leading "+", or a "(" closed inside the run ("(08) 465 …"), starts the number.
    before = text[start - 1] if start else ""
    if before == "+" or (before == "(" and text.find(")", start, end) >= 0):
        start -= 1
    if claimed:
        spans += claimed
        for claimed_start, claimed_end, _ in sorted(claimed):
            if claimed_start > start:
                for s, e in find_phones(text, start, claimed_start, budget=budget):
                    spans.append((s, e, Kind.PHONE))
            start = max(start, claimed_end)
        if start >= end:
            return
    for s, e in find_phones(text, start, end, lookahead=1, budget=budget):
        spans.append((s, e, Kind.PHONE))


def _without_overlaps(spans: list[Span]) -> list[Span]:
    """Return the spans sorted by start, dropping any that overlap a stronger one."""
    if len(spans) < 2:
        return spans
    spans.sort(key=lambda span: (PRIORITY[span[2]], span[0], -span[1]))
    kept: list[Span] = []
    starts: list[int] = []
    for span in spans:
        i = bisect_right(starts, span[0])
        if i > 0 and kept[i - 1][1] > span[0]:
            continue
        if i < len(kept) and kept[i][0] < span[1]:
            continue
        kept.insert(i, span)
        starts.insert(i, span[0])
    return kept
