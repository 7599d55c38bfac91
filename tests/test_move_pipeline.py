"""The bookkeeping of an answered UID MOVE overlaps the server's work on the next one.

Each MOVE is still journalled before it is sent; its audit events and flag records are
written while the next MOVE is in flight, and every way out of the apply writes those
of a MOVE that was answered. The census comes from doveadm (tests/kit/census.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inboxwarden.state import StateStore
from tests.kit.census import assert_each_once, marker_census, markers_by_folder
from tests.kit.engine import ENFORCING, OLD, run, write_config
from tests.kit.faults import CuttingProxy
from tests.kit.seeding import marked, seed
from tests.kit.servers import new_user

pytestmark = pytest.mark.imap
FILED = "Bokföring/2026"


def _state(config: Path, email: str) -> tuple[list[dict[str, object]], list[object]]:
    store = StateStore.open(f"sqlite:///{config.parent}/state.db")
    try:
        return store.audit_trail(), list(store.open_transfers(email, "INBOX"))
    finally:
        store.close()


def test_every_move_of_a_run_is_closed_with_one_event_per_message(dovecot, tmp_path):
    email = new_user(dovecot)
    invoices = marked(45, start=0, when=OLD)
    seed(dovecot, email, "INBOX", invoices)
    config = write_config(tmp_path, dovecot, [email], imap_extra="batch_size = 10")
    summary = run(config, ENFORCING)
    assert summary.outcomes[0].status == "ok"
    assert summary.outcomes[0].applied.moved == 45
    events, journal = _state(config, email)
    moves = [e for e in events if e["action"] == "move"]
    assert len(moves) == 45 and len({e["ref"] for e in moves}) == 45
    assert journal == []


def test_an_answered_move_is_closed_when_the_next_one_never_arrives(dovecot, tmp_path):
    """The second MOVE is lost with the connection: the first one's events are written
    all the same, only the second stays journalled, and a rerun finishes the batch."""
    email = new_user(dovecot)
    invoices = marked(30, start=0, when=OLD)
    seed(dovecot, email, "INBOX", invoices)
    with CuttingProxy(dovecot.host, dovecot.port) as proxy:
        config = write_config(
            tmp_path, dovecot, [email], port=proxy.port, imap_extra="batch_size = 10", retries=1
        )
        proxy.cut_after_command(r"^UID MOVE 11:20 ", deliver=False)
        first = run(config, ENFORCING)
        assert proxy.cut_done.is_set()
        assert first.outcomes[0].status == "failed"
        events, journal = _state(config, email)
        assert len([e for e in events if e["action"] == "move"]) == 10
        assert len(journal) == 1
        where = markers_by_folder(marker_census(dovecot, email))
        assert (len(where[FILED]), len(where["INBOX"])) == (10, 20)
        again = run(config, ENFORCING)
    assert again.outcomes[0].status == "ok"
    counts = marker_census(dovecot, email)
    assert_each_once(counts, {f"m{i:05d}" for i in range(30)})
    assert len(markers_by_folder(counts)[FILED]) == 30
    events, journal = _state(config, email)
    assert len([e for e in events if e["action"] == "move"]) == 30
    assert journal == []
