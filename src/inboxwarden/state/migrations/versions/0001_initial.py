"""The schema as it was before migrations: what ``create_all`` made up to 0.1.0.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create every table of 0.1.0."""
    op.create_table(
        "runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("mailboxes_ok", sa.Integer, nullable=False),
        sa.Column("mailboxes_failed", sa.Integer, nullable=False),
    )
    op.create_table(
        "mailbox_runs",
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("mailbox", sa.String(320), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.String(64)),
        sa.Column("counts", sa.Text, nullable=False),
    )
    op.create_table(
        "flags",
        sa.Column("mailbox", sa.String(320), primary_key=True),
        sa.Column("folder", sa.String(512), primary_key=True),
        sa.Column("uidvalidity", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("uid", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("keyword", sa.Boolean, nullable=False),
        sa.Column("flagged", sa.Boolean, nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "folders",
        sa.Column("mailbox", sa.String(320), primary_key=True),
        sa.Column("folder", sa.String(512), primary_key=True),
        sa.Column("uidvalidity", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "transfers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("mailbox", sa.String(320), nullable=False, index=True),
        sa.Column("folder", sa.String(512), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger, nullable=False),
        sa.Column("target", sa.String(512), nullable=False),
        sa.Column("target_uidvalidity", sa.BigInteger, nullable=False),
        sa.Column("target_uidnext", sa.BigInteger, nullable=False),
        sa.Column("uids", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("mailbox", sa.String(320), nullable=False, index=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("rule", sa.String(128)),
        sa.Column("folder", sa.String(512)),
        sa.Column("target", sa.String(512)),
        sa.Column("ref", sa.String(64)),
    )
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("mailbox", sa.String(320), nullable=False, index=True),
        sa.Column("folder", sa.String(512), nullable=False),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("message_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("recipients", sa.Integer, nullable=False),
        sa.Column("cc", sa.Integer, nullable=False),
        sa.Column("external", sa.Integer, nullable=False),
        sa.Column("kinds", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.UniqueConstraint("mailbox", "folder", "ref", name="findings_once"),
    )
    op.create_table(
        "leases",
        sa.Column("mailbox", sa.String(320), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop every table."""
    for table in (
        "leases",
        "findings",
        "audit_events",
        "transfers",
        "folders",
        "flags",
        "mailbox_runs",
        "runs",
    ):
        op.drop_table(table)
