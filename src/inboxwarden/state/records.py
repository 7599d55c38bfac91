"""Plain records the state hands out, and time handling shared by its parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = ["AuditEvent", "FindingRow", "RunRow", "Transfer", "as_utc"]


@dataclass(frozen=True, slots=True)
class Transfer:
    """One ``UID MOVE`` or ``UID COPY`` command in flight, as journalled before it was sent.

    *phase* is ``sent`` (the server may or may not have done it), ``copied`` (COPYUID
    recorded in *mapping*) or ``expunging`` (the originals are being marked
    ``\\Deleted`` by inboxwarden). *refs* are the message references of *uids*, in order.
    """

    id: int
    folder: str
    uidvalidity: int
    target: str
    target_uidvalidity: int
    target_uidnext: int
    uids: tuple[int, ...]
    command: str = "LEGACY"
    phase: str = "sent"
    action: str = "move"
    rule: str | None = None
    refs: tuple[str, ...] = ()
    mapping: dict[int, int] = field(default_factory=dict)

    @property
    def ref_of(self) -> dict[int, str]:
        """The journalled reference of each UID."""
        return dict(zip(self.uids, self.refs, strict=False))


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One write inboxwarden made (docs/behaviour.md §9); *ref* is an HMAC, never a Message-ID."""

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


@dataclass(frozen=True, slots=True)
class RunRow:
    """One mailbox in one run: when the run acted as of, how it went, and its counts."""

    mailbox: str
    as_of: datetime
    status: str
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class FindingRow:
    """One fan-out finding, reduced to what the report counts (docs/behaviour.md §6, §7)."""

    mailbox: str
    at: datetime
    external: bool
    high: bool
