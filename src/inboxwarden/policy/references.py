"""Message references for the audit trail: an HMAC, never a Message-ID or an address.

A data protection officer can prove what happened to a message they hold (compute its
reference with the key from its Message-ID, arrival time and size) without the trail
revealing who wrote to whom (docs/behaviour.md §9).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime

from inboxwarden.policy.message import MessageInfo

__all__ = ["Referencer"]


@dataclass(frozen=True)
class Referencer:
    """Computes message references under one secret key (which its repr never shows)."""

    key: bytes = field(repr=False)

    def ref(self, message: MessageInfo) -> str:
        """The reference of *message*, stable across folders (a move keeps all three)."""
        return self.ref_for(message.message_id, message.internaldate, message.size)

    def ref_for(self, message_id: str | None, arrived: datetime, size: int) -> str:
        """HMAC-SHA256 of Message-ID, INTERNALDATE (UTC, to the second) and size, 24 hex.

        Two different messages with one Message-ID (a resend, a list copy, mail to
        oneself) differ in arrival time or size, so they get different references; the
        recovery of an interrupted transfer counts copies by these references.
        """
        utc = arrived.astimezone(UTC)
        # isoformat is twice as fast as strftime (a big run refers to every moved
        # message); strftime's %Y pads no year below 1000, so such a year keeps it.
        if utc.year >= 1000:
            moment = utc.isoformat(timespec="seconds")[:19]
        else:
            moment = utc.strftime("%Y-%m-%dT%H:%M:%S")
        normalised = (message_id or "").strip().strip("<>")
        return self.ref_of(f"{normalised}|{moment}|{size}")

    def ref_of(self, text: str) -> str:
        """The reference of a bare string (surrounding angle brackets ignored)."""
        normalised = text.strip().strip("<>")
        # One-shot hmac.digest runs in OpenSSL without a Python HMAC object per call.
        return hmac.digest(self.key, normalised.encode("utf-8"), hashlib.sha256).hex()[:24]
