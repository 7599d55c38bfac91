"""The words the configuration and the IMAP and SMTP clients share about connecting.

Kept in a leaf module of its own so that :mod:`inboxwarden.config`,
:mod:`inboxwarden.imap.connect` and :mod:`inboxwarden.reports.smtp` spell each choice
once, without importing one another.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

__all__ = ["AuthMethod", "Security", "is_loopback"]

Security = Literal["tls", "starttls", "plain"]
"""How a connection is secured: TLS from the first byte, STARTTLS, or not at all."""
AuthMethod = Literal["password", "master", "authzid", "xoauth2", "oauthbearer"]
"""How inboxwarden logs in to a mailbox (docs/behaviour.md §10)."""


def is_loopback(host: str) -> bool:
    """True when *host* is this machine (``localhost`` or a loopback address), where a
    connection in plain text exposes nothing."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
