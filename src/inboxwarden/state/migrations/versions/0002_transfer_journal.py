"""The transfer journal becomes one row per command, with its proof of each copy.

Rows written by 0.1.0 keep ``command = 'LEGACY'``: their UIDs may span several commands,
so recovery never expunges on their account (a duplicate may remain, never a loss).

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the command, its phase, action, rule, references and COPYUID mapping."""
    with op.batch_alter_table("transfers") as batch:
        batch.add_column(
            sa.Column("command", sa.String(8), nullable=False, server_default="LEGACY")
        )
        batch.add_column(sa.Column("phase", sa.String(16), nullable=False, server_default="sent"))
        batch.add_column(sa.Column("action", sa.String(8), nullable=False, server_default="move"))
        batch.add_column(sa.Column("rule", sa.String(128)))
        batch.add_column(sa.Column("refs", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("mapping", sa.Text))


def downgrade() -> None:
    """Drop the columns again."""
    with op.batch_alter_table("transfers") as batch:
        for column in ("mapping", "refs", "rule", "action", "phase", "command"):
            batch.drop_column(column)
