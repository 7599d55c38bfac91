"""The state database's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

This is the schema at the newest revision; the migrations in ``state/migrations`` bring
an existing database there, and a test checks that the two agree. UIDs and UIDVALIDITY
are BigInteger: both are unsigned 32-bit in IMAP (RFC 3501 §2.3.1.1), which
PostgreSQL's signed ``integer`` cannot hold. Times are stored in UTC.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "audit_events",
    "digests_sent",
    "findings",
    "flags",
    "folders",
    "leases",
    "mailbox_runs",
    "metadata",
    "runs",
    "scan_marks",
    "transfers",
]

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("as_of", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False, default="running"),
    Column("mailboxes_ok", Integer, nullable=False, default=0),
    Column("mailboxes_failed", Integer, nullable=False, default=0),
)

mailbox_runs = Table(
    "mailbox_runs",
    metadata,
    Column("run_id", String(36), primary_key=True),
    Column("mailbox", String(320), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("error", String(64)),
    Column("counts", Text, nullable=False),
)

flags = Table(
    "flags",
    metadata,
    Column("mailbox", String(320), primary_key=True),
    Column("folder", String(512), primary_key=True),
    Column("uidvalidity", BigInteger, primary_key=True, autoincrement=False),
    Column("uid", BigInteger, primary_key=True, autoincrement=False),
    Column("keyword", Boolean, nullable=False),
    Column("flagged", Boolean, nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
)

folders = Table(
    "folders",
    metadata,
    Column("mailbox", String(320), primary_key=True),
    Column("folder", String(512), primary_key=True),
    Column("uidvalidity", BigInteger, nullable=False),
)

transfers = Table(
    "transfers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mailbox", String(320), nullable=False, index=True),
    Column("folder", String(512), nullable=False),
    Column("uidvalidity", BigInteger, nullable=False),
    Column("target", String(512), nullable=False),
    Column("target_uidvalidity", BigInteger, nullable=False),
    Column("target_uidnext", BigInteger, nullable=False),
    Column("uids", Text, nullable=False),
    Column("run_id", String(36), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # One row per UID MOVE / UID COPY command, written before it is sent (revision 0002).
    Column("command", String(8), nullable=False, server_default="LEGACY"),
    Column("phase", String(16), nullable=False, server_default="sent"),
    Column("action", String(8), nullable=False, server_default="move"),
    Column("rule", String(128)),
    # The message references of ``uids``, in the same order: what proves a copy when
    # the server's answer was lost. HMACs only, never a Message-ID.
    Column("refs", Text, nullable=False, server_default=""),
    # COPYUID as the server answered it, ``source:destination`` pairs.
    Column("mapping", Text),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("run_id", String(36), nullable=False),
    Column("mailbox", String(320), nullable=False, index=True),
    Column("action", String(16), nullable=False),
    Column("rule", String(128)),
    Column("folder", String(512)),
    Column("target", String(512)),
    Column("ref", String(64)),
)

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mailbox", String(320), nullable=False, index=True),
    Column("folder", String(512), nullable=False),
    Column("ref", String(64), nullable=False),
    Column("message_date", DateTime(timezone=True), nullable=False),
    Column("found_at", DateTime(timezone=True), nullable=False, index=True),
    Column("recipients", Integer, nullable=False),
    Column("cc", Integer, nullable=False),
    Column("external", Integer, nullable=False),
    Column("kinds", String(200), nullable=False),
    Column("severity", String(16), nullable=False),
    UniqueConstraint("mailbox", "folder", "ref", name="findings_once"),
)

leases = Table(
    "leases",
    metadata,
    Column("mailbox", String(320), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# The digests sent, so a restart or a second scan never sends one twice (revision 0003).
digests_sent = Table(
    "digests_sent",
    metadata,
    Column("mailbox", String(320), primary_key=True),
    Column("sent_at", DateTime(timezone=True), primary_key=True),
    Column("kind", String(16), nullable=False),
)

# What the last scan of a folder concluded, for incremental scans (revision 0004): counts
# and keyed digests only, never a message fact (see inboxwarden.policy.scan_marks).
scan_marks = Table(
    "scan_marks",
    metadata,
    Column("mailbox", String(320), primary_key=True),
    Column("folder", String(512), primary_key=True),
    Column("uidvalidity", BigInteger, nullable=False),
    # MODSEQs are unsigned 63-bit (RFC 7162 §3.1.1): BigInteger holds them.
    Column("modseq", BigInteger, nullable=False),
    Column("uidnext", BigInteger, nullable=False),
    Column("messages", Integer, nullable=False),
    Column("cycle_window", String(128), nullable=False),
    Column("settings", String(64), nullable=False),
    Column("due", Integer, nullable=False),
    Column("overdue", Integer, nullable=False),
    Column("held", Integer, nullable=False),
    Column("marked_at", DateTime(timezone=True), nullable=False),
)
