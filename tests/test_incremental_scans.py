"""Incremental scans against the real Dovecot: an unchanged INBOX is not read again.

Each test counts the commands of the last run through a recording proxy: a run that
reuses the last scan's conclusion sends a SELECT and no SEARCH or FETCH; every change
(a message added, re-flagged or expunged by the user, a new UIDVALIDITY, a boundary or
enforcement date passed) brings the full scan back, and so does a server without
CONDSTORE.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from inboxwarden.demo.localserver import LocalDovecot, capability_without
from inboxwarden.mailbox.enforcement import Enforcement, MailboxOutcome
from inboxwarden.state import StateStore
from tests.kit.census import census, flags_of
from tests.kit.engine import ENFORCING, GRACE, NEW, OLD, mail, run, write_config
from tests.kit.faults import CuttingProxy
from tests.kit.seeding import seed
from tests.kit.servers import new_user, session, special_server

KW = "$InboxWardenDue"
READS = {"FETCH", "UID FETCH", "SEARCH", "UID SEARCH"}


class Recorder:
    """A proxy in front of the server, and one engine run at a time through it."""

    def __init__(self, server: LocalDovecot, proxy: CuttingProxy, base: Path) -> None:
        self.server, self.proxy, self.base = server, proxy, base
        self.config = base / "inboxwarden.toml"

    def run(self, now: datetime) -> tuple[MailboxOutcome, list[str]]:
        """One run; its only mailbox's outcome and the command verbs the run sent."""
        before = len(self.proxy.commands_sent())
        summary = run(self.config, now)
        [outcome] = summary.outcomes
        assert outcome.status == "ok", outcome.error
        return outcome, self.proxy.commands_sent()[before:]


@pytest.fixture(name="recorder")
def _recorder(dovecot: LocalDovecot, tmp_path: Path) -> Iterator[Recorder]:
    with CuttingProxy(dovecot.host, dovecot.port) as proxy:
        yield Recorder(dovecot, proxy, tmp_path)


def configure(recorder: Recorder, email: str, mode: str = "enforce") -> None:
    write_config(recorder.base, recorder.server, [email], mode=mode, port=recorder.proxy.port)


def unchanged(outcome: MailboxOutcome, verbs: list[str]) -> bool:
    """The run reused the last conclusion: SELECT, and nothing read."""
    return outcome.unchanged and "SELECT" in verbs and not READS & set(verbs)


def test_a_second_scan_of_an_unchanged_mailbox_sends_no_fetch(recorder, dovecot):
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("invoice", 4) + mail("other", 3, NEW))
    configure(recorder, email)
    first, verbs = recorder.run(ENFORCING)
    assert first.applied.moved == 4 and not first.unchanged
    assert "UID FETCH" in verbs
    before = census(dovecot, email)

    second, verbs = recorder.run(ENFORCING + timedelta(hours=5))
    assert unchanged(second, verbs), verbs
    assert verbs.count("SELECT") == 1
    assert set(verbs) <= {"CAPABILITY", "LOGIN", "AUTHENTICATE", "ID", "ENABLE", "SELECT", "LOGOUT"}
    assert second.counts()["inbox"] == 3 and second.applied.moved == 0
    assert census(dovecot, email) == before
    # And again: the conclusion stays as long as the mailbox does.
    third, verbs = recorder.run(ENFORCING + timedelta(days=1))
    assert unchanged(third, verbs)


def test_new_mail_that_is_not_due_costs_one_fetch_of_flags_and_dates(recorder, dovecot):
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("invoice", 2) + mail("other", 1, NEW))
    configure(recorder, email)
    recorder.run(ENFORCING)
    _, verbs = recorder.run(ENFORCING)
    assert not READS & set(verbs)

    seed(dovecot, email, "INBOX", mail("other", 2, NEW))  # arrived today: not due
    before = len(recorder.proxy.command_lines())
    arrived, verbs = recorder.run(ENFORCING)
    assert arrived.unchanged and arrived.counts()["inbox"] == 3
    assert [v for v in verbs if v in READS] == ["UID FETCH"]
    [fetch] = [line for line in recorder.proxy.command_lines()[before:] if "FETCH" in line]
    assert "CHANGEDSINCE" in fetch and "BODY" not in fetch
    # The conclusion moved on to the new HIGHESTMODSEQ: the next run reads nothing.
    again, verbs = recorder.run(ENFORCING)
    assert unchanged(again, verbs), verbs


def test_mail_the_user_reads_or_expunges_costs_one_fetch_of_what_changed(recorder, dovecot):
    """After enforcement nothing is due: the user reading, flagging and expunging the
    mail that is left is read back by one ``CHANGEDSINCE`` FETCH, not a full scan."""
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("invoice", 2) + mail("other", 4, NEW))
    configure(recorder, email)
    first, _ = recorder.run(ENFORCING)
    assert first.applied.moved == 2
    _, verbs = recorder.run(ENFORCING)
    assert not READS & set(verbs)

    with session(dovecot, email) as client:
        client.select_folder("INBOX")
        uids = sorted(client.search(["ALL"]))
        client.add_flags(uids[:2], ["\\Seen", "\\Flagged"])
        client.delete_messages([uids[-1]])
        client.uid_expunge([uids[-1]])
    before = census(dovecot, email)
    after, verbs = recorder.run(ENFORCING)
    assert after.unchanged and after.counts()["inbox"] == 3
    assert [v for v in verbs if v in READS] == ["UID FETCH"], verbs
    assert census(dovecot, email) == before
    again, verbs = recorder.run(ENFORCING)
    assert unchanged(again, verbs), verbs


def test_a_retry_after_a_cut_move_recovers_instead_of_reusing_the_mark_read_at_start(
    recorder, dovecot
):
    """The run reads every mark as it starts. An attempt that writes forgets its mark
    first; when the connection is cut after the server completed the MOVE, the retry
    must not take the mark read at the start (which the emptied INBOX would match) but
    the state's, none: the full path recovers the transfer the first attempt left open."""
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("invoice", 2) + mail("other", 2, NEW))
    configure(recorder, email)
    first, _ = recorder.run(ENFORCING)
    assert first.applied.moved == 2
    seed(dovecot, email, "INBOX", mail("invoice", 3, OLD))  # moved back in: due
    recorder.proxy.cut_after_command(r"^UID MOVE", deliver=True)
    second, _ = recorder.run(ENFORCING)
    assert recorder.proxy.cut_done.is_set()
    assert second.attempts == 2 and not second.unchanged
    assert second.applied.recovered == 3
    state = StateStore.open(f"sqlite:///{recorder.base / 'state.db'}")
    try:
        assert state.open_transfers(email, "INBOX") == []
        moved = [e for e in state.audit_trail(email) if e["action"] == "move"]
        assert len(moved) == 5
    finally:
        state.close()
    after = census(dovecot, email)
    assert sum(n for (folder, _), n in after.items() if folder == "INBOX") == 2
    assert all(n == 1 for n in after.values())  # nothing doubled
    assert sum(after.values()) == 7  # nothing lost


def test_due_mail_in_the_grace_days_keeps_its_counts_and_is_enforced_on_time(recorder, dovecot):
    """Flagged due mail in an unchanged INBOX: the due count stays (for the digest), and
    the enforcement date passing brings the full scan back, which files the mail."""
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("invoice", 3, OLD))
    configure(recorder, email)
    first, _ = recorder.run(GRACE)
    assert first.plan is not None and first.plan.due == 3 and first.applied.flagged == 3
    second, verbs = recorder.run(GRACE + timedelta(hours=1))
    assert unchanged(second, verbs), verbs
    assert second.plan is not None and (second.plan.due, second.plan.overdue) == (3, 0)

    enforced, verbs = recorder.run(ENFORCING)
    assert not enforced.unchanged and "UID FETCH" in verbs
    assert enforced.applied.moved == 3
    assert census(dovecot, email)  # nothing lost: the three are in their folder now
    assert not flags_of(dovecot, email, "INBOX")


def test_a_new_boundary_brings_the_full_scan_back(recorder, dovecot):
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("other", 2, NEW))
    configure(recorder, email, mode="notify")
    recorder.run(ENFORCING)
    _, verbs = recorder.run(ENFORCING + timedelta(hours=1))
    assert not READS & set(verbs)
    # 1 December: mail of 15 November is due now, in the new cycle's grace days.
    december, verbs = recorder.run(datetime(2026, 12, 2, 3, 0, tzinfo=ENFORCING.tzinfo))
    assert not december.unchanged and "UID FETCH" in verbs
    assert december.applied.flagged == 2
    assert all(KW in f for f in flags_of(dovecot, email, "INBOX").values())


def test_changes_by_the_user_are_picked_up(recorder, dovecot):
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("invoice", 3, OLD) + mail("other", 2, NEW))
    configure(recorder, email)
    recorder.run(GRACE)
    _, verbs = recorder.run(GRACE)
    assert not READS & set(verbs)

    # The user takes our keyword off one message: the next run puts it back.
    with session(dovecot, email) as client:
        client.select_folder("INBOX")
        first_uid = min(client.search(["KEYWORD", KW]))
        client.remove_flags([first_uid], [KW])
    again, verbs = recorder.run(GRACE)
    assert not again.unchanged and "UID FETCH" in verbs
    assert again.applied.flagged == 1
    _, verbs = recorder.run(GRACE)
    assert not READS & set(verbs)

    # The user expunges one of the flagged messages: it is no longer counted.
    with session(dovecot, email) as client:
        client.select_folder("INBOX")
        client.delete_messages([first_uid])
        client.uid_expunge([first_uid])
    after, verbs = recorder.run(GRACE)
    assert not after.unchanged and after.plan is not None and after.plan.due == 2

    # An old message arrives (the user moves it back from another folder): enforced.
    seed(dovecot, email, "INBOX", mail("customer", 1, OLD))
    _, verbs = recorder.run(ENFORCING)
    _, verbs = recorder.run(ENFORCING)
    assert not READS & set(verbs)
    seed(dovecot, email, "INBOX", mail("customer", 1, OLD))
    late, verbs = recorder.run(ENFORCING)
    assert not late.unchanged and late.applied.moved == 1


def test_a_new_uidvalidity_brings_the_full_scan_back(recorder, dovecot):
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("other", 2, NEW))
    configure(recorder, email)
    recorder.run(ENFORCING)
    _, verbs = recorder.run(ENFORCING)
    assert not READS & set(verbs)
    status = dovecot.doveadm("-f", "flow", "mailbox", "status", "-u", email, "uidvalidity", "INBOX")
    old = int(status.split("uidvalidity=")[1].split()[0])
    dovecot.doveadm("mailbox", "update", "-u", email, "--uid-validity", str(old + 1000), "INBOX")
    renumbered, verbs = recorder.run(ENFORCING)
    assert not renumbered.unchanged and READS & set(verbs)


def test_a_changed_rule_brings_the_full_scan_back(recorder, dovecot):
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("other", 2, NEW))
    configure(recorder, email)
    recorder.run(ENFORCING)
    _, verbs = recorder.run(ENFORCING)
    assert not READS & set(verbs)
    text = recorder.config.read_text()
    recorder.config.write_text(text.replace('default = "enforce"', 'default = "notify"'))
    changed, verbs = recorder.run(ENFORCING)
    assert not changed.unchanged and READS & set(verbs)


def test_without_condstore_every_scan_is_a_full_one(tmp_path):
    with special_server(imap_capability=capability_without("CONDSTORE", "QRESYNC")) as server:
        email = new_user(server)
        seed(server, email, "INBOX", mail("invoice", 2, OLD) + mail("other", 2, NEW))
        with CuttingProxy(server.host, server.port) as proxy:
            recorder = Recorder(server, proxy, tmp_path)
            configure(recorder, email)
            first, _ = recorder.run(ENFORCING)
            assert first.applied.moved == 2
            for _ in range(2):
                again, verbs = recorder.run(ENFORCING)
                assert not again.unchanged and READS & set(verbs)
                assert again.counts()["inbox"] == 2


def test_with_condstore_but_no_qresync_the_scan_after_the_writes_leaves_the_mark(tmp_path):
    """Without QRESYNC a run that wrote cannot tell what else changed meanwhile: the next
    run scans in full, finds nothing to do and leaves the mark; the one after skips."""
    with special_server(imap_capability=capability_without("QRESYNC")) as server:
        email = new_user(server)
        seed(server, email, "INBOX", mail("invoice", 2, OLD) + mail("other", 2, NEW))
        with CuttingProxy(server.host, server.port) as proxy:
            recorder = Recorder(server, proxy, tmp_path)
            configure(recorder, email)
            first, verbs = recorder.run(ENFORCING)
            assert first.applied.moved == 2 and "ENABLE" in verbs
            second, verbs = recorder.run(ENFORCING)
            assert not second.unchanged and READS & set(verbs)
            third, verbs = recorder.run(ENFORCING)
            assert unchanged(third, verbs), verbs
            assert third.counts()["inbox"] == 2


@pytest.mark.parametrize("change", ["arrival", "unflag"])
def test_a_change_by_the_user_during_the_run_leaves_no_mark(recorder, dovecot, monkeypatch, change):
    """The user acts between our scan and the end of our writes: the QRESYNC check at
    the end sees it, no conclusion is kept, and the next run does what is needed."""
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("invoice", 3, OLD) + mail("other", 1, NEW))
    configure(recorder, email)
    original = Enforcement._apply

    def apply_then_user_acts(self: Enforcement, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        with session(dovecot, email) as client:
            if change == "arrival":  # moved back in from another folder: an old date
                seed(client, email, "INBOX", mail("customer", 1, OLD))
            else:
                client.select_folder("INBOX")
                client.remove_flags(client.search(["KEYWORD", KW])[:1], [KW])

    monkeypatch.setattr(Enforcement, "_apply", apply_then_user_acts)
    first, _ = recorder.run(GRACE)
    assert first.applied.flagged == 3
    monkeypatch.setattr(Enforcement, "_apply", original)

    second, verbs = recorder.run(GRACE)
    assert not second.unchanged and "UID FETCH" in verbs
    if change == "arrival":
        assert second.plan is not None and second.plan.due == 4
    else:
        assert second.applied.flagged == 1
    assert all(KW in f for f in flags_of(dovecot, email, "INBOX").values() if f)
