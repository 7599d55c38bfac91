"""Alembic's entry point: runs the migrations on the connection ``migrate.upgrade`` hands in.

There is no ``alembic.ini`` and no URL here: inboxwarden migrates its own database at
start-up, inside the lock that keeps two starting processes from racing.
"""

from __future__ import annotations

from alembic import context

from inboxwarden.state.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things: batch mode copies the table instead.
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
