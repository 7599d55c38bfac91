"""Nothing lost, nothing doubled: the safety invariants under duplicates, concurrency and faults.

Each test ends in a census by a marker planted in every message (``tests.kit.seeding.marked``,
``tests.kit.census.marker_census``), so messages that share a Message-ID, or have none,
are still told apart. The census comes from doveadm, not from inboxwarden's own IMAP code.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from inboxwarden.demo.localserver import LocalDovecot, capability_without
from inboxwarden.errors import ConnectionLost, LocalServerError
from inboxwarden.imap.session import ImapSession
from inboxwarden.state import StateStore
from tests.kit.census import assert_each_once, marker_census, markers_by_folder
from tests.kit.engine import ENFORCING, OLD, run, write_config
from tests.kit.faults import CuttingProxy
from tests.kit.seeding import marked, seed
from tests.kit.servers import new_user, session, special_server

pytestmark = pytest.mark.imap
FILED = "Bokföring/2026"


def markers(messages: list[tuple[bytes, object]]) -> set[str]:
    return {raw.split(b"X-Marker: ", 1)[1].split(b"\r\n", 1)[0].decode() for raw, _ in messages}


def audit_of(config: Path) -> list[dict[str, object]]:
    store = StateStore.open(f"sqlite:///{config.parent}/state.db")
    try:
        return store.audit_trail()
    finally:
        store.close()


def open_journal(config: Path, email: str) -> list[object]:
    store = StateStore.open(f"sqlite:///{config.parent}/state.db")
    try:
        return list(store.open_transfers(email, "INBOX"))
    finally:
        store.close()


# --- duplicate and missing Message-IDs, one batch in several commands, a cut ------------


def duplicate_heavy_inbox() -> tuple[list[tuple[bytes, object]], set[str], set[str]]:
    """480 invoices in groups of 6 that share Message-ID (a quarter have none), arrival
    time and size, interleaved with 480 messages that stay: the invoices' UIDs are no
    single range, so at a 1,000-byte line limit their batch takes several UID commands,
    and every group has members in each of them."""
    groups = []
    for g in range(80):
        message_id = None if g % 4 == 0 else f"dup-{g}@test"
        groups.append(
            marked(
                6,
                start=g * 6,
                when=OLD + timedelta(minutes=g),
                message_id=message_id,
                spread=timedelta(0),
            )
        )
    invoices = [groups[g][k] for k in range(6) for g in range(80)]
    others = marked(480, start=10_000, when=OLD, sender="Per <per@annat.se>", subject="Hej")
    messages = [m for pair in zip(invoices, others, strict=True) for m in pair]
    return messages, markers(invoices), markers(others)


@pytest.mark.parametrize("no_move", [False, True], ids=["move", "copy"])
def test_duplicate_ids_across_commands_cut_after_the_first_then_reruns(tmp_path, no_move):
    """A cut after the first of several MOVE/COPY commands of one batch, then reruns:
    an original is expunged only for a copy of its own, so nothing is lost or doubled."""
    caps = capability_without("MOVE") if no_move else None
    with (
        special_server(imap_capability=caps) as server,
        CuttingProxy(server.host, server.port) as proxy,
    ):
        email = new_user(server)
        messages, invoices, others = duplicate_heavy_inbox()
        seed(server, email, "INBOX", messages)
        config = write_config(
            tmp_path / "cfg",
            server,
            [email],
            port=proxy.port,
            imap_extra="max_line_length = 1000",
            retries=1,
        )
        proxy.cut_after_command(r"^UID (MOVE|COPY)", deliver=True)
        first = run(config, ENFORCING)
        assert proxy.cut_done.is_set()
        assert first.outcomes[0].status == "failed"
        for _ in range(4):
            again = run(config, ENFORCING)
            if again.outcomes[0].status == "ok" and again.outcomes[0].plan.to_move == 0:
                break
        transfers = Counter(proxy.commands_sent())["UID MOVE" if not no_move else "UID COPY"]
        counts = marker_census(server, email)
    assert_each_once(counts, invoices | others)
    assert transfers >= 3  # the batch really took several commands
    where = markers_by_folder(counts)
    assert set(where[FILED]) == invoices
    assert set(where["INBOX"]) == others
    moves = [e for e in audit_of(config) if e["action"] == "move"]
    assert len(moves) == len(invoices)  # one event per message that left, none twice
    assert open_journal(config, email) == []


@pytest.mark.parametrize("crash_at", ["copyuid-recorded", "originals-marked-deleted"])
def test_a_crash_at_each_step_of_the_copy_path_then_a_rerun_finishes_it(
    tmp_path, monkeypatch, crash_at
):
    """The COPY path stops after its COPYUID is journalled, or after the originals were
    marked \\Deleted but before the UID EXPUNGE; the next run finishes from the journal:
    nothing lost or doubled, one audit event per message, messages sharing Message-IDs."""
    with special_server(imap_capability=capability_without("MOVE")) as server:
        email = new_user(server)
        invoices = [
            m
            for g in range(10)
            for m in marked(3, start=g * 3, when=OLD + timedelta(minutes=g),
                            message_id=None if g % 3 == 0 else f"same-{g}@test",
                            spread=timedelta(0))
        ]  # fmt: skip
        seed(server, email, "INBOX", invoices)
        config = write_config(tmp_path / "cfg", server, [email], retries=1)
        if crash_at == "copyuid-recorded":
            real = StateStore.record_copyuid

            def record_then_cut(self, transfer_id, mapping):
                real(self, transfer_id, mapping)
                raise ConnectionLost("cut after the COPYUID was journalled")

            monkeypatch.setattr(StateStore, "record_copyuid", record_then_cut)
        else:

            def cut_before_expunge(self, uids):
                raise ConnectionLost("cut before the UID EXPUNGE")

            monkeypatch.setattr(ImapSession, "expunge", cut_before_expunge)
        first = run(config, ENFORCING)
        monkeypatch.undo()
        middle = marker_census(server, email)
        second = run(config, ENFORCING)
        counts = marker_census(server, email)
    assert first.outcomes[0].status == "failed"
    assert sum(middle.values()) == 2 * len(invoices)  # copied, originals still there
    assert second.outcomes[0].status == "ok"
    assert second.outcomes[0].applied.recovered == len(invoices)
    assert_each_once(counts, markers(invoices))
    assert set(markers_by_folder(counts)[FILED]) == markers(invoices)
    moves = [e for e in audit_of(config) if e["action"] == "move"]
    assert len(moves) == len(invoices)
    assert open_journal(config, email) == []


def test_a_folder_named_after_a_correspondent_is_journalled_and_audited_by_its_hmac(tmp_path):
    """`Kontakter/{from_address}`: the journal and the audit rows hold the folder's HMAC,
    and a transfer cut mid-way is still found and finished from that HMAC."""
    rules = (
        '[[rules]]\nname = "contacts"\nmatch.from_domain = ["fortnox.se"]\naction = "move"\n'
        'target = "Kontakter/{from_address}"\nbasis = "Avtal"\n'
        "personal_data_in_folder_names = true\n"
    )
    with (
        special_server(imap_capability=capability_without("MOVE")) as server,
        CuttingProxy(server.host, server.port) as proxy,
    ):
        email = new_user(server)
        invoices = marked(6, start=0, when=OLD)
        seed(server, email, "INBOX", invoices)
        config = write_config(
            tmp_path / "cfg", server, [email], port=proxy.port, rules=rules, retries=1
        )
        proxy.cut_after_command(r"^UID COPY", deliver=True)
        first = run(config, ENFORCING)
        journal = open_journal(config, email)
        second = run(config, ENFORCING)
        counts = marker_census(server, email)
    assert first.outcomes[0].status == "failed"
    assert [t.target[:5] for t in journal] == ["hmac:"]
    assert second.outcomes[0].status == "ok"
    assert_each_once(counts, markers(invoices))
    assert set(markers_by_folder(counts)["Kontakter/faktura@fortnox.se"]) == markers(invoices)
    events = [e for e in audit_of(config) if e["action"] == "move"]
    assert len(events) == len(invoices)
    assert {str(e["target"])[:5] for e in events} == {"hmac:"}
    assert b"faktura@fortnox" not in (tmp_path / "cfg" / "state.db").read_bytes()


# --- two processes at once ------------------------------------------------------------


def _cli(config: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "inboxwarden", "--config", str(config), "--log-format", "json",
         "run", "--once", "--now", ENFORCING.isoformat(), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def _statuses(stderr: str) -> dict[str, str]:
    out = {}
    for line in stderr.splitlines():
        if line.startswith("{"):
            event = json.loads(line)
            if event.get("event") in ("mailbox_done", "mailbox_busy"):
                out[event["mailbox"]] = (
                    "busy" if event["event"] == "mailbox_busy" else event["status"]
                )
    return out


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_two_runs_at_once_one_works_the_other_reports_busy(dovecot, tmp_path, database, request):
    """Two `run --once` on one state: the mailbox's lease lets one work; the other says
    `busy`, exits 0, and no message is lost, doubled or audited twice."""
    url = (
        request.getfixturevalue("pg_url")
        if database == "postgresql"
        else f"sqlite:///{tmp_path}/cfg/state.db"
    )
    email = new_user(dovecot)
    invoices = marked(3000, start=0, when=OLD, spread=timedelta(seconds=1))
    news = marked(
        1000, start=5000, when=OLD, sender="Nyheter <news@branschnytt.se>",
        subject="Veckans nyheter", list_id="<v.branschnytt.se>",
    )  # fmt: skip
    seed(dovecot, email, "INBOX", invoices + news)
    config = write_config(tmp_path / "cfg", dovecot, [email], state_url=url)
    # Started together on a state that does not exist yet: they also race to create it.
    both = [_cli(config), _cli(config)]
    (out1, err1), (out2, err2) = (p.communicate(timeout=300) for p in both)
    assert "Traceback" not in err1 + err2
    assert [p.returncode for p in both] == [0, 0]
    statuses = sorted([_statuses(err1)[email], _statuses(err2)[email]])
    assert statuses == ["busy", "ok"]
    busy_output = out1 if _statuses(err1)[email] == "busy" else out2
    assert "busy" in busy_output
    counts = marker_census(dovecot, email)
    assert_each_once(counts, markers(invoices) | markers(news))
    where = markers_by_folder(counts)
    assert (set(where[FILED]), set(where["Trash"])) == (markers(invoices), markers(news))
    store = StateStore.open(url)
    try:
        left = [e for e in store.audit_trail(email) if e["action"] in ("move", "delete")]
    finally:
        store.close()
    assert len(left) == len(invoices) + len(news)
    assert len({e["ref"] for e in left}) == len(left)


# --- the user works during a COPY-path run ----------------------------------------------


def _user_acts(server: LocalDovecot, email: str, by_marker: dict[str, str]) -> None:
    """The user, in their own client: flags, files, expunges and marks \\Deleted."""
    with session(server, email) as client:
        client.select_folder("INBOX")
        uid_of = {}
        fetched = client.fetch(client.search(["ALL"]), ["BODY.PEEK[HEADER.FIELDS (X-MARKER)]"])
        for uid, data in fetched.items():
            header = data[b"BODY[HEADER.FIELDS (X-MARKER)]"].decode()
            uid_of[header.split(":", 1)[1].strip()] = uid
        for marker, act in by_marker.items():
            uid = uid_of[marker]
            if act == "flag":
                client.add_flags([uid], ["\\Flagged", "\\Answered", "Viktigt"])
            elif act == "seen":
                client.add_flags([uid], ["\\Seen"])
            elif act == "move":
                if not client.folder_exists("Mitt"):
                    client.create_folder("Mitt")
                client.copy([uid], "Mitt")
                client.add_flags([uid], ["\\Deleted"])
                client.uid_expunge([uid])
            elif act == "expunge":
                client.add_flags([uid], ["\\Deleted"])
                client.uid_expunge([uid])
            elif act == "delete-mark":
                client.add_flags([uid], ["\\Deleted"])


USER_ACTS = {
    "m00001": "flag",
    "m00002": "flag",
    "m00003": "seen",
    "m00004": "move",
    "m00005": "expunge",
    "m00006": "delete-mark",
}


@pytest.mark.parametrize("condstore", [True, False], ids=["condstore", "no-condstore"])
def test_user_working_between_copy_and_expunge_keeps_flags_and_leaves_no_duplicate(
    tmp_path, monkeypatch, condstore
):
    """Between inboxwarden's UID COPY and its UID EXPUNGE the user flags, reads, files,
    expunges and marks \\Deleted: their flags reach the filed copies, what they filed
    or removed is theirs (no copy of ours stays), their \\Deleted mail stays untouched."""
    removed = ["MOVE"] + ([] if condstore else ["CONDSTORE", "QRESYNC"])
    with special_server(imap_capability=capability_without(*removed)) as server:
        email = new_user(server)
        invoices = marked(12, start=0, when=OLD)
        seed(server, email, "INBOX", invoices)
        real_copy = ImapSession.copy

        def copy_then_user_acts(self, uids, folder):
            mapping = real_copy(self, uids, folder)
            _user_acts(server, email, USER_ACTS)
            return mapping

        monkeypatch.setattr(ImapSession, "copy", copy_then_user_acts)
        config = write_config(tmp_path / "cfg", server, [email])
        first = run(config, ENFORCING)
        monkeypatch.setattr(ImapSession, "copy", real_copy)
        second = run(config, ENFORCING)
        counts = marker_census(server, email)
        with session(server, email) as client:
            client.select_folder(FILED, readonly=True)
            filed = client.fetch(
                client.search(["ALL"]), ["FLAGS", "BODY.PEEK[HEADER.FIELDS (X-MARKER)]"]
            )
    assert (first.outcomes[0].status, second.outcomes[0].status) == ("ok", "ok")
    assert second.outcomes[0].applied.moved == 0
    everyone = markers(invoices) - {"m00005"}  # the user expunged m00005 for good
    assert_each_once(counts, everyone)
    where = markers_by_folder(counts)
    assert set(where["Mitt"]) == {"m00004"}
    assert set(where["INBOX"]) == {"m00006"}  # the user's pending \Deleted decision
    assert set(where[FILED]) == everyone - {"m00004", "m00006"}
    flags = {
        data[b"BODY[HEADER.FIELDS (X-MARKER)]"].decode().split(":", 1)[1].strip(): {
            f.decode() for f in data[b"FLAGS"]
        }
        for data in filed.values()
    }
    assert {"\\Flagged", "\\Answered", "Viktigt"} <= flags["m00001"]
    assert {"\\Flagged", "\\Answered", "Viktigt"} <= flags["m00002"]
    assert "\\Seen" in flags["m00003"]
    assert "\\Seen" not in flags["m00007"]
    # Our copies of what the user filed, expunged or marked \\Deleted meanwhile are removed.
    assert first.outcomes[0].applied.given_back == 3
    moves = [e for e in audit_of(config) if e["action"] == "move"]
    assert len(moves) == len(everyone) - 2


def test_a_flag_set_after_the_last_look_is_caught_by_unchangedsince(tmp_path, monkeypatch):
    """Under CONDSTORE the \\Deleted STORE is conditional: a flag the user sets between
    inboxwarden's last FETCH and its STORE makes the server refuse that message, the
    flag is carried on the next round, and only then is the original expunged."""
    with special_server(imap_capability=capability_without("MOVE")) as server:
        email = new_user(server)
        invoices = marked(4, start=0, when=OLD)
        seed(server, email, "INBOX", invoices)
        real_store = ImapSession.add_flags_unless_changed
        acted: list[bool] = []

        def user_flags_first(self, uids, flags, modseq):
            if not acted:
                acted.append(True)
                _user_acts(server, email, {"m00002": "flag"})
            return real_store(self, uids, flags, modseq)

        monkeypatch.setattr(ImapSession, "add_flags_unless_changed", user_flags_first)
        summary = run(write_config(tmp_path / "cfg", server, [email]), ENFORCING)
        counts = marker_census(server, email)
        with session(server, email) as client:
            client.select_folder(FILED, readonly=True)
            filed = client.fetch(
                client.search(["ALL"]), ["FLAGS", "BODY.PEEK[HEADER.FIELDS (X-MARKER)]"]
            )
    assert acted and summary.outcomes[0].applied.moved == 4
    assert_each_once(counts, markers(invoices))
    flagged = [
        data[b"BODY[HEADER.FIELDS (X-MARKER)]"].decode().split(":", 1)[1].strip()
        for data in filed.values()
        if b"Viktigt" in data[b"FLAGS"]
    ]
    assert flagged == ["m00002"]


# --- kill -9 in the middle of a MOVE ---------------------------------------------------


def settled_census(server: LocalDovecot, email: str) -> Counter[tuple[str, str]]:
    """The census once the server has finished what a dead client left it doing."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return marker_census(server, email)
        except LocalServerError:  # "Message was expunged": a MOVE still under way
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.parametrize("when", ["server-done", "server-working"])
def test_kill_9_mid_move_then_rerun_gives_one_audit_event_per_message_that_left(
    dovecot, tmp_path, when
):
    """The process dies at a UID MOVE — after the server completed it but before its
    answer arrived, or while the server works on the third one; the next run's recovery
    writes the events the dead one could not: each message that left has exactly one."""
    email = new_user(dovecot)
    invoices = marked(2000, start=0, when=OLD, spread=timedelta(seconds=1))
    seed(dovecot, email, "INBOX", invoices)
    with CuttingProxy(dovecot.host, dovecot.port) as proxy:
        config = write_config(
            tmp_path / "cfg",
            dovecot,
            [email],
            port=proxy.port,
            imap_extra="batch_size = 400",
            retries=1,
        )
        if when == "server-done":
            # The proxy holds the answer back until the server has sent it, then cuts.
            proxy.cut_after_command(r"^UID MOVE", deliver=True)
        process = _cli(config)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            moves = sum(1 for line in proxy.command_lines() if " UID MOVE " in line)
            if proxy.cut_done.is_set() if when == "server-done" else moves >= 3:
                os.kill(process.pid, signal.SIGKILL)
                break
            time.sleep(0.001)
        process.communicate(timeout=30)
        # Killed; at worst it noticed the cut first and ended with its transfer still open.
        assert process.returncode in (-signal.SIGKILL, 1)
        middle = settled_census(dovecot, email)
        if when == "server-done":
            assert sum(n for (folder, _), n in middle.items() if folder == FILED) == 400
        summary = run(config, ENFORCING)
    assert summary.outcomes[0].status == "ok"
    counts = settled_census(dovecot, email)
    assert_each_once(counts, markers(invoices))
    assert set(markers_by_folder(counts)[FILED]) == markers(invoices)
    moves = [e for e in audit_of(config) if e["action"] == "move"]
    assert len(moves) == len(invoices)
    assert len({e["ref"] for e in moves}) == len(invoices)
