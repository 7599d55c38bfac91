"""What inboxwarden remembers between runs: `schema` (tables), `store` (runs, flags,
UIDVALIDITY, scan marks, leases), `journal` (the transfers in flight), `trail` (audit
events and findings), `history` (what the reports read back), `queries` (the statements
run per mailbox, built once), `records` (what the methods return), `urls` (database
URLs).

All of inboxwarden's SQL lives in this package (tests/test_code_layout.py holds it to that)."""

from __future__ import annotations

from inboxwarden.state.records import AuditEvent, FindingRow, RunRow, Transfer
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
    "FindingRow",
    "RunRow",
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
