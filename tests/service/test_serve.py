"""``inboxwarden serve`` as a subprocess against the real test Dovecot (docs/behaviour.md §11)."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import pytest

from inboxwarden.policy.message import OWN_MESSAGE_HEADER
from inboxwarden.state import StateStore
from tests.kit.census import assert_each_once, marker_census
from tests.kit.engine import STOCKHOLM, write_config
from tests.kit.faults import CuttingProxy
from tests.kit.seeding import marked, seed
from tests.kit.servers import new_user, session
from tests.service.servicekit import (
    Serve,
    add_sections,
    cycle_around_today,
    finished_runs,
    free_port,
    schedule,
    service,
    wait_for,
)

pytestmark = pytest.mark.imap
EVERY_2S = "*/2 * * * * *"


def digests_in_inbox(server, email) -> int:
    with session(server, email) as client:
        client.select_folder("INBOX", readonly=True)
        return len(client.search(["HEADER", OWN_MESSAGE_HEADER, ""]))


def test_scans_send_one_digest_across_several_scans_and_a_restart(dovecot, tmp_path):
    """Scans every 2 s: the due mailbox gets its boundary digest once, never again."""
    email = new_user(dovecot)
    cycle, before_boundary = cycle_around_today()
    seed(dovecot, email, "INBOX", marked(3, start=1, when=before_boundary))
    port = free_port()
    config = write_config(tmp_path, dovecot, [email], mode="notify")
    add_sections(config, cycle, schedule(scan=EVERY_2S), service(port))
    db = tmp_path / "state.db"

    first = Serve(config, port, tmp_path / "serve.log")
    try:
        wait_for(lambda: digests_in_inbox(dovecot, email) == 1, what="the digest")
        runs = finished_runs(db)
        wait_for(lambda: finished_runs(db) >= runs + 2, what="two more scans")
        assert first.stop()[0] == 0
    finally:
        first.kill()
    second = Serve(config, port, tmp_path / "serve.log")
    try:
        runs = finished_runs(db)
        wait_for(lambda: finished_runs(db) >= runs + 2, what="two scans after the restart")
        code, seconds = second.stop()
        assert code == 0 and seconds < 30
    finally:
        second.kill()
    assert digests_in_inbox(dovecot, email) == 1


def folder_count(server, email, folder) -> int:
    with session(server, email) as client:
        if not client.folder_exists(folder):
            return 0
        return int(client.folder_status(folder, ["MESSAGES"])[b"MESSAGES"])


def test_sigterm_mid_enforcement_exits_0_loses_nothing_and_a_restart_completes(dovecot, tmp_path):
    """A stop between two MOVE commands: exit 0 in time, each message once, then done."""
    email = new_user(dovecot)
    total = 4000
    long_ago = datetime.now(STOCKHOLM).replace(microsecond=0) - timedelta(days=100)
    seed(dovecot, email, "INBOX", marked(total, start=1, when=long_ago, spread=timedelta(0)))
    markers = {f"m{i:05d}" for i in range(1, total + 1)}
    target = f"Bokföring/{long_ago.year}"
    port = free_port()
    # Small batches: many journalled commands, so the signal lands in the middle.
    config = write_config(tmp_path, dovecot, [email], imap_extra="batch_size = 10")
    add_sections(config, schedule(scan="*/3 * * * * *"), service(port))
    db = tmp_path / "state.db"

    first = Serve(config, port, tmp_path / "serve.log")
    try:
        wait_for(lambda: folder_count(dovecot, email, target) > 0, what="the first moves")
        code, seconds = first.stop()
    finally:
        first.kill()
    assert code == 0 and seconds < 30
    moved = folder_count(dovecot, email, target)
    assert 0 < moved < total, "the stop should land in the middle of the run"
    assert_each_once(marker_census(dovecot, email), markers)
    # The stopped mailbox's record counts what it really moved before the stop.
    with sqlite3.connect(db) as conn:
        status, counts = conn.execute("SELECT status, counts FROM mailbox_runs").fetchone()
    assert status == "stopped" and json.loads(counts)["moved"] == moved

    second = Serve(config, port, tmp_path / "serve.log")
    try:
        runs = finished_runs(db)
        wait_for(lambda: finished_runs(db) > runs, timeout=120, what="a whole scan")
        assert second.stop()[0] == 0
    finally:
        second.kill()
    assert folder_count(dovecot, email, target) == total
    assert folder_count(dovecot, email, "INBOX") == 0
    assert_each_once(marker_census(dovecot, email), markers)


def metric(text: str, line_start: str) -> float:
    """The value of the sample whose line starts with *line_start* in a /metrics body."""
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.split()[-1])
    return float("nan")


def first_run_statuses(db) -> list[str]:
    """The mailbox statuses of the first scan the state recorded, sorted."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT status FROM mailbox_runs WHERE run_id = "
            "(SELECT id FROM runs WHERE kind = 'run' ORDER BY started_at LIMIT 1)"
        ).fetchall()
    return sorted(r[0] for r in rows)


def test_failing_mailboxes_leave_the_others_and_the_service_running_and_are_counted(
    dovecot, tmp_path
):
    """One login refused, one connection cut: the third completes, /metrics counts both."""
    one, two = new_user(dovecot), new_user(dovecot)
    ghost = "ghost-nobody@exempel.se"  # in the directory, unknown to the server
    cycle, before_boundary = cycle_around_today()
    for email in (one, two):
        seed(dovecot, email, "INBOX", marked(2, start=1, when=before_boundary))
    port = free_port()
    with CuttingProxy(dovecot.host, dovecot.port) as proxy:
        config = write_config(
            tmp_path, dovecot, [one, ghost, two], mode="notify", port=proxy.port, retries=1
        )
        add_sections(config, cycle, schedule(scan=EVERY_2S), service(port))
        # The first mailbox to open its INBOX loses its connection (no retry: retries = 1).
        proxy.cut_after_command(r"^(SELECT|EXAMINE) ", deliver=False)
        serve = Serve(config, port, tmp_path / "serve.log")
        scans = 'inboxwarden_job_runs_total{job="scan",outcome="ok"}'
        try:
            wait_for(lambda: metric(serve.get("/metrics")[1], scans) >= 2, what="two scans")
            body = serve.get("/metrics")[1]
            assert serve.process.poll() is None
            assert metric(body, 'inboxwarden_mailboxes_total{status="failed"}') >= 3
            assert metric(body, 'inboxwarden_mailboxes_total{status="ok"}') >= 2
            assert proxy.cut_done.is_set()
            assert serve.get("/healthz")[0] == 200
            assert serve.stop()[0] == 0
        finally:
            serve.kill()
    assert first_run_statuses(tmp_path / "state.db") == ["failed", "failed", "ok"]
    assert ghost not in body and one not in body and two not in body
    # The cut mailbox completes at the next scan: both get their digest.
    assert digests_in_inbox(dovecot, one) == digests_in_inbox(dovecot, two) == 1


@pytest.mark.postgres
def test_two_services_on_one_postgresql_state_never_work_on_one_mailbox_at_once(
    dovecot, tmp_path, pg_url
):
    """Both scan at the same ticks: one of them finds each mailbox busy, nothing doubles."""
    from sqlalchemy import create_engine, text

    emails = [new_user(dovecot) for _ in range(3)]
    long_ago = datetime.now(STOCKHOLM).replace(microsecond=0) - timedelta(days=100)
    markers: set[str] = set()
    for n, email in enumerate(emails):
        seed(dovecot, email, "INBOX", marked(300, start=1000 * n, when=long_ago))
        markers |= {f"m{i:05d}" for i in range(1000 * n, 1000 * n + 300)}
    config = write_config(tmp_path, dovecot, emails, imap_extra="batch_size = 10", state_url=pg_url)
    add_sections(config, schedule(scan=EVERY_2S), '[service]\nlisten = ""\n')
    StateStore.open(pg_url).close()  # the tables exist before anyone polls them
    state = create_engine(pg_url)

    def statuses() -> dict[str, int]:
        with state.connect() as conn:
            rows = conn.execute(text("SELECT status, count(*) FROM mailbox_runs GROUP BY status"))
            return {status: int(n) for status, n in rows}

    a = Serve(config, None, tmp_path / "a.log")
    b = Serve(config, None, tmp_path / "b.log")
    try:
        wait_for(lambda: statuses().get("busy", 0) >= 1, what="a mailbox found busy")
        wait_for(
            lambda: all(folder_count(dovecot, e, "INBOX") == 0 for e in emails),
            what="every INBOX filed",
        )
        assert a.stop()[0] == 0 and b.stop()[0] == 0
    finally:
        a.kill()
        b.kill()
        final = statuses()
        state.dispose()
    counts = marker_census(dovecot, emails[0]) + marker_census(dovecot, emails[1])
    assert_each_once(counts + marker_census(dovecot, emails[2]), markers)
    assert not {"failed", "partial"} & set(final)


def test_a_scan_missed_while_the_service_was_down_runs_once_at_start(dovecot, tmp_path):
    """The last scan was before its time two minutes ago: the start catches up, once."""
    from sqlalchemy import create_engine, text

    email = new_user(dovecot)
    config = write_config(tmp_path, dovecot, [email], mode="notify")
    missed = datetime.now(STOCKHOLM) - timedelta(minutes=2)
    add_sections(
        config, schedule(scan=f"{missed.minute} {missed.hour} * * *"), '[service]\nlisten = ""\n'
    )
    url = f"sqlite:///{tmp_path}/state.db"
    state = StateStore.open(url)
    run_id = state.start_run("job:scan", missed - timedelta(hours=1))
    state.close()
    db = create_engine(url)
    with db.begin() as conn:  # that run started an hour before the missed time
        conn.execute(
            text("UPDATE runs SET started_at = :at WHERE id = :id"),
            {
                "at": (missed - timedelta(hours=1)).astimezone(UTC).replace(tzinfo=None),
                "id": run_id,
            },
        )
    db.dispose()
    serve = Serve(config, None, tmp_path / "serve.log")
    try:
        wait_for(lambda: finished_runs(tmp_path / "state.db") == 1, what="the caught-up scan")
        time.sleep(3)
        assert serve.stop()[0] == 0
    finally:
        serve.kill()
    assert finished_runs(tmp_path / "state.db") == 1
    assert '"job_missed"' in (tmp_path / "serve.log").read_text()


def test_a_taken_listen_port_exits_2_naming_service_listen(dovecot, tmp_path):
    email = new_user(dovecot)
    config = write_config(tmp_path, dovecot, [email])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        add_sections(config, schedule(), service(taken.getsockname()[1]))
        serve = Serve(config, None, tmp_path / "serve.log")
        try:
            code = serve.process.wait(timeout=60)
        finally:
            serve.kill()
    log = (tmp_path / "serve.log").read_text()
    assert code == 2 and "service.listen: cannot listen" in log and "Traceback" not in log


def test_healthz_answers_while_serving_and_sigint_stops_like_sigterm(dovecot, tmp_path):
    """/healthz is 200 with its JSON; SIGINT mid-run: exit 0, nothing lost or doubled."""
    email = new_user(dovecot)
    long_ago = datetime.now(STOCKHOLM).replace(microsecond=0) - timedelta(days=100)
    seed(dovecot, email, "INBOX", marked(3000, start=1, when=long_ago, spread=timedelta(0)))
    port = free_port()
    config = write_config(tmp_path, dovecot, [email], imap_extra="batch_size = 10")
    add_sections(config, schedule(scan="*/2 * * * * *"), service(port))
    serve = Serve(config, port, tmp_path / "serve.log")
    try:
        wait_for(lambda: serve.get("/healthz")[0] == 200, what="/healthz")
        assert json.loads(serve.get("/healthz")[1]) == {
            "status": "ok",
            "scheduler": True,
            "state": True,
        }
        wait_for(
            lambda: folder_count(dovecot, email, f"Bokföring/{long_ago.year}") > 0,
            what="the first moves",
        )
        serve.signal(signal.SIGINT)
        assert serve.process.wait(timeout=30) == 0
    finally:
        serve.kill()
    markers = {f"m{i:05d}" for i in range(1, 3001)}
    assert_each_once(marker_census(dovecot, email), markers)
