"""The state database, on SQLite and on the machine's PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from inboxwarden.policy.scan_marks import ScanMark
from inboxwarden.state import AuditEvent, StateStore
from tests.pgkit import postgres_url


@pytest.fixture(
    name="db_url", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def _db_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/state.db"
    else:
        yield from postgres_url()


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


def test_transfer_journal_keeps_command_refs_and_copyuid(store):
    run = store.start_run("run", datetime.now(UTC))
    tid = store.begin_transfer(
        run, "a@x.se", "INBOX", 1, target="Kunder/x", target_status=(9, 40), command="COPY",
        action="move", rule="customers", uids=[3, 4], refs=["r3", "r4"],
    )  # fmt: skip
    [open_] = store.open_transfers("a@x.se", "INBOX")
    assert (open_.id, open_.target_uidnext, open_.uids, open_.phase) == (tid, 40, (3, 4), "sent")
    assert (open_.command, open_.rule, open_.ref_of) == ("COPY", "customers", {3: "r3", 4: "r4"})
    store.record_copyuid(tid, {3: 41, 4: 42})
    [copied] = store.open_transfers("a@x.se", "INBOX")
    assert (copied.phase, copied.mapping) == ("copied", {3: 41, 4: 42})
    store.end_transfer(tid)
    assert store.open_transfers("a@x.se", "INBOX") == []


def test_completing_a_transfer_writes_its_events_and_closes_it_at_once(store):
    run = store.start_run("run", datetime.now(UTC))
    store.save_flags("a@x.se", "INBOX", 1, keyword=[3, 4, 5])
    tid = store.begin_transfer(
        run, "a@x.se", "INBOX", 1, target="T", target_status=(9, 40), command="MOVE",
        action="move", rule="r", uids=[3, 4], refs=["r3", "r4"],
    )  # fmt: skip
    events = [AuditEvent("move", "r3", rule="r", folder="INBOX", target="T")]
    assert store.complete_transfer(tid, run, "a@x.se", "INBOX", 1, events, left=[3, 4]) == 1
    assert store.open_transfers("a@x.se", "INBOX") == []
    assert [e["ref"] for e in store.audit_trail("a@x.se")] == ["r3"]
    assert set(store.flag_records("a@x.se", "INBOX", 1)) == {5}


def test_the_schema_of_the_migrations_is_the_schema_of_the_code(store):
    """A column added to schema.py without a migration fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from inboxwarden.state import metadata

    with store._engine.connect() as conn:  # the schema itself is what is checked
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_a_database_made_by_0_1_0_is_migrated_and_keeps_its_rows(tmp_path):
    """0.1.0 made its tables with create_all and no version table; it is stamped, then upgraded."""
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    from inboxwarden.state import migrate

    url = f"sqlite:///{tmp_path}/old.db"
    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(migrate._MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.exec_driver_sql("DROP TABLE alembic_version")  # as 0.1.0 left it
        conn.exec_driver_sql(
            "INSERT INTO transfers (mailbox, folder, uidvalidity, target, target_uidvalidity,"
            " target_uidnext, uids, run_id, created_at) VALUES"
            " ('a@x.se', 'INBOX', 1, 'T', 2, 3, '4,5', 'r', '2026-01-01 00:00:00')"
        )
    engine.dispose()
    store = StateStore.open(url)
    try:
        [legacy] = store.open_transfers("a@x.se", "INBOX")
        assert (legacy.command, legacy.uids) == ("LEGACY", (4, 5))
    finally:
        store.close()


def test_two_processes_creating_the_schema_at_once_both_succeed(db_url):
    """Two instances starting together: one migrates, the other waits and finds it done."""
    import subprocess
    import sys

    code = (
        "import sys; from inboxwarden.state import StateStore; StateStore.open(sys.argv[1]).close()"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, db_url], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    results = [
        (p.returncode, err.decode()) for p in procs for _, err in [p.communicate(timeout=60)]
    ]
    assert results == [(0, "")] * 4


def test_the_head_read_from_the_scripts_is_alembics_head():
    """The start-up shortcut compares against this head: it must be the one Alembic runs to."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from inboxwarden.state import migrate

    config = Config()
    config.set_main_option("script_location", str(migrate._MIGRATIONS))
    assert migrate.head_revision() == ScriptDirectory.from_config(config).get_current_head()


def test_opening_a_database_at_head_does_not_import_alembic(db_url):
    """A database already migrated is only read; one behind is still upgraded."""
    import subprocess
    import sys

    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    from inboxwarden.state import migrate

    code = (
        "import sys; from inboxwarden.state import StateStore; StateStore.open(sys.argv[1]).close();"
        " print('alembic' in sys.modules)"
    )

    def open_elsewhere() -> str:
        done = subprocess.run(
            [sys.executable, "-c", code, db_url], capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    engine = sa.create_engine(db_url)  # the database as another tool would see it
    try:
        config = Config()
        config.set_main_option("script_location", str(migrate._MIGRATIONS))
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0001")  # an installation some releases behind
        assert migrate.current_revision(engine) == "0001"
        assert open_elsewhere() == "True"  # migrated, by Alembic
        assert migrate.current_revision(engine) == migrate.head_revision()
        assert open_elsewhere() == "False"  # at head: only read
    finally:
        engine.dispose()
    store = StateStore.open(db_url)
    try:
        store.record_digest("a@x.se", "monthly", datetime.now(UTC))  # a later table is there
    finally:
        store.close()


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
    from tests.kit.census import census
    from tests.kit.engine import ENFORCING, mail, run, write_config
    from tests.kit.seeding import seed
    from tests.kit.servers import new_user

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


def test_the_marks_of_many_mailboxes_read_at_once_are_each_ones_own(store):
    """A run reads every INBOX mark as it starts, in chunks of an ``IN (…)`` list."""

    def mark(n: int) -> ScanMark:
        return ScanMark(7, 100 + n, 50, 40, "w", "s", due=n, overdue=0, held=0)

    emails = [f"p{n:04d}@x.se" for n in range(1_200)]  # more than one chunk
    for n, email in enumerate(emails):
        if n % 3 == 0:
            store.save_scan_mark(email, "INBOX", mark(n))
    store.save_scan_mark(emails[1], "Sent", mark(1))  # another folder: not an INBOX mark
    found = store.scan_marks_of(emails, "INBOX")
    assert found == {email: mark(n) for n, email in enumerate(emails) if n % 3 == 0}
    assert all(store.scan_mark(email, "INBOX") == found.get(email) for email in emails[:30])
    assert store.scan_marks_of([], "INBOX") == {}
