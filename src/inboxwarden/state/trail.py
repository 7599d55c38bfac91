"""The audit trail and the fan-out findings: what the DPO reads, kept for a set time.

A mixin of :class:`~inboxwarden.state.store.StateStore`, kept apart because it is the
part of the state that follows inboxwarden's own retention policy (docs/behaviour.md §9).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select

from inboxwarden.errors import StateError
from inboxwarden.state.records import AuditEvent, as_utc
from inboxwarden.state.schema import audit_events, findings, mailbox_runs

__all__ = ["AuditTrail"]


class AuditTrail:
    """Audit events and findings; needs ``self._engine``."""

    _engine: Engine

    def audit(self, run_id: str, mailbox: str, events: Iterable[AuditEvent]) -> int:
        """Append audit events; returns how many were written."""
        rows = self._event_rows(run_id, mailbox, events)
        if rows:
            with self._engine.begin() as conn:
                self._insert_events(conn, rows)
        return len(rows)

    def left_in_run(self, run_id: str, mailbox: str) -> dict[str, int]:
        """How many messages left *mailbox* during *run_id*, by audit action (``move``,
        ``delete``, ``purge``): each message that left has exactly one event."""
        table = audit_events
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(table.c.action, func.count())
                .where(
                    table.c.run_id == run_id,
                    table.c.mailbox == mailbox,
                    table.c.action.in_(("move", "delete", "purge")),
                )
                .group_by(table.c.action)
            ).all()
        return {str(action): int(count) for action, count in rows}

    def _event_rows(
        self, run_id: str, mailbox: str, events: Iterable[AuditEvent]
    ) -> list[tuple[Any, ...]]:
        at = self._timestamp_param(datetime.now(UTC))
        return [(at, run_id, mailbox, e.action, e.rule, e.folder, e.target, e.ref) for e in events]

    def _insert_events(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        # The driver's own executemany: a big enforce run writes tens of thousands of
        # events, and SQLAlchemy's per-row parameter processing would dominate.
        if rows:
            conn.exec_driver_sql(self._audit_insert, rows)

    @cached_property
    def _audit_insert(self) -> str:
        columns = ("at", "run_id", "mailbox", "action", "rule", "folder", "target", "ref")
        marks = self._marks(len(columns))
        return f"INSERT INTO audit_events ({', '.join(columns)}) VALUES ({', '.join(marks)})"  # noqa: S608 - fixed names

    def _marks(self, count: int) -> list[str]:
        """*count* positional parameter markers in this driver's DB-API style."""
        style = self._engine.dialect.paramstyle
        if style == "qmark":
            return ["?"] * count
        if style in ("format", "pyformat"):
            return ["%s"] * count
        if style == "numeric":
            return [f":{i + 1}" for i in range(count)]
        raise StateError(f"unsupported DB-API parameter style {style!r}")

    def _timestamp_param(self, value: datetime) -> Any:
        """A UTC time as this database's driver takes it for a DateTime column.

        SQLite has no time type: SQLAlchemy stores naive UTC text in this exact form.
        """
        if self._engine.dialect.name == "sqlite":
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        return value

    def audit_trail(self, mailbox: str | None = None) -> list[dict[str, Any]]:
        """The audit events, oldest first, optionally for one mailbox."""
        query = select(audit_events).order_by(audit_events.c.id)
        if mailbox is not None:
            query = query.where(audit_events.c.mailbox == mailbox)
        with self._engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def save_findings(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Store fan-out findings not stored before (by mailbox, folder and reference).

        Each row holds mailbox, folder, ref, message_date, recipients, cc, external,
        kinds (a list of kind names) and severity; never a value or an address.
        """
        now = datetime.now(UTC)
        added = 0
        with self._engine.begin() as conn:
            for row in rows:
                exists = conn.execute(
                    select(findings.c.id).where(
                        findings.c.mailbox == row["mailbox"],
                        findings.c.folder == row["folder"],
                        findings.c.ref == row["ref"],
                    )
                ).first()
                if exists is not None:
                    continue
                conn.execute(
                    insert(findings).values(
                        mailbox=row["mailbox"],
                        folder=row["folder"],
                        ref=row["ref"],
                        message_date=row["message_date"].astimezone(UTC),
                        found_at=now,
                        recipients=row["recipients"],
                        cc=row["cc"],
                        external=row["external"],
                        kinds=",".join(sorted(row["kinds"])),
                        severity=row["severity"],
                    )
                )
                added += 1
        return added

    def list_findings(
        self, mailbox: str | None = None, since: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Stored findings, oldest message first; kinds as a list, times in UTC."""
        query = select(findings).order_by(findings.c.message_date, findings.c.id)
        if mailbox is not None:
            query = query.where(findings.c.mailbox == mailbox)
        if since is not None:
            query = query.where(findings.c.message_date >= since.astimezone(UTC))
        with self._engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        for row in rows:
            row["kinds"] = [k for k in row["kinds"].split(",") if k]
            row["message_date"] = as_utc(row["message_date"])
            row["found_at"] = as_utc(row["found_at"])
        return rows

    def purge_older_than(self, days: int, now: datetime | None = None) -> int:
        """Delete audit events and run records past retention (docs/behaviour.md §9); the count."""
        cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
        with self._engine.begin() as conn:
            removed = conn.execute(delete(audit_events).where(audit_events.c.at < cutoff)).rowcount
            removed += conn.execute(delete(mailbox_runs).where(mailbox_runs.c.at < cutoff)).rowcount
            removed += conn.execute(delete(findings).where(findings.c.found_at < cutoff)).rowcount
        return int(removed or 0)
