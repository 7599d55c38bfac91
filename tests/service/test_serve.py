"""``inboxwarden serve`` as a subprocess against the real test Dovecot (SPEC §11)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from inboxwarden.message import OWN_MESSAGE_HEADER
from tests.enginekit import STOCKHOLM, new_user, write_config
from tests.faultkit import assert_each_once, marked, marker_census
from tests.imapkit import seed, session
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
        assert first.stop() [0] == 0
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
