"""Brings the state database to the newest schema revision, safely from several processes.

Two instances starting together must not both create tables: on PostgreSQL a
transaction-scoped advisory lock serialises them, on SQLite an exclusive lock on a file
beside the database does (SQLite's driver runs DDL outside transactions, so the
database's own locking cannot). A database made by 0.1.0's ``create_all`` has the tables
of revision 0001 and no version table: it is stamped 0001 first, then upgraded.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, inspect, text

#: Any fixed 64-bit number; it names inboxwarden's migration lock among advisory locks.
_PG_LOCK_KEY = 0x1B0C_5A2D_E11D_0001
_MIGRATIONS = Path(__file__).with_name("migrations")


def upgrade(engine: Engine) -> None:
    """Migrate the database behind *engine* to the newest revision."""
    with _file_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        config = _config(conn)
        tables = set(inspect(conn).get_table_names())
        if "runs" in tables and "alembic_version" not in tables:
            command.stamp(config, "0001")
        command.upgrade(config, "head")


def _config(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = conn
    return config


@contextlib.contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
