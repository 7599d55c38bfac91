"""What inboxwarden remembers between runs, in SQLite or PostgreSQL (SQLAlchemy Core).

It remembers which flags it set (so it only ever clears its own, docs/behaviour.md §2),
the UIDVALIDITY each folder had (a change forgets everything cached about that folder,
docs/behaviour.md §5.3), the transfers in flight (so a crash between COPY and EXPUNGE is
resolved, docs/behaviour.md §5.2; in :mod:`.journal`), per mailbox counts per run, and
the audit trail (docs/behaviour.md §9; in :mod:`.trail`). No subject, address of a
correspondent or message content is ever stored: messages are named by HMAC reference.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Engine,
    Row,
    create_engine,
    delete,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from inboxwarden.errors import ConfigError, StateError
from inboxwarden.policy.planning import FlagRecord
from inboxwarden.policy.scan_marks import ScanMark
from inboxwarden.state import migrate
from inboxwarden.state import queries as q
from inboxwarden.state.history import History
from inboxwarden.state.journal import TransferJournal
from inboxwarden.state.records import as_utc
from inboxwarden.state.schema import (
    digests_sent,
    mailbox_runs,
    runs,
    scan_marks,
)

__all__ = ["StateStore"]


class StateStore(TransferJournal, History):
    """The state database; one instance per process, safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        # Private: every query lives in state/, behind a method that says what it answers.
        self._engine = engine

    @classmethod
    def open(cls, url: str) -> StateStore:
        """Open the database at *url*, creating or migrating its tables to the newest revision."""
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # A pooled connection to a server may have been dropped while idle: ping it before
        # use. A file cannot drop, and a ping per transaction is a sixth of the store's time.
        pre_ping = not url.startswith("sqlite")
        try:
            engine = create_engine(url, future=True, pool_pre_ping=pre_ping)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise ConfigError(f"state.url: cannot use this database URL: {exc}") from exc
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        try:
            migrate.upgrade(engine)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise StateError(f"cannot open the state database: {type(exc).__name__}") from exc
        return cls(engine)

    def close(self) -> None:
        """Release the connection pool."""
        self._engine.dispose()

    # --- runs ---------------------------------------------------------------------

    def start_run(self, kind: str, as_of: datetime) -> str:
        """Record that a run started; returns its id."""
        run_id = str(uuid.uuid4())
        with self._engine.begin() as conn:
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
        with self._engine.begin() as conn:
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
        row = {
            "run_id": run_id,
            "mailbox": mailbox,
            "at": datetime.now(UTC),
            "mode": mode,
            "status": status,
            "error": error,
            "counts": json.dumps(dict(counts), sort_keys=True),
        }
        with self._engine.begin() as conn:
            conn.execute(q.ADD_MAILBOX_RUN, row)

    def mailbox_history(self, mailbox: str) -> list[tuple[datetime, str, dict[str, int]]]:
        """Every recorded run of *mailbox*: time, status and counts, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(mailbox_runs.c.at, mailbox_runs.c.status, mailbox_runs.c.counts)
                .where(mailbox_runs.c.mailbox == mailbox)
                .order_by(mailbox_runs.c.at)
            ).all()
        return [(as_utc(r.at) or datetime.now(UTC), r.status, json.loads(r.counts)) for r in rows]

    # --- folders and flags ----------------------------------------------------------

    def check_uidvalidity(self, mailbox: str, folder: str, uidvalidity: int) -> bool:
        """Remember *uidvalidity*; if it changed, forget the folder's records.

        Returns True when the folder's UIDVALIDITY changed since the last run
        (docs/behaviour.md §5.3).
        """
        key = {"mailbox": mailbox, "folder": folder}
        with self._engine.begin() as conn:
            known = conn.execute(q.KNOWN_UIDVALIDITY, key).scalar()
            if known == uidvalidity:
                return False
            current = {**key, "uidvalidity": uidvalidity}
            conn.execute(q.DROP_OTHER_UIDVALIDITY_FLAGS, current)
            conn.execute(q.DROP_OTHER_UIDVALIDITY_TRANSFERS, current)
            if known is None:
                conn.execute(q.ADD_FOLDER, current)
            else:
                change = {"key_mailbox": mailbox, "key_folder": folder, "uidvalidity": uidvalidity}
                conn.execute(q.CHANGE_UIDVALIDITY, change)
            return known is not None

    def flag_records(self, mailbox: str, folder: str, uidvalidity: int) -> dict[int, FlagRecord]:
        """The flags inboxwarden set in this folder under this UIDVALIDITY, by UID."""
        key = {"mailbox": mailbox, "folder": folder, "uidvalidity": uidvalidity}
        with self._engine.connect() as conn:
            rows = conn.execute(q.FLAG_RECORDS, key).all()
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
        changed: list[dict[str, Any]] = []
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
                changed.append(
                    {
                        "key_mailbox": mailbox,
                        "key_folder": folder,
                        "key_uidvalidity": uidvalidity,
                        "key_uid": uid,
                        "keyword": keyword_set,
                        "flagged": flagged_set,
                    }
                )
        with self._engine.begin() as conn:
            if new_rows:
                conn.execute(q.ADD_FLAGS, new_rows)
            if changed:
                conn.execute(q.CHANGE_FLAGS, changed)

    def forget_flags(
        self, mailbox: str, folder: str, uidvalidity: int, uids: Iterable[int]
    ) -> None:
        """Forget the flag records of *uids* (cleared, or the message left the folder)."""
        chosen = sorted(set(uids))
        if not chosen:
            return
        key = {"mailbox": mailbox, "folder": folder, "uidvalidity": uidvalidity}
        with self._engine.begin() as conn:
            # In slices: old SQLite builds allow at most 999 bound parameters per statement.
            for start in range(0, len(chosen), _IN_CHUNK):
                conn.execute(q.DROP_FLAGS, {**key, "uids": chosen[start : start + _IN_CHUNK]})

    # --- incremental scans ----------------------------------------------------------

    def scan_mark(self, mailbox: str, folder: str) -> ScanMark | None:
        """What the last scan of *folder* concluded, if it left a mark (see
        :mod:`inboxwarden.policy.scan_marks`)."""
        with self._engine.connect() as conn:
            row = conn.execute(q.SCAN_MARK, {"mailbox": mailbox, "folder": folder}).first()
        return None if row is None else _scan_mark(row)

    def scan_marks_of(self, mailboxes: Sequence[str], folder: str) -> dict[str, ScanMark]:
        """The marks of *folder* in each of *mailboxes* that has one, read in a few
        queries instead of one per mailbox (a run reads them all as it starts)."""
        marks: dict[str, ScanMark] = {}
        with self._engine.connect() as conn:
            for start in range(0, len(mailboxes), _IN_CHUNK):
                chunk = mailboxes[start : start + _IN_CHUNK]
                rows = conn.execute(
                    select(scan_marks).where(
                        scan_marks.c.folder == folder, scan_marks.c.mailbox.in_(chunk)
                    )
                )
                marks.update((row.mailbox, _scan_mark(row)) for row in rows)
        return marks

    def save_scan_mark(self, mailbox: str, folder: str, mark: ScanMark | None) -> None:
        """Remember *mark* for *folder*, replacing any earlier one; None forgets it."""
        key = {"mailbox": mailbox, "folder": folder}
        with self._engine.begin() as conn:
            conn.execute(q.DROP_SCAN_MARK, key)
            if mark is not None:
                row = {**key, "marked_at": datetime.now(UTC), **dataclasses.asdict(mark)}
                conn.execute(q.ADD_SCAN_MARK, row)

    # --- several instances ------------------------------------------------------------

    def acquire_lease(self, mailbox: str, holder: str, ttl: timedelta) -> bool:
        """Claim *mailbox* for *holder* so two instances never work on it at once."""
        now = datetime.now(UTC)
        claim = {"key_mailbox": mailbox, "key_holder": holder, "now": now}
        with self._engine.begin() as conn:
            taken = conn.execute(
                q.CLAIM_LEASE, {**claim, "holder": holder, "expires_at": now + ttl}
            ).rowcount
        if taken:
            return True
        try:
            with self._engine.begin() as conn:
                row = {"mailbox": mailbox, "holder": holder, "expires_at": now + ttl}
                conn.execute(q.ADD_LEASE, row)
        except IntegrityError:
            return False
        return True

    def lease_holder(self, mailbox: str) -> str | None:
        """Who holds *mailbox*'s lease now (expired or not), if anyone; nobody once the
        holder released it."""
        with self._engine.connect() as conn:
            row = conn.execute(q.LEASE, {"mailbox": mailbox}).first()
        if row is None or (as_utc(row.expires_at) or _RELEASED) <= _RELEASED:
            return None
        return str(row.holder)

    def take_over_lease(self, mailbox: str, dead: str, holder: str, ttl: timedelta) -> bool:
        """Claim *mailbox* from a holder known to be *dead*; False if it changed meanwhile."""
        change = {
            "key_mailbox": mailbox,
            "key_holder": dead,
            "holder": holder,
            "expires_at": datetime.now(UTC) + ttl,
        }
        with self._engine.begin() as conn:
            taken = conn.execute(q.CHANGE_LEASE, change).rowcount
        return bool(taken)

    def release_lease(self, mailbox: str, holder: str) -> None:
        """Give up the claim on *mailbox*: the row stays, expired, so that the next claim
        is one UPDATE instead of an UPDATE that misses and an INSERT."""
        change = {"key_mailbox": mailbox, "key_holder": holder, "expires_at": _RELEASED}
        with self._engine.begin() as conn:
            conn.execute(q.CHANGE_LEASE, change)

    # --- digests and health -------------------------------------------------------

    def record_digest(self, mailbox: str, kind: str, sent_at: datetime) -> None:
        """Remember that *mailbox* got its *kind* digest as of *sent_at*."""
        row = {"mailbox": mailbox, "kind": kind, "sent_at": sent_at.astimezone(UTC)}
        with self._engine.begin() as conn:
            conn.execute(q.ADD_DIGEST, row)

    def last_digest(self, mailbox: str) -> datetime | None:
        """When *mailbox* last got a digest, for :func:`inboxwarden.reports.digest.digest_due`."""
        with self._engine.connect() as conn:
            value = conn.execute(q.LAST_DIGEST, {"mailbox": mailbox}).scalar()
        return None if value is None else as_utc(value)

    def forget_digests_before(self, cutoff: datetime) -> int:
        """Drop digest records older than *cutoff*; returns how many."""
        with self._engine.begin() as conn:
            gone = conn.execute(
                delete(digests_sent).where(digests_sent.c.sent_at < cutoff.astimezone(UTC))
            ).rowcount
        return int(gone or 0)

    def last_run_started(self, kind: str) -> datetime | None:
        """When the latest run of *kind* started (wall time), if any ever did."""
        with self._engine.connect() as conn:
            value = conn.execute(
                select(runs.c.started_at)
                .where(runs.c.kind == kind)
                .order_by(runs.c.started_at.desc())
                .limit(1)
            ).scalar()
        return None if value is None else as_utc(value)

    def reachable(self) -> bool:
        """True when the database answers a trivial query (``/healthz``)."""
        try:
            with self._engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except SQLAlchemyError:
            return False
        return True


#: The expiry a released lease gets: long past on every clock.
_RELEASED = datetime(1970, 1, 1, tzinfo=UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the scheduler's threads read while one writes; busy_timeout waits out locks.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    # In WAL mode NORMAL never corrupts the database; a power cut may lose the last
    # commits, which at worst leaves a duplicate unresolved (docs/behaviour.md §5.2), never a loss.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


#: Values per ``IN (…)`` list (UIDs, mailboxes): under the 999 parameters of older SQLite builds.
_IN_CHUNK = 500


def _scan_mark(row: Row[Any]) -> ScanMark:
    return ScanMark(
        uidvalidity=row.uidvalidity,
        modseq=row.modseq,
        uidnext=row.uidnext,
        messages=row.messages,
        cycle_window=row.cycle_window,
        settings=row.settings,
        due=row.due,
        overdue=row.overdue,
        held=row.held,
    )
