"""``inboxwarden serve`` as a subprocess against the real test Dovecot (SPEC §11)."""

from __future__ import annotations

import pytest

from inboxwarden.message import OWN_MESSAGE_HEADER
from tests.enginekit import new_user, write_config
from tests.faultkit import marked
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
