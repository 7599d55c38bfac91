"""Database URLs as SQLAlchemy reads them, for the configuration to check and complete.

The configuration validates ``state.url`` and puts its password in, but the grammar of
a database URL is SQLAlchemy's: it is read here, so no module outside ``state/`` needs
SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

__all__ = ["DatabaseUrl", "parse_database_url", "with_password"]


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    """The parts of a database URL the configuration checks."""

    backend: str
    """``sqlite``, ``postgresql``, … (without the driver)."""
    database: str | None
    """The database name, or for SQLite the file's path (``None`` or ``:memory:``)."""
    password: str | None


def parse_database_url(url: str) -> DatabaseUrl:
    """The parts of *url*; `ValueError` when it is no database URL at all."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError(f"not a database URL: {url[:20]!r}…") from None
    return DatabaseUrl(parsed.get_backend_name(), parsed.database, parsed.password)


def with_password(url: str, password: str) -> str:
    """*url* with *password* put in (escaped as the URL grammar needs)."""
    return make_url(url).set(password=password).render_as_string(hide_password=False)
