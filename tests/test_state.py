"""The state database, on SQLite and on the machine's PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from inboxwarden.state import AuditEvent, StateStore

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _postgres_url() -> Iterator[str]:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    name = f"iw_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = sqlalchemy.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is required in CI: {exc}")
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432: {type(exc).__name__}")
    yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(
    name="db_url", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def _db_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/state.db"
    else:
        yield from _postgres_url()


@pytest.fixture(name="pg_url")
def _pg_url() -> Iterator[str]:
    yield from _postgres_url()


@pytest.fixture(name="store")
def _store(db_url) -> Iterator[StateStore]:
    store = StateStore.open(db_url)
    yield store
    store.close()


def test_flag_records_round_trip_and_merge(store):
    store.save_flags("a@x.se", "INBOX", 7, keyword=[1, 2], flagged=[2])
    store.save_flags("a@x.se", "INBOX", 7, flagged=[1])
    records = store.flag_records("a@x.se", "INBOX", 7)
    assert {u: (r.keyword, r.flagged) for u, r in records.items()} == {
        1: (True, True),
        2: (True, True),
    }
    store.forget_flags("a@x.se", "INBOX", 7, [1])
    assert set(store.flag_records("a@x.se", "INBOX", 7)) == {2}


def test_uidvalidity_change_forgets_the_folder(store):
    assert store.check_uidvalidity("a@x.se", "INBOX", 100) is False
    store.save_flags("a@x.se", "INBOX", 100, keyword=[5])
    assert store.check_uidvalidity("a@x.se", "INBOX", 100) is False
    assert store.check_uidvalidity("a@x.se", "INBOX", 4_000_000_000) is True  # > 2**31
    assert store.flag_records("a@x.se", "INBOX", 100) == {}


def test_transfer_journal(store):
    run = store.start_run("run", datetime.now(UTC))
    tid = store.begin_transfer(run, "a@x.se", "INBOX", 1, "Kunder/x", (9, 40), [3, 4])
    [open_] = store.open_transfers("a@x.se", "INBOX")
    assert (open_.id, open_.target_uidnext, open_.uids) == (tid, 40, (3, 4))
    store.end_transfer(tid)
    assert store.open_transfers("a@x.se", "INBOX") == []


def test_audit_and_retention(store):
    run = store.start_run("run", datetime.now(UTC))
    assert (
        store.audit(
            run, "a@x.se", [AuditEvent("move", "abc", rule="r", folder="INBOX", target="T")]
        )
        == 1
    )
    assert store.audit_trail("a@x.se")[0]["ref"] == "abc"
    assert store.purge_older_than(400, now=datetime.now(UTC) + timedelta(days=401)) == 1
    assert store.audit_trail() == []


def test_runs_record_counts_per_mailbox(store):
    run = store.start_run("run", datetime.now(UTC))
    store.record_mailbox(run, "a@x.se", mode="notify", status="ok", counts={"due": 3})
    store.finish_run(run, ok=1, failed=0)
    [(_, status, counts)] = store.mailbox_history("a@x.se")
    assert status == "ok" and counts == {"due": 3}


@pytest.mark.postgres
def test_two_instances_never_hold_the_same_mailbox(db_url):
    first, second = StateStore.open(db_url), StateStore.open(db_url)
    try:
        assert first.acquire_lease("a@x.se", "one", timedelta(minutes=5))
        assert not second.acquire_lease("a@x.se", "two", timedelta(minutes=5))
        assert first.acquire_lease("a@x.se", "one", timedelta(minutes=5))  # renewal
        first.release_lease("a@x.se", "one")
        assert second.acquire_lease(
            "a@x.se", "two", timedelta(seconds=-1)
        )  # taken, already expired
        assert first.acquire_lease("a@x.se", "one", timedelta(minutes=5))  # expired: free
    finally:
        first.close()
        second.close()


@pytest.mark.postgres
@pytest.mark.imap
def test_engine_runs_on_postgresql_and_a_rerun_changes_nothing(dovecot, tmp_path, pg_url):
    """The whole engine with its state in PostgreSQL, as several instances would share it."""
    from tests.enginekit import ENFORCING, mail, new_user, run, write_config
    from tests.imapkit import census, seed

    url = pg_url
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("invoice", 3) + mail("other", 2))
    config = write_config(tmp_path, dovecot, [email], state_url=url)
    first = run(config, ENFORCING)
    after_first = census(dovecot, email)
    second = run(config, ENFORCING)
    assert (first.outcomes[0].applied.moved, second.outcomes[0].applied.moved) == (3, 0)
    assert second.outcomes[0].applied.flagged == 0  # remembered in PostgreSQL
    assert census(dovecot, email) == after_first
    store = StateStore.open(url)
    try:
        actions = [e["action"] for e in store.audit_trail(email)]
    finally:
        store.close()
    assert actions.count("move") == 3 and actions.count("flag") == 2
