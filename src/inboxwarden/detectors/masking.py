"""Masked renderings of findings, for the digest an employee gets about their own mail.

The digest has to let people recognise which number it means without repeating it:
a personnummer keeps its birth date (``19811218-****``), a phone number its first
and last digits (``070-*** ** 05``), an address its first letter and domain
(``a***@example.se``), an IBAN its country and last four (``SE** **** … 7466``), a
card its last four (``**** **** **** 1111``), the way banks print them. Separators
are kept so the shape stays familiar. Nothing here is stored or logged; the caller
holds the text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from inboxwarden.detectors.kinds import Finding, Kind
from inboxwarden.detectors.message_scan import scan_text

__all__ = ["mask", "mask_text"]

_STAR: Final = "*"


def mask(text: str, finding: Finding) -> str:
    """Return the finding's value in ``text`` with its identifying digits masked."""
    return _MASKERS[finding.kind](text[finding.start : finding.end])


def mask_text(text: str, *, exclude_addresses: Iterable[str] = frozenset()) -> str:
    """Return ``text`` with every finding in it replaced by its masked rendering."""
    pieces: list[str] = []
    last = 0
    for finding in scan_text(text, exclude_addresses=exclude_addresses):
        pieces += (text[last : finding.start], mask(text, finding))
        last = finding.end
    pieces.append(text[last:])
    return "".join(pieces)


def _mask_swedish_id(value: str) -> str:
    """Keep the birth date and separator, mask the four-digit serial and check digit."""
    return value[:-4] + _STAR * 4


def _mask_phone(value: str) -> str:
    """Keep the trunk or country prefix and the last two digits."""
    head = 4 if value.startswith(("+", "00")) else 3
    return _keep_digits(value, head=head, tail=2)


def _mask_email(value: str) -> str:
    """Keep the first character of the local part and the domain."""
    local, _, domain = value.rpartition("@")
    return f"{local[:1]}{_STAR * 3}@{domain}"


def _mask_iban(value: str) -> str:
    """Keep the country code and the last four characters."""
    return value[:2] + _keep_alnum(value[2:], tail=4)


def _mask_card(value: str) -> str:
    """Keep the last four digits."""
    return _keep_digits(value, head=0, tail=4)


def _keep_digits(value: str, *, head: int, tail: int) -> str:
    """Mask every digit but the first ``head`` and the last ``tail``, at least three."""
    positions = [i for i, char in enumerate(value) if char.isdigit()]
    masked = max(len(positions) - head - tail, min(3, len(positions)))
    tail = min(tail, len(positions) - masked)
    hidden = set(positions[len(positions) - tail - masked : len(positions) - tail])
    return "".join(_STAR if i in hidden else char for i, char in enumerate(value))


def _keep_alnum(value: str, *, tail: int) -> str:
    """Mask every letter and digit but the last ``tail``."""
    positions = [i for i, char in enumerate(value) if char.isalnum()]
    hidden = set(positions[: max(0, len(positions) - tail)])
    return "".join(_STAR if i in hidden else char for i, char in enumerate(value))


_MASKERS: Final[dict[Kind, Callable[[str], str]]] = {
    Kind.PERSONNUMMER: _mask_swedish_id,
    Kind.SAMORDNINGSNUMMER: _mask_swedish_id,
    Kind.PHONE: _mask_phone,
    Kind.EMAIL_ADDRESS: _mask_email,
    Kind.IBAN: _mask_iban,
    Kind.PAYMENT_CARD: _mask_card,
}
