"""Read-only queries on the state database for the reports and the digest schedule.

The weekly report reads the counts each run stored per mailbox (``mailbox_runs``),
dated by the run's ``as_of`` — the time the run acted as of, which is the wall-clock
time in production and the simulated time with ``--now``, so back-fills and the demo
land in the right week. Fan-out findings come from the ``findings`` table when the
fan-out scan has created it; until then the report says "no data" rather than 0.
Nothing here writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import MetaData, Table, func, inspect, select

from inboxwarden.state import StateStore, audit_events, mailbox_runs, runs

#: The run kind whose counts describe mailboxes; ``digest`` runs store no counts.
RUN_KIND = "run"
#: Names the fan-out scan may give its time column, in order of preference.
# A finding belongs to the week its message was sent, not the week a scan saw it.
_FINDING_TIME_COLUMNS = ("message_date", "found_at", "at", "date")


@dataclass(frozen=True, slots=True)
class RunRow:
    """One mailbox in one run: when the run acted as of, how it went, and its counts."""

    mailbox: str
    as_of: datetime
    status: str
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class FindingRow:
    """One fan-out finding, reduced to what the report counts (docs/behaviour.md §6, §7)."""

    mailbox: str
    at: datetime
    external: bool
    high: bool


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iter_runs(state: StateStore, since: datetime, until: datetime) -> Iterator[RunRow]:
    """Mailbox counts of the runs that acted as of ``[since, until)``, oldest first.

    Rows stream from the database (50,000 mailboxes × a run a day × 9 weeks is three
    million of them), so consume the iterator before doing other database work.
    """
    # Bounds in UTC: what the database compares is the stored wall time, without zone.
    since, until = since.astimezone(UTC), until.astimezone(UTC)
    query = (
        select(mailbox_runs.c.mailbox, runs.c.as_of, mailbox_runs.c.status, mailbox_runs.c.counts)
        .join(runs, runs.c.id == mailbox_runs.c.run_id)
        .where(runs.c.kind == RUN_KIND, runs.c.as_of >= since, runs.c.as_of < until)
        .order_by(runs.c.as_of, mailbox_runs.c.at)
        .execution_options(yield_per=5000)
    )
    with state.engine.connect() as conn:
        for row in conn.execute(query):
            yield RunRow(row.mailbox, _utc(row.as_of), row.status, json.loads(row.counts))


def findings_table(state: StateStore) -> Table | None:
    """The fan-out scan's ``findings`` table, when it exists with the columns we count."""
    inspector = inspect(state.engine)
    if not inspector.has_table("findings"):
        return None
    table = Table("findings", MetaData(), autoload_with=state.engine)
    needed = {"mailbox", "external", "severity"}
    if not needed <= set(table.c.keys()) or _time_column(table) is None:
        return None
    return table


def _time_column(table: Table) -> str | None:
    return next((name for name in _FINDING_TIME_COLUMNS if name in table.c), None)


def iter_findings(
    state: StateStore, table: Table, since: datetime, until: datetime
) -> Iterator[FindingRow]:
    """Fan-out findings in *table* (see :func:`findings_table`) dated in ``[since, until)``."""
    when = table.c[_time_column(table) or "at"]
    since, until = since.astimezone(UTC), until.astimezone(UTC)
    query = select(table.c.mailbox, when, table.c.external, table.c.severity).where(
        when >= since, when < until
    )
    with state.engine.connect() as conn:
        for mailbox, at, external, severity in conn.execute(query):
            yield FindingRow(
                mailbox, _utc(at), bool(external), str(severity or "").lower() == "high"
            )


def last_digest_sent(state: StateStore, mailbox: str) -> datetime | None:
    """When *mailbox* last got a digest, from the audit trail; for :func:`.digest.digest_due`."""
    query = select(func.max(audit_events.c.at)).where(
        audit_events.c.mailbox == mailbox, audit_events.c.action == "digest"
    )
    with state.engine.connect() as conn:
        value = conn.execute(query).scalar()
    return None if value is None else _utc(value)
