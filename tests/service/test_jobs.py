"""The scan job's digests over a whole cycle, with a fixed clock, against the real Dovecot;
and the state's memory of the digests sent."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from inboxwarden.config import load_settings
from inboxwarden.service.jobs import Jobs
from inboxwarden.service.metrics import Metrics
from inboxwarden.state import StateStore
from tests.fanout.test_fanout_imap import NOW as FANOUT_NOW
from tests.fanout.test_fanout_imap import _fanout_mailbox  # noqa: F401  (the fixture)
from tests.kit.engine import STOCKHOLM, mail, write_config
from tests.kit.seeding import seed
from tests.kit.servers import new_user


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=STOCKHOLM)


@pytest.mark.imap
def test_a_cycle_of_scans_sends_the_boundary_digest_late_and_the_reminder_once(dovecot, tmp_path):
    """November 2026: boundary Sun 1st, reminder Fri 6th, enforcement Mon 9th.

    The service was down on the boundary day: the first scan, on the 3rd, sends the
    boundary digest late; a second scan that day sends nothing; the reminder goes out
    once on the 6th; after the enforcement date nothing more.
    """
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("other", 3))  # arrived in October: due on the 1st
    config = write_config(tmp_path, dovecot, [email], mode="notify")
    settings = load_settings(config)
    state = StateStore.open(settings.state.url)
    clock = {"now": at(3, 3)}
    metrics = Metrics()
    jobs = Jobs(settings, state, metrics, clock=lambda: clock["now"])

    def sent() -> tuple[float, float]:
        sample = metrics.registry.get_sample_value
        return (
            sample("inboxwarden_digests_sent_total", {"kind": "boundary"}) or 0,
            sample("inboxwarden_digests_sent_total", {"kind": "reminder"}) or 0,
        )

    try:
        expected = [
            (at(3, 3), (1, 0)),
            (at(3, 4), (1, 0)),
            (at(5, 3), (1, 0)),
            (at(6, 3), (1, 1)),
            (at(6, 5), (1, 1)),
            (at(10, 3), (1, 1)),
        ]
        for now, counts in expected:
            clock["now"] = now
            jobs.scan()
            assert sent() == counts, now
        assert state.last_digest(email) == at(6, 3).astimezone(UTC)
    finally:
        state.close()


def test_the_state_remembers_the_last_digest_and_forgets_old_ones(tmp_path):
    state = StateStore.open(f"sqlite:///{tmp_path}/state.db")
    try:
        assert state.last_digest("anna@exempel.se") is None
        state.record_digest("anna@exempel.se", "boundary", at(1, 2))
        state.record_digest("anna@exempel.se", "reminder", at(6, 2))
        state.record_digest("bo@exempel.se", "boundary", at(2, 2))
        assert state.last_digest("anna@exempel.se") == at(6, 2).astimezone(UTC)
        assert state.forget_digests_before(at(6, 2) - timedelta(seconds=1)) == 2
        assert state.last_digest("bo@exempel.se") is None
        assert state.last_digest("anna@exempel.se") == at(6, 2).astimezone(UTC)
        assert state.reachable()
    finally:
        state.close()


def test_an_unreachable_state_is_reported_not_raised(tmp_path):
    state = StateStore.open(f"sqlite:///{tmp_path}/state.db")
    state.close()
    (tmp_path / "state.db").unlink()
    (tmp_path / "state.db").mkdir()  # a directory where the database was: cannot open
    assert state.reachable() is False


@pytest.mark.imap
def test_the_fanout_job_counts_the_findings_by_severity(fanout_mailbox):
    """The same findings as ``inboxwarden fanout``, counted in /metrics by severity only."""
    _email, config = fanout_mailbox
    settings = load_settings(config)
    state = StateStore.open(settings.state.url)
    metrics = Metrics()
    try:
        jobs = Jobs(settings, state, metrics, clock=lambda: FANOUT_NOW)
        jobs.guarded("fanout", jobs.fanout)()
        sample = metrics.registry.get_sample_value
        stored = Counter(f["severity"] for f in state.list_findings())
        assert sum(stored.values()) == 5 and "high" in stored
        for severity, n in stored.items():
            assert sample("inboxwarden_fanout_findings_total", {"severity": severity}) == n
        assert sample("inboxwarden_job_runs_total", {"job": "fanout", "outcome": "ok"}) == 1
        assert len(state.list_findings()) == 5
    finally:
        state.close()


def test_the_retention_job_expires_audit_events_findings_and_old_digest_records(tmp_path):
    from inboxwarden.state import AuditEvent

    config = tmp_path / "inboxwarden.toml"
    config.write_text(
        '[organisation]\ndomains = ["exempel.se"]\n[imap]\nhost = "127.0.0.1"\n'
        f'security = "plain"\nmaster_user = "m"\n[state]\nurl = "sqlite:///{tmp_path}/s.db"\n'
        "[audit]\nretention_days = 30\n",
        encoding="utf-8",
    )
    settings = load_settings(config)
    state = StateStore.open(settings.state.url)
    try:
        run_id = state.start_run("run", at(1, 2))
        state.audit(run_id, "anna@exempel.se", [AuditEvent("flag", "ref1")])
        now = datetime.now(UTC)
        state.record_digest("anna@exempel.se", "boundary", now - timedelta(days=70))
        state.record_digest("bo@exempel.se", "boundary", now - timedelta(days=20))
        jobs = Jobs(settings, state, Metrics(), clock=lambda: now + timedelta(days=31))
        jobs.retention()
        assert state.last_digest("anna@exempel.se") is None  # older than 62 days
        assert state.last_digest("bo@exempel.se") is not None  # a cycle's memory is kept
        assert state.audit_trail() == []
    finally:
        state.close()
