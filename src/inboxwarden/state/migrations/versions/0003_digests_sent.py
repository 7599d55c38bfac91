"""The digests sent per mailbox, so ``serve`` sends each one once per boundary.

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``digests_sent``."""
    op.create_table(
        "digests_sent",
        sa.Column("mailbox", sa.String(320), primary_key=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    """Drop ``digests_sent``."""
    op.drop_table("digests_sent")
