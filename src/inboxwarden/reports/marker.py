"""The digest's own header: proof that a message is a digest inboxwarden wrote for this mailbox.

Every digest carries ``X-InboxWarden-Digest``
(:data:`~inboxwarden.policy.message.OWN_MESSAGE_HEADER`), which the engine reads as
"never flag, file or delete this". Before a new digest replaces an older one, the older
one is found by that header. Anyone can put a header in a mail, though, so the value
carries an HMAC under the audit key of the mailbox and a random token: only a message
whose value verifies for this very mailbox is ever removed, and a stranger's forged
header costs them nothing but being ignored.
"""

from __future__ import annotations

import hmac
import re
import secrets

from inboxwarden.policy.message import OWN_MESSAGE_HEADER
from inboxwarden.policy.references import Referencer

__all__ = ["HEADER", "SEARCH_TEXT", "is_our_digest", "new_marker"]

HEADER = OWN_MESSAGE_HEADER
#: What an IMAP ``SEARCH HEADER`` looks for (RFC 3501 §6.4.4 matches substrings).
SEARCH_TEXT = "digest"
_VALUE = re.compile(r"^\s*digest;\s*id=([0-9a-f]{16});\s*mac=([0-9a-f]{24})\s*$")


def _mac(referencer: Referencer, mailbox: str, token: str) -> str:
    return referencer.ref_of(f"digest|{mailbox.strip().lower()}|{token}")


def new_marker(referencer: Referencer, mailbox: str) -> str:
    """A fresh header value for a digest to *mailbox*: ``digest; id=…; mac=…``."""
    token = secrets.token_hex(8)
    return f"digest; id={token}; mac={_mac(referencer, mailbox, token)}"


def is_our_digest(value: str | None, referencer: Referencer, mailbox: str) -> bool:
    """True when *value* is a marker :func:`new_marker` made for *mailbox* under our key."""
    if not value:
        return False
    match = _VALUE.match(value)
    if match is None:
        return False
    token, mac = match.groups()
    return hmac.compare_digest(mac, _mac(referencer, mailbox, token))
