"""Less work around each transfer command, with the journal's guarantees unchanged.

The journal's ``target_uidnext`` must be a UIDNEXT read before the command (recovery
looks for copies at UIDs at or above it) and above the run's own earlier copies in that
folder (else a copy of an earlier, identical message could be taken for this one's).
After the first command to a target, the previous command's COPYUID gives exactly such a
bound, so only the first command per target reads STATUS.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from inboxwarden.demo.localserver import capability_without
from tests.kit.census import assert_each_once, marker_census
from tests.kit.engine import ENFORCING, OLD, mail, run, write_config
from tests.kit.faults import CuttingProxy
from tests.kit.seeding import marked, seed
from tests.kit.servers import new_user, special_server

pytestmark = pytest.mark.imap


def test_one_status_per_target_however_many_moves_go_there(dovecot, tmp_path):
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("invoice", 30) + mail("customer", 12))
    with CuttingProxy(dovecot.host, dovecot.port) as proxy:
        config = write_config(
            tmp_path, dovecot, [email], port=proxy.port, imap_extra="batch_size = 10"
        )
        summary = run(config, ENFORCING)
        verbs = Counter(proxy.commands_sent())
        # The journal's STATUS asks UIDVALIDITY; the folder-name probes ask UIDNEXT only.
        journal_status = [
            line for line in proxy.command_lines() if " STATUS " in line and "UIDVALIDITY" in line
        ]
    assert summary.outcomes[0].applied.moved == 42
    assert verbs["UID MOVE"] == 3 + 2
    assert len(journal_status) == 2  # Bokföring/2026 and Kunder/kund.se, once each


def test_a_lost_copy_answer_never_pairs_with_an_earlier_copy_of_an_identical_message(tmp_path):
    """Two indistinguishable messages (same Message-ID, arrival and size) go by two COPY
    commands to one folder; the second never reaches the server and the connection is
    cut. The rerun's recovery must not take the first message's copy for the second's
    and expunge it: the journalled UIDNEXT lies above the first copy."""
    twins = marked(2, start=0, when=OLD, message_id="twin@test", spread=timedelta(0))
    with (
        special_server(imap_capability=capability_without("MOVE")) as server,
        CuttingProxy(server.host, server.port) as proxy,
    ):
        email = new_user(server)
        seed(server, email, "INBOX", twins)
        config = write_config(
            tmp_path, server, [email], port=proxy.port, imap_extra="batch_size = 1", retries=1
        )
        proxy.cut_after_command(r"^UID COPY 2 ", deliver=False)
        first = run(config, ENFORCING)
        assert first.outcomes[0].status == "failed"
        assert proxy.cut_done.is_set()
        second = run(config, ENFORCING)
        counts = marker_census(server, email)
    assert second.outcomes[0].status == "ok"
    assert_each_once(counts, {"m00000", "m00001"})
    assert {folder for folder, _ in counts} == {"Bokföring/2026"}
