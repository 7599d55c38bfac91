"""The words the configuration and the IMAP and SMTP clients share about connecting.

Kept in a leaf module of its own so that :mod:`inboxwarden.config`,
:mod:`inboxwarden.imap.session` and :mod:`inboxwarden.reports.smtp` spell each choice
once, without importing one another.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["AuthMethod", "Security"]

Security = Literal["tls", "starttls", "plain"]
"""How a connection is secured: TLS from the first byte, STARTTLS, or not at all."""
AuthMethod = Literal["password", "master", "authzid", "xoauth2", "oauthbearer"]
"""How inboxwarden logs in to a mailbox (docs/behaviour.md §10)."""
