"""E-mail addresses in text, other than the message's own participants.

The candidate pass stops at each ``@``; the address is grown outwards from it (a local
part of letters, digits and ``._%+-``, a dotted domain) and then checked by
`email-validator` for syntax only, without DNS (docs/behaviour.md §6). The rarer local-part
characters RFC 5322 allows (``!#$&'*/=?^`{|}~``) are left out of the growth on
purpose: in running text they are far more often punctuation around an address than
part of it. Special-use domains (``localhost``, ``.test``, ``.invalid``) fail
validation and are not findings.

Participants are compared case-insensitively, on the address as written and on its
validated normal form, so ``Anna.Svensson@Example.SE`` in a quoted reply is not a
finding in a mail Anna was part of.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Final

import email_validator
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

__all__ = ["find_email_address", "normalise_addresses"]

_LOCAL_MAX: Final = 254
"""An address is at most 254 octets (RFC 3696 errata); email-validator checks the local
part's own 64-octet limit only in strict mode, so growth stops at the whole length."""
_LAST_BREAK: Final = re.compile(r"(?s).*[^\w.%+\-]")
"""Greedy to the last character before the ``@`` that cannot be in a local part."""
_DOMAIN: Final = re.compile(r"[\w\-]+(?:\.[\w\-]+)+")
_PLAIN: Final = re.compile(
    r"[A-Za-z0-9_%+\-]+(?:\.[A-Za-z0-9_%+\-]+)*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z0-9][A-Za-z0-9\-]{0,61})?[A-Za-z]"
)
"""An address of plain ASCII dot-atoms whose top-level domain ends in a letter: the
shape nearly every address has, and one email-validator accepts as written but for the
checks :func:`_plain_normal_form` makes itself."""
_MAX_ADDRESS: Final = 254
_MAX_DOMAIN: Final = 253


def normalise_addresses(addresses: Iterable[str]) -> frozenset[str]:
    """Return the addresses case-folded, the form `find_email_address` compares with.

    A lone string is one address, not an iterable of one-letter ones.
    """
    if isinstance(addresses, str):
        addresses = (addresses,)
    return frozenset(address.strip().casefold() for address in addresses)


def find_email_address(text: str, at: int, excluded: frozenset[str]) -> tuple[int, int] | None:
    """Return the span of a valid, non-participant address around the ``@`` at ``at``."""
    lo = max(0, at - _LOCAL_MAX)
    last_break = _LAST_BREAK.match(text, lo, at)
    domain = _DOMAIN.match(text, at + 1)
    if domain is None:
        return None
    start = lo if last_break is None else last_break.end()
    while start < at and text[start] == ".":
        start += 1
    end = domain.end()
    while text[end - 1] == "-":
        end -= 1
    if start == at or end <= at + 1:
        return None
    candidate = text[start:end]
    if candidate.casefold() in excluded:
        return None
    normalized = _normalized(candidate)
    if normalized is None or normalized.casefold() in excluded:
        return None
    return (start, end)


@lru_cache(maxsize=4096)
def _normalized(candidate: str) -> str | None:
    """Return the validated normal form of an address, or None if it is not valid.

    Memoised: the same addresses recur in every quoted reply and signature of a thread,
    and validation costs ~50 µs. A plain ASCII address is decided without it.
    """
    plain = _plain_normal_form(candidate)
    if plain is not None:
        return plain
    try:
        return validate_email(candidate, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def _plain_normal_form(candidate: str) -> str | None:
    """email-validator's normal form of a plain ASCII address, or None: ask it instead.

    For an address of the `_PLAIN` shape email-validator's syntax checks (without DNS)
    come down to the lengths, the ``xn--``-like labels, the special-use domains and the
    mailbox names it lower-cases; anything near those is left to it. Its normal form is
    then the local part as written and the domain in lower case (UTS #46 mapping of
    ASCII). tests/detectors/test_email_address.py holds the two to the same answers.
    """
    if len(candidate) > _MAX_ADDRESS or _PLAIN.fullmatch(candidate) is None:
        return None
    local, _, domain = candidate.rpartition("@")
    domain = domain.lower()
    if len(domain) > _MAX_DOMAIN or "--" in domain:
        return None
    if local.lower() in CASE_INSENSITIVE_MAILBOX_NAMES:
        return None
    for special in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        if domain == special or domain.endswith("." + special):
            return None
    return f"{local}@{domain}"
