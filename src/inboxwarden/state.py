"""What inboxwarden remembers between runs, in SQLite or PostgreSQL (SQLAlchemy Core).

It remembers which flags it set (so it only ever clears its own, SPEC §2), the UIDVALIDITY
each folder had (a change forgets everything cached about that folder, SPEC §5.3), the
transfers in flight (so a crash between COPY and EXPUNGE is resolved, SPEC §5.2), per
mailbox counts per run, and the audit trail (SPEC §9). No subject, address of a
correspondent or message content is ever stored: messages are named by HMAC reference.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from inboxwarden.errors import ConfigError, InboxWardenError
from inboxwarden.planning import FlagRecord

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("as_of", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False, default="running"),
    Column("mailboxes_ok", Integer, nullable=False, default=0),
    Column("mailboxes_failed", Integer, nullable=False, default=0),
)

mailbox_runs = Table(
    "mailbox_runs",
    metadata,
    Column("run_id", String(36), primary_key=True),
    Column("mailbox", String(320), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("error", String(64)),
    Column("counts", Text, nullable=False),
)

flags = Table(
    "flags",
    metadata,
    Column("mailbox", String(320), primary_key=True),
    Column("folder", String(512), primary_key=True),
    Column("uidvalidity", BigInteger, primary_key=True, autoincrement=False),
    Column("uid", BigInteger, primary_key=True, autoincrement=False),
    Column("keyword", Boolean, nullable=False),
    Column("flagged", Boolean, nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
)

folders = Table(
    "folders",
    metadata,
    Column("mailbox", String(320), primary_key=True),
    Column("folder", String(512), primary_key=True),
    Column("uidvalidity", BigInteger, nullable=False),
)

transfers = Table(
    "transfers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mailbox", String(320), nullable=False, index=True),
    Column("folder", String(512), nullable=False),
    Column("uidvalidity", BigInteger, nullable=False),
    Column("target", String(512), nullable=False),
    Column("target_uidvalidity", BigInteger, nullable=False),
    Column("target_uidnext", BigInteger, nullable=False),
    Column("uids", Text, nullable=False),
    Column("run_id", String(36), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("run_id", String(36), nullable=False),
    Column("mailbox", String(320), nullable=False, index=True),
    Column("action", String(16), nullable=False),
    Column("rule", String(128)),
    Column("folder", String(512)),
    Column("target", String(512)),
    Column("ref", String(64)),
)

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mailbox", String(320), nullable=False, index=True),
    Column("folder", String(512), nullable=False),
    Column("ref", String(64), nullable=False),
    Column("message_date", DateTime(timezone=True), nullable=False),
    Column("found_at", DateTime(timezone=True), nullable=False, index=True),
    Column("recipients", Integer, nullable=False),
    Column("cc", Integer, nullable=False),
    Column("external", Integer, nullable=False),
    Column("kinds", String(200), nullable=False),
    Column("severity", String(16), nullable=False),
    UniqueConstraint("mailbox", "folder", "ref", name="findings_once"),
)

leases = Table(
    "leases",
    metadata,
    Column("mailbox", String(320), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)


class StateError(InboxWardenError):
    """The state database could not be reached or written."""


@dataclass(frozen=True, slots=True)
class Transfer:
    """A move in flight: copied to *target*, perhaps not yet expunged from *folder*."""

    id: int
    folder: str
    uidvalidity: int
    target: str
    target_uidvalidity: int
    target_uidnext: int
    uids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One write inboxwarden made (SPEC §9); *ref* is an HMAC, never a Message-ID."""

    action: str
    ref: str | None
    rule: str | None = None
    folder: str | None = None
    target: str | None = None


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StateStore:
    """The state database; one instance per process, safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> StateStore:
        """Open (and create the tables of) the database at *url*."""
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            engine = create_engine(url, future=True, pool_pre_ping=True)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise ConfigError(f"state.url: cannot use this database URL: {exc}") from exc
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        try:
            metadata.create_all(engine)
        except SQLAlchemyError as exc:
            raise StateError(f"cannot open the state database: {type(exc).__name__}") from exc
        return cls(engine)

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    # --- runs ---------------------------------------------------------------------

    def start_run(self, kind: str, as_of: datetime) -> str:
        """Record that a run started; returns its id."""
        run_id = str(uuid.uuid4())
        with self.engine.begin() as conn:
            conn.execute(
                insert(runs).values(
                    id=run_id,
                    kind=kind,
                    started_at=datetime.now(UTC),
                    as_of=as_of.astimezone(UTC),  # SQLite keeps wall time: store UTC only
                    status="running",
                )
            )
        return run_id

    def finish_run(self, run_id: str, *, ok: int, failed: int) -> None:
        """Record the end of a run and how many mailboxes succeeded."""
        with self.engine.begin() as conn:
            conn.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(
                    finished_at=datetime.now(UTC),
                    status="failed" if failed and not ok else ("partial" if failed else "ok"),
                    mailboxes_ok=ok,
                    mailboxes_failed=failed,
                )
            )

    def record_mailbox(
        self,
        run_id: str,
        mailbox: str,
        *,
        mode: str,
        status: str,
        counts: Mapping[str, int],
        error: str | None = None,
    ) -> None:
        """Store the counts of one mailbox in one run (the weekly report reads these)."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(mailbox_runs).values(
                    run_id=run_id,
                    mailbox=mailbox,
                    at=datetime.now(UTC),
                    mode=mode,
                    status=status,
                    error=error,
                    counts=json.dumps(dict(counts), sort_keys=True),
                )
            )

    def mailbox_history(self, mailbox: str) -> list[tuple[datetime, str, dict[str, int]]]:
        """Every recorded run of *mailbox*: time, status and counts, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(mailbox_runs.c.at, mailbox_runs.c.status, mailbox_runs.c.counts)
                .where(mailbox_runs.c.mailbox == mailbox)
                .order_by(mailbox_runs.c.at)
            ).all()
        return [(_utc(r.at) or datetime.now(UTC), r.status, json.loads(r.counts)) for r in rows]

    # --- folders and flags ----------------------------------------------------------

    def check_uidvalidity(self, mailbox: str, folder: str, uidvalidity: int) -> bool:
        """Remember *uidvalidity*; if it changed, forget the folder's records (SPEC §5.3).

        Returns True when the folder's UIDVALIDITY changed since the last run.
        """
        with self.engine.begin() as conn:
            known = conn.execute(
                select(folders.c.uidvalidity).where(
                    folders.c.mailbox == mailbox, folders.c.folder == folder
                )
            ).scalar()
            if known == uidvalidity:
                return False
            where = (flags.c.mailbox == mailbox, flags.c.folder == folder)
            conn.execute(delete(flags).where(*where, flags.c.uidvalidity != uidvalidity))
            conn.execute(
                delete(transfers).where(
                    transfers.c.mailbox == mailbox,
                    transfers.c.folder == folder,
                    transfers.c.uidvalidity != uidvalidity,
                )
            )
            if known is None:
                conn.execute(
                    insert(folders).values(mailbox=mailbox, folder=folder, uidvalidity=uidvalidity)
                )
            else:
                conn.execute(
                    update(folders)
                    .where(folders.c.mailbox == mailbox, folders.c.folder == folder)
                    .values(uidvalidity=uidvalidity)
                )
            return known is not None

    def flag_records(self, mailbox: str, folder: str, uidvalidity: int) -> dict[int, FlagRecord]:
        """The flags inboxwarden set in this folder under this UIDVALIDITY, by UID."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(flags.c.uid, flags.c.keyword, flags.c.flagged).where(
                    flags.c.mailbox == mailbox,
                    flags.c.folder == folder,
                    flags.c.uidvalidity == uidvalidity,
                )
            ).all()
        return {r.uid: FlagRecord(r.uid, bool(r.keyword), bool(r.flagged)) for r in rows}

    def save_flags(
        self,
        mailbox: str,
        folder: str,
        uidvalidity: int,
        *,
        keyword: Iterable[int] = (),
        flagged: Iterable[int] = (),
    ) -> None:
        """Remember that inboxwarden set its keyword and/or ``\\Flagged`` on these UIDs."""
        kw, fl = set(keyword), set(flagged)
        if not kw and not fl:
            return
        existing = self.flag_records(mailbox, folder, uidvalidity)
        now = datetime.now(UTC)
        new_rows: list[dict[str, Any]] = []
        changed: list[tuple[int, bool, bool]] = []
        for uid in sorted(kw | fl):
            old = existing.get(uid)
            keyword_set = uid in kw or (old is not None and old.keyword)
            flagged_set = uid in fl or (old is not None and old.flagged)
            if old is None:
                new_rows.append(
                    {
                        "mailbox": mailbox,
                        "folder": folder,
                        "uidvalidity": uidvalidity,
                        "uid": uid,
                        "keyword": keyword_set,
                        "flagged": flagged_set,
                        "set_at": now,
                    }
                )
            elif (keyword_set, flagged_set) != (old.keyword, old.flagged):
                changed.append((uid, keyword_set, flagged_set))
        with self.engine.begin() as conn:
            if new_rows:
                conn.execute(insert(flags), new_rows)
            for uid, keyword_set, flagged_set in changed:
                conn.execute(
                    update(flags)
                    .where(*_flag_key(mailbox, folder, uidvalidity, uid))
                    .values(keyword=keyword_set, flagged=flagged_set)
                )

    def forget_flags(
        self, mailbox: str, folder: str, uidvalidity: int, uids: Iterable[int]
    ) -> None:
        """Forget the flag records of *uids* (cleared, or the message left the folder)."""
        chosen = sorted(set(uids))
        if not chosen:
            return
        with self.engine.begin() as conn:
            for start in range(0, len(chosen), 500):
                conn.execute(
                    delete(flags).where(
                        flags.c.mailbox == mailbox,
                        flags.c.folder == folder,
                        flags.c.uidvalidity == uidvalidity,
                        flags.c.uid.in_(chosen[start : start + 500]),
                    )
                )

    # --- transfers in flight --------------------------------------------------------

    def begin_transfer(
        self,
        run_id: str,
        mailbox: str,
        folder: str,
        uidvalidity: int,
        target: str,
        target_status: tuple[int, int],
        uids: Sequence[int],
    ) -> int:
        """Write down a transfer before its first command is sent (SPEC §5.2)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(transfers).values(
                    mailbox=mailbox,
                    folder=folder,
                    uidvalidity=uidvalidity,
                    target=target,
                    target_uidvalidity=target_status[0],
                    target_uidnext=target_status[1],
                    uids=",".join(map(str, uids)),
                    run_id=run_id,
                    created_at=datetime.now(UTC),
                )
            )
            key = result.inserted_primary_key
        if key is None:
            raise StateError("transfer journal insert returned no id")
        return int(key[0])

    def end_transfer(self, transfer_id: int) -> None:
        """The transfer finished (or was resolved): forget it."""
        with self.engine.begin() as conn:
            conn.execute(delete(transfers).where(transfers.c.id == transfer_id))

    def open_transfers(self, mailbox: str, folder: str) -> list[Transfer]:
        """Transfers a crash or a cut connection left unfinished in *folder*."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(transfers)
                .where(transfers.c.mailbox == mailbox, transfers.c.folder == folder)
                .order_by(transfers.c.id)
            ).all()
        return [
            Transfer(
                id=r.id,
                folder=r.folder,
                uidvalidity=r.uidvalidity,
                target=r.target,
                target_uidvalidity=r.target_uidvalidity,
                target_uidnext=r.target_uidnext,
                uids=tuple(int(u) for u in r.uids.split(",") if u),
            )
            for r in rows
        ]

    # --- audit ----------------------------------------------------------------------

    def audit(self, run_id: str, mailbox: str, events: Iterable[AuditEvent]) -> int:
        """Append audit events; returns how many were written."""
        at = self._timestamp_param(datetime.now(UTC))
        rows = [(at, run_id, mailbox, e.action, e.rule, e.folder, e.target, e.ref) for e in events]
        if rows:
            # The driver's own executemany: a big enforce run writes tens of thousands of
            # events, and SQLAlchemy's per-row parameter processing would dominate.
            with self.engine.begin() as conn:
                conn.exec_driver_sql(self._audit_insert, rows)
        return len(rows)

    @cached_property
    def _audit_insert(self) -> str:
        columns = ("at", "run_id", "mailbox", "action", "rule", "folder", "target", "ref")
        style = self.engine.dialect.paramstyle
        if style == "qmark":
            marks = ["?"] * len(columns)
        elif style in ("format", "pyformat"):
            marks = ["%s"] * len(columns)
        elif style == "numeric":
            marks = [f":{i + 1}" for i in range(len(columns))]
        else:
            raise StateError(f"unsupported DB-API parameter style {style!r}")
        return f"INSERT INTO audit_events ({', '.join(columns)}) VALUES ({', '.join(marks)})"  # noqa: S608 - fixed names

    def _timestamp_param(self, value: datetime) -> Any:
        """A UTC time as this database's driver takes it for a DateTime column.

        SQLite has no time type: SQLAlchemy stores naive UTC text in this exact form.
        """
        if self.engine.dialect.name == "sqlite":
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        return value

    def audit_trail(self, mailbox: str | None = None) -> list[dict[str, Any]]:
        """The audit events, oldest first, optionally for one mailbox."""
        query = select(audit_events).order_by(audit_events.c.id)
        if mailbox is not None:
            query = query.where(audit_events.c.mailbox == mailbox)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def save_findings(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Store fan-out findings not stored before (by mailbox, folder and reference).

        Each row holds mailbox, folder, ref, message_date, recipients, cc, external,
        kinds (a list of kind names) and severity; never a value or an address.
        """
        now = datetime.now(UTC)
        added = 0
        with self.engine.begin() as conn:
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
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        for row in rows:
            row["kinds"] = [k for k in row["kinds"].split(",") if k]
            row["message_date"] = _utc(row["message_date"])
            row["found_at"] = _utc(row["found_at"])
        return rows

    def purge_older_than(self, days: int, now: datetime | None = None) -> int:
        """Delete audit events and run records past retention (SPEC §9); returns the count."""
        cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
        with self.engine.begin() as conn:
            removed = conn.execute(delete(audit_events).where(audit_events.c.at < cutoff)).rowcount
            removed += conn.execute(delete(mailbox_runs).where(mailbox_runs.c.at < cutoff)).rowcount
            removed += conn.execute(delete(findings).where(findings.c.found_at < cutoff)).rowcount
        return int(removed or 0)

    # --- several instances ------------------------------------------------------------

    def acquire_lease(self, mailbox: str, holder: str, ttl: timedelta) -> bool:
        """Claim *mailbox* for *holder* so two instances never work on it at once."""
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(leases)
                .where(
                    leases.c.mailbox == mailbox,
                    (leases.c.holder == holder) | (leases.c.expires_at < now),
                )
                .values(holder=holder, expires_at=now + ttl)
            ).rowcount
        if taken:
            return True
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(leases).values(mailbox=mailbox, holder=holder, expires_at=now + ttl)
                )
        except IntegrityError:
            return False
        return True

    def release_lease(self, mailbox: str, holder: str) -> None:
        """Give up the claim on *mailbox*."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(leases).where(leases.c.mailbox == mailbox, leases.c.holder == holder)
            )


def _flag_key(mailbox: str, folder: str, uidvalidity: int, uid: int) -> tuple[Any, ...]:
    return (
        flags.c.mailbox == mailbox,
        flags.c.folder == folder,
        flags.c.uidvalidity == uidvalidity,
        flags.c.uid == uid,
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the scheduler's threads read while one writes; busy_timeout waits out locks.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    # In WAL mode NORMAL never corrupts the database; a power cut may lose the last
    # commits, which at worst leaves a duplicate unresolved (SPEC §5.2), never a loss.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
