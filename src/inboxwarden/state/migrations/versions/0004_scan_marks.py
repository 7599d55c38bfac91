"""What each folder's last scan concluded, so an unchanged folder is not read again.

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``scan_marks``."""
    op.create_table(
        "scan_marks",
        sa.Column("mailbox", sa.String(320), primary_key=True),
        sa.Column("folder", sa.String(512), primary_key=True),
        sa.Column("uidvalidity", sa.BigInteger, nullable=False),
        sa.Column("modseq", sa.BigInteger, nullable=False),
        sa.Column("uidnext", sa.BigInteger, nullable=False),
        sa.Column("messages", sa.Integer, nullable=False),
        sa.Column("cycle_window", sa.String(128), nullable=False),
        sa.Column("settings", sa.String(64), nullable=False),
        sa.Column("due", sa.Integer, nullable=False),
        sa.Column("overdue", sa.Integer, nullable=False),
        sa.Column("held", sa.Integer, nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop ``scan_marks``."""
    op.drop_table("scan_marks")
