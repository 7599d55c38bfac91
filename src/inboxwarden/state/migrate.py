"""Brings the state database to the newest schema revision, safely from several processes.

Two instances starting together must not both create tables: on PostgreSQL a
transaction-scoped advisory lock serialises them, on SQLite an exclusive lock on a file
beside the database does (SQLite's driver runs DDL outside transactions, so the
database's own locking cannot). A database made by 0.1.0's ``create_all`` has the tables
of revision 0001 and no version table: it is stamped 0001 first, then upgraded.

A database already at the newest revision is only read, without importing Alembic: its
import (with Mako) is a third of a second of every ``run --once`` start-up otherwise.
"""

from __future__ import annotations

import contextlib
import fcntl
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["current_revision", "head_revision", "upgrade"]

#: Any fixed 64-bit number; it names inboxwarden's migration lock among advisory locks.
_PG_LOCK_KEY = 0x1B0C_5A2D_E11D_0001
_MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION = re.compile(r"^(down_)?revision\s*=\s*(None|\"([^\"]+)\"|'([^']+)')", re.MULTILINE)


def upgrade(engine: Engine) -> None:
    """Migrate the database behind *engine* to the newest revision."""
    head = head_revision()
    if head is not None and current_revision(engine) == head:
        return
    from alembic import command  # only when there is something to do (see above)

    with _file_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        config = _config(conn)
        tables = set(inspect(conn).get_table_names())
        if "runs" in tables and "alembic_version" not in tables:
            command.stamp(config, "0001")
        command.upgrade(config, "head")


def current_revision(engine: Engine) -> str | None:
    """The revision Alembic recorded in the database, or None (new, or made by 0.1.0)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    # More than one row would be branches, which inboxwarden's history never has.
    return str(versions[0]) if len(versions) == 1 else None


@cache
def head_revision() -> str | None:
    """The newest revision of the migration scripts, read from their files.

    The head is the one revision no other names as its ``down_revision``. None when
    the scripts do not make one line (then Alembic itself decides, and says what is wrong).
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (_MIGRATIONS / "versions").glob("*.py"):
        for down, value, double, single in _REVISION.findall(script.read_text("utf-8")):
            name = double or single
            if value != "None":
                (parents if down else revisions).add(name)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _config(conn: Connection) -> Config:
    from alembic.config import Config

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
