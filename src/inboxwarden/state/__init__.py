"""What inboxwarden remembers between runs: `schema` (tables), `store` (runs, flags,
UIDVALIDITY, transfers, leases), `trail` (audit events and findings), `records`."""

from __future__ import annotations

from inboxwarden.state.records import AuditEvent, Transfer
from inboxwarden.state.schema import (
    audit_events,
    digests_sent,
    findings,
    flags,
    folders,
    leases,
    mailbox_runs,
    metadata,
    runs,
    transfers,
)
from inboxwarden.state.store import StateStore

__all__ = [
    "AuditEvent",
    "StateStore",
    "Transfer",
    "audit_events",
    "digests_sent",
    "findings",
    "flags",
    "folders",
    "leases",
    "mailbox_runs",
    "metadata",
    "runs",
    "transfers",
]
