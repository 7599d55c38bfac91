"""inboxwarden: enforces the monthly inbox rule and the e-mail privacy policy on IMAP mailboxes."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
