"""Who a message went to: To, Cc and Bcc, normalised, de-duplicated, internal or not.

Addresses are parsed with the standard library (which understands group syntax such as
``team: a@x.se, b@x.se;``) and normalised with email-validator, so ``Anna@Exempel.SE``
and ``anna@exempel.se`` are one recipient. A recipient is internal when its domain is
one of the organisation's domains or a subdomain of one.
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

__all__ = ["Recipients", "count_recipients", "is_internal", "normalise"]


@dataclass(frozen=True, slots=True)
class Recipients:
    """The counted recipients of one message."""

    to: frozenset[str]
    cc: frozenset[str]
    bcc: frozenset[str]
    external: int

    @property
    def all(self) -> frozenset[str]:
        """Every distinct recipient."""
        return self.to | self.cc | self.bcc

    @property
    def total(self) -> int:
        """How many distinct people the message went to."""
        return len(self.all)

    @property
    def cc_count(self) -> int:
        """Distinct Cc recipients that are not also in To."""
        return len(self.cc - self.to)


def normalise(address: str) -> str | None:
    """The address as email-validator normalises it, case-folded; None when invalid."""
    try:
        checked = validate_email(address, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        return None
    return checked.normalized.casefold()


def _parse(value: str | None) -> frozenset[str]:
    if not value:
        return frozenset()
    found = set()
    for _name, address in email.utils.getaddresses([value]):
        if "@" in address:
            normalised = normalise(address)
            if normalised is not None:
                found.add(normalised)
    return frozenset(found)


def is_internal(address: str, domains: Iterable[str]) -> bool:
    """True when the address's domain is an organisation domain or below one."""
    domain = address.rpartition("@")[2]
    return any(domain == d or domain.endswith("." + d) for d in domains)


def count_recipients(headers: Mapping[str, str], domains: Iterable[str]) -> Recipients:
    """Count the recipients in a message's (lower-cased) To, Cc and Bcc headers."""
    own = tuple(d.lower() for d in domains)
    to, cc, bcc = _parse(headers.get("to")), _parse(headers.get("cc")), _parse(headers.get("bcc"))
    everyone = to | cc | bcc
    external = sum(1 for a in everyone if not is_internal(a, own))
    return Recipients(to=to, cc=cc, bcc=bcc, external=external)
