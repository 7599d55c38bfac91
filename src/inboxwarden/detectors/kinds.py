"""The kinds of personal data the detectors find, and the findings that name them.

A finding records what was found and where, never the value: a scan result can be
logged, stored and put in a report without itself becoming a copy of the personal data
it warns about (docs/behaviour.md §6). Rendering a masked value needs the original text, which only
the caller holds (see `inboxwarden.detectors.masking`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Finding", "Kind", "MessageScan", "Part", "TextScan", "kinds_of"]


class Kind(StrEnum):
    """A kind of personal data, named as in docs/behaviour.md §6."""

    PERSONNUMMER = "personnummer"
    SAMORDNINGSNUMMER = "samordningsnummer"
    PHONE = "phone"
    EMAIL_ADDRESS = "email_address"
    IBAN = "iban"
    PAYMENT_CARD = "payment_card"


class Part(StrEnum):
    """The place in a message a finding was made in."""

    SUBJECT = "subject"
    BODY = "body"
    ATTACHMENT = "attachment"
    """The text of a text/* part sent as an attachment (a .txt, .csv, .ics, .vcf)."""
    ATTACHMENT_NAME = "attachment_name"


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of personal data, by kind and position; the value is deliberately absent.

    ``start``/``end`` index the text that was scanned. For `scan_message` that is the
    decoded text of the ``index``-th segment of its ``part`` (the second text body,
    the third attachment name), as `extract_text` returns it.
    """

    kind: Kind
    part: Part
    start: int
    end: int
    index: int = 0


@dataclass(frozen=True, slots=True)
class MessageScan:
    """The findings of one message, with how much of it was read and what went wrong.

    ``truncated`` is true when a bound (size, depth, number of parts) cut what was
    scanned; ``errors`` counts the parts and headers that could not be read, or only
    read with a fallback charset, and ``unread`` those of them that could not be read
    at all. A scan never raises for a broken message, so these fields are how it says
    it could not see everything: see `complete`.
    """

    findings: tuple[Finding, ...]
    bytes_scanned: int
    truncated: bool = False
    errors: int = 0
    unread: int = 0

    @property
    def complete(self) -> bool:
        """True when every part was read: no finding can hide in what was left out.

        A message that is not complete "could not be read": its findings are a lower
        bound, and absence of findings proves nothing.
        """
        return not self.truncated and self.unread == 0

    @property
    def kinds(self) -> frozenset[Kind]:
        """The kinds found anywhere in the message."""
        return kinds_of(self.findings)


class TextScan(list[Finding]):
    """The findings in one text, a list as before, saying whether the text was cut.

    ``truncated`` is true when the text was longer than the scan's cap and only its
    start was scanned.
    """

    truncated: bool = False


def kinds_of(findings: Iterable[Finding]) -> frozenset[Kind]:
    """Return the set of kinds among the findings; policy decides on kinds, not counts."""
    return frozenset(finding.kind for finding in findings)
