"""What the weekly reports read back: the runs and the findings of a period.

A mixin of :class:`~inboxwarden.state.store.StateStore`. Runs are dated by their
``as_of`` — the time the run acted as of, which is the wall-clock time in production
and the simulated time with ``--now``, so back-fills and the demo land in the right
week. A finding is dated by its message, not by the scan that saw it. Nothing here
writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from inboxwarden.state.records import FindingRow, RunRow
from inboxwarden.state.schema import audit_events, findings, mailbox_runs, runs

__all__ = ["SCAN_RUN", "History"]

#: The run kind whose counts describe mailboxes; ``digest`` runs store no counts.
SCAN_RUN = "run"


class History:
    """Runs and findings by period, and the trail's last digest; needs ``self._engine``."""

    _engine: Engine

    def runs_between(self, since: datetime, until: datetime) -> Iterator[RunRow]:
        """Mailbox counts of the scan runs that acted as of ``[since, until)``, oldest first.

        Rows stream from the database (50,000 mailboxes × a run a day × 9 weeks is three
        million of them), so consume the iterator before doing other database work.
        """
        # Bounds in UTC: what the database compares is the stored wall time, without zone.
        since, until = since.astimezone(UTC), until.astimezone(UTC)
        query = (
            select(
                mailbox_runs.c.mailbox, runs.c.as_of, mailbox_runs.c.status, mailbox_runs.c.counts
            )
            .join(runs, runs.c.id == mailbox_runs.c.run_id)
            .where(runs.c.kind == SCAN_RUN, runs.c.as_of >= since, runs.c.as_of < until)
            .order_by(runs.c.as_of, mailbox_runs.c.at)
            .execution_options(yield_per=5000)
        )
        with self._engine.connect() as conn:
            for row in conn.execute(query):
                yield RunRow(row.mailbox, _utc(row.as_of), row.status, json.loads(row.counts))

    def findings_between(self, since: datetime, until: datetime) -> Iterator[FindingRow]:
        """Fan-out findings whose message was sent in ``[since, until)``."""
        since, until = since.astimezone(UTC), until.astimezone(UTC)
        query = select(
            findings.c.mailbox, findings.c.message_date, findings.c.external, findings.c.severity
        ).where(findings.c.message_date >= since, findings.c.message_date < until)
        with self._engine.connect() as conn:
            for mailbox, at, external, severity in conn.execute(query):
                high = str(severity or "").lower() == "high"
                yield FindingRow(mailbox, _utc(at), bool(external), high)

    def last_digest_audited(self, mailbox: str) -> datetime | None:
        """When the audit trail last records a digest for *mailbox*.

        The trail is kept as long as audit retention says; `StateStore.last_digest`
        reads the shorter memory the digest schedule itself keeps.
        """
        query = select(func.max(audit_events.c.at)).where(
            audit_events.c.mailbox == mailbox, audit_events.c.action == "digest"
        )
        with self._engine.connect() as conn:
            value = conn.execute(query).scalar()
        return None if value is None else _utc(value)


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
