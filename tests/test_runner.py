"""The one mailbox runner that every mailbox job goes through (mailbox/runner.py).

The jobs here are small ones of the test's own; the runner's settings, state and leases
are the real ones, and the stop tests run the product's jobs against the test Dovecot.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from inboxwarden.cli.check import CheckJob
from inboxwarden.errors import ConnectionLost
from inboxwarden.fanout.job import run_fanout
from inboxwarden.imap.providers import profile_for
from inboxwarden.mailbox.leases import LEASE_TTL
from inboxwarden.mailbox.runner import Ending, MailboxRunner, Visit
from inboxwarden.mailbox.scan_job import run_scan
from inboxwarden.policy.people import Employee as DirectoryEntry
from inboxwarden.policy.people import Mode
from inboxwarden.reports import send_digests
from tests.kit.census import census
from tests.kit.engine import ENFORCING, GRACE, mail, runner_for, write_config
from tests.kit.seeding import seed
from tests.kit.servers import new_user


@dataclass
class Seen:
    mailbox: str
    mode: Mode
    tries: int = 0
    thread: str = ""
    ending: Ending | None = None


@dataclass
class Probe:
    """A job that counts how many mailboxes it works on at once, and can fail on cue."""

    event: str = "probe"
    retries: bool = True
    fail_first: set[str] = field(default_factory=set)
    crash: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    active: int = 0
    most: int = 0

    def start(self, entry: DirectoryEntry, mode: Mode) -> Seen:
        return Seen(entry.email, mode)

    def work(self, visit: Visit, outcome: Seen) -> Seen:
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            outcome.tries += 1
            outcome.thread = threading.current_thread().name
            time.sleep(0.05)  # long enough for the pool to run the others alongside
            if visit.entry.email in self.crash:
                raise RuntimeError("a bug")
            if visit.entry.email in self.fail_first and outcome.tries == 1:
                raise ConnectionLost("the connection broke")
            visit.checkpoint()
            return outcome
        finally:
            with self.lock:
                self.active -= 1

    def finish(self, visit: Visit, outcome: Seen, ending: Ending) -> Seen:
        outcome.ending = ending
        return outcome


def runner_of(tmp_path, dovecot, emails, imap_extra="") -> MailboxRunner:
    return runner_for(write_config(tmp_path, dovecot, emails, imap_extra=imap_extra))


def test_one_pool_bounded_by_max_connections_with_one_outcome_per_mailbox(dovecot, tmp_path):
    emails = [f"m{n}@exempel.se" for n in range(6)]
    runner = runner_of(tmp_path, dovecot, emails, imap_extra="max_connections = 2")
    probe = Probe()
    try:
        seen = runner.each(probe, runner.chosen(None))
    finally:
        runner.state.close()
    assert [s.mailbox for s in seen] == emails
    assert probe.most == 2
    assert all(s.ending == Ending("ok", attempts=1) for s in seen)
    assert {s.thread.rpartition("_")[0] for s in seen} == {"probe"}


def test_a_transient_failure_is_retried_where_the_job_allows_it(dovecot, tmp_path):
    emails = ["a@exempel.se", "b@exempel.se"]
    runner = runner_of(tmp_path, dovecot, emails)
    try:
        retried = runner.each(Probe(fail_first={"a@exempel.se"}), runner.chosen(None))
        once = runner.each(Probe(retries=False, fail_first={"a@exempel.se"}), runner.chosen(None))
    finally:
        runner.state.close()
    assert [(s.ending.status, s.ending.attempts) for s in retried if s.ending] == [
        ("ok", 2),
        ("ok", 1),
    ]
    [failed, ok] = [s.ending for s in once]
    assert failed is not None and ok is not None
    assert (failed.status, failed.error_name, failed.attempts) == ("failed", "ConnectionLost", 1)
    assert ok.status == "ok"


def test_a_bug_in_one_mailbox_is_its_outcome_and_the_others_go_on(dovecot, tmp_path):
    emails = ["a@exempel.se", "b@exempel.se", "c@exempel.se"]
    runner = runner_of(tmp_path, dovecot, emails)
    try:
        seen = runner.each(Probe(crash={"b@exempel.se"}), runner.chosen(None))
    finally:
        runner.state.close()
    assert [s.ending.status if s.ending else None for s in seen] == ["ok", "failed", "ok"]
    assert seen[1].ending is not None and seen[1].ending.error_name == "RuntimeError"


def test_a_mailbox_leased_by_a_live_process_is_busy_and_not_begun(dovecot, tmp_path):
    emails = ["a@exempel.se", "b@exempel.se"]
    runner = runner_of(tmp_path, dovecot, emails)
    try:
        # Held by another host's process: neither expired nor known to be dead.
        assert runner.state.acquire_lease("a@exempel.se", "elsewhere:1:abc", LEASE_TTL)
        seen = runner.each(Probe(), runner.chosen(None), leases=True)
        # Released afterwards: the runner's own lease on b is gone.
        assert runner.state.lease_holder("b@exempel.se") is None
    finally:
        runner.state.close()
    [a, b] = seen
    assert (a.tries, a.ending) == (0, Ending("busy", started=False))
    assert b.ending is not None and b.ending.status == "ok"


def test_the_stop_signal_stops_the_mailbox_in_progress_at_its_checkpoint(dovecot, tmp_path):
    runner = runner_of(tmp_path, dovecot, ["a@exempel.se"])

    @dataclass
    class StopsMidway(Probe):
        def work(self, visit: Visit, outcome: Seen) -> Seen:
            runner.stop.set()  # SIGTERM arrives while this mailbox is worked on
            return super().work(visit, outcome)

    try:
        [seen] = runner.each(StopsMidway(), runner.chosen(None))
    finally:
        runner.state.close()
    assert seen.ending is not None
    assert (seen.ending.status, seen.ending.error_name) == ("stopped", "Interrupted")


def test_a_stopping_service_begins_no_mailbox_in_any_job_kind(dovecot, tmp_path):
    """SIGTERM sets the runner's stop signal: scan, plan, digest, fan-out and check all
    report each mailbox stopped, and nothing on the server changes."""
    emails = [new_user(dovecot), new_user(dovecot)]
    for email in emails:
        seed(dovecot, email, "INBOX", mail("invoice", 2))
    before = {email: census(dovecot, email) for email in emails}
    runner = runner_for(write_config(tmp_path, dovecot, emails))
    runner.stop.set()
    try:
        scanned = run_scan(runner, runner.window(ENFORCING))
        planned = run_scan(runner, runner.window(ENFORCING), dry=True)
        digests = send_digests(runner, runner.window(GRACE))
        fanout = run_fanout(runner, ENFORCING)
        check = CheckJob(runner.settings, "master", profile_for(None))
        checked = runner.each(check, runner.chosen(None))
    finally:
        runner.state.close()
    assert [o.status for o in scanned.outcomes] == ["stopped", "stopped"]
    assert [o.status for o in planned.outcomes] == ["stopped", "stopped"]
    assert [o.status for o in digests] == ["stopped", "stopped"]
    assert [o.status for o in fanout] == ["stopped", "stopped"]
    assert [c.ok for c in checked] == [False, False]
    assert {email: census(dovecot, email) for email in emails} == before
