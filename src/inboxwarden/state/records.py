"""Plain records the state hands out, its error, and time handling shared by its parts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from inboxwarden.errors import InboxWardenError


class StateError(InboxWardenError):
    """The state database could not be reached or written."""


@dataclass(frozen=True, slots=True)
class Transfer:
    """A move in flight: copied to *target*, perhaps not yet expunged from *folder*."""

    id: int
    folder: str
    uidvalidity: int
    target: str
    target_uidvalidity: int
    target_uidnext: int
    uids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One write inboxwarden made (SPEC §9); *ref* is an HMAC, never a Message-ID."""

    action: str
    ref: str | None
    rule: str | None = None
    folder: str | None = None
    target: str | None = None


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
