"""The fast candidate pass: one regex finds every place personal data could start.

The validators are slow next to a regex (libphonenumber's matcher runs at ~0.3 MB/s,
email-validator at tens of µs a call), and most mail text is prose. One compiled
pattern, starting with a single character class so that the regex engine can skip
through prose in C, stops only at

* a run of 7 or more digits joined by at most three separator characters (space,
  tab, no-break space, ``+ ( ) . /`` and hyphens): every identity number, phone and
  card number lies inside such a run, and the run ends at a letter, comma, colon or
  line break;
* an ``@``: an e-mail address is grown outwards from it;
* two capitals followed by two digits, not glued to a preceding word: an IBAN start.

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
from inboxwarden.detectors.phone import find_phones
from inboxwarden.detectors.swedish_id import find_swedish_ids

CANDIDATE: Final = re.compile(
    r"[0-9@A-Z]"
    r"(?:(?<=[0-9])(?:[ \t\u00a0+()./\-\u2010\u2011\u2013]{0,3}[0-9]){6,}"
    r"|(?<=@)"
    r"|(?<=[A-Z])(?<![A-Za-z0-9][A-Z])[A-Z] ?[0-9]{2})"
)

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


def find_spans(text: str, excluded: frozenset[str]) -> list[Span]:
    """Return non-overlapping ``(start, end, kind)`` spans of personal data, by position.

    ``excluded`` holds case-folded participant addresses that are not findings.
    """
    spans: list[Span] = []
    for match in CANDIDATE.finditer(text):
        start = match.start()
        first = text[start]
        if first == "@":
            email = find_email_address(text, start, excluded)
            if email is not None:
                spans.append((email[0], email[1], Kind.EMAIL_ADDRESS))
        elif first <= "9":
            _scan_digit_run(text, start, match.end(), spans)
        else:
            iban = find_iban(text, start)
            if iban is not None:
                spans.append(iban)
    return _without_overlaps(spans)


def _scan_digit_run(text: str, start: int, end: int, spans: list[Span]) -> None:
    """Append the identity, card and phone numbers found in one digit run."""
    # Two characters past the run let the validators' look-aheads see "-1" or ",5".
    context_end = min(len(text), end + 2)
    claimed: list[Span] = []
    if end - start >= _SHORTEST_ID:
        claimed = find_swedish_ids(text, start, context_end)
        if end - start >= _SHORTEST_CARD:
            claimed += find_cards(text, start, context_end)
    # A leading "+" or "(" is not part of the run but starts the phone number.
    lo = start - 1 if start > 0 and text[start - 1] in "+(" else start
    if claimed:
        spans += claimed
        for claimed_start, claimed_end, _ in sorted(claimed):
            if claimed_start > lo:
                spans += ((s, e, Kind.PHONE) for s, e in find_phones(text, lo, claimed_start))
            lo = max(lo, claimed_end)
    if lo < end:
        spans += ((s, e, Kind.PHONE) for s, e in find_phones(text, lo, end, lookahead=1))


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
