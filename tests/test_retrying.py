"""Retries: only transient failures, spaced out with jitter, within a total limit;
and the per-mailbox time budget against the real test Dovecot."""

from __future__ import annotations

import pytest

from inboxwarden.errors import (
    AuthenticationFailed,
    ConfigError,
    ConnectionLost,
    FolderError,
    PolicyError,
    ServerError,
    TokenUnavailable,
)
from inboxwarden.mailbox.retrying import MAX_WAIT_SECONDS, attempts, is_transient
from tests.kit.census import census
from tests.kit.engine import ENFORCING, mail, run, write_config
from tests.kit.faults import CuttingProxy
from tests.kit.seeding import seed
from tests.kit.servers import new_user


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (ConnectionLost("timed out"), True),
        (ServerError("server refused the command: [UNAVAILABLE] try later"), True),
        (ServerError("select failed: [INUSE] mailbox locked"), True),
        (AuthenticationFailed("login refused: [UNAVAILABLE] Temporary failure"), True),
        (ServerError("server refused the command: [NONEXISTENT]"), False),
        (FolderError("no Trash folder found"), False),
        (AuthenticationFailed("login refused: [AUTHENTICATIONFAILED]"), False),
        (TokenUnavailable("AADSTS700016 [UNAVAILABLE]"), False),
        (PolicyError("refusing to delete on legal hold"), False),
        (ConfigError("imap.password_file: required"), False),
        (ValueError("a bug"), False),
    ],
)
def test_only_broken_connections_and_try_later_codes_are_transient(exc, transient):
    assert is_transient(exc) is transient


def run_attempts(failures: list[BaseException], **options):
    """Run a job that raises *failures* one by one, then succeeds; (calls, sleeps, retried)."""
    sleeps: list[float] = []
    retried: list[int] = []
    calls = 0
    settings = {"tries": 5, "backoff_seconds": 2.0, "total_seconds": 300.0} | options
    for attempt in attempts(
        **settings, sleep=sleeps.append, on_retry=lambda n, _exc: retried.append(n)
    ):
        with attempt:
            calls += 1
            if failures:
                raise failures.pop(0)
    return calls, sleeps, retried


def test_a_transient_failure_is_retried_with_growing_jittered_waits():
    calls, sleeps, retried = run_attempts([ConnectionLost("a"), ConnectionLost("b")])
    assert calls == 3 and retried == [1, 2]
    assert 2 <= sleeps[0] <= 4 and 4 <= sleeps[1] <= 6  # 2·2^(n-1) plus up to 2 s of jitter


def test_a_permanent_failure_is_raised_at_once_as_itself():
    with pytest.raises(AuthenticationFailed):
        run_attempts([AuthenticationFailed("no")])


def test_the_last_transient_failure_is_raised_after_the_last_try():
    with pytest.raises(ConnectionLost, match="3"):
        run_attempts([ConnectionLost("1"), ConnectionLost("2"), ConnectionLost("3")], tries=3)


def test_no_single_wait_exceeds_the_cap():
    _calls, sleeps, _ = run_attempts([ConnectionLost(str(i)) for i in range(9)], tries=10)
    assert max(sleeps) <= MAX_WAIT_SECONDS + 2.0


def test_the_total_limit_stops_retrying_before_the_tries_run_out():
    with pytest.raises(ConnectionLost):
        run_attempts([ConnectionLost(str(i)) for i in range(9)], tries=10, total_seconds=1e-9)


@pytest.mark.imap
def test_a_mailbox_over_its_time_budget_fails_alone_and_loses_nothing(dovecot, tmp_path):
    """The budget is checked between commands: the mailbox stops there, nothing is lost."""
    slow, other = new_user(dovecot), new_user(dovecot)
    seed(dovecot, slow, "INBOX", mail("invoice", 30))
    before = census(dovecot, slow)
    config = write_config(
        tmp_path, dovecot, [slow, other], imap_extra="batch_size = 5\nmailbox_budget_seconds = 1e-6"
    )
    summary = run(config, ENFORCING)
    by_mailbox = {o.mailbox: o for o in summary.outcomes}
    assert (by_mailbox[slow].status, by_mailbox[slow].error) == ("failed", "TimeBudgetExceeded")
    assert by_mailbox[slow].attempts == 1  # not retried
    assert by_mailbox[other].status == "ok"  # nothing due: no command to stop before
    after = census(dovecot, slow)
    assert sum(after.values()) == sum(before.values())
    assert {mid for _f, mid in after} == {mid for _f, mid in before}


@pytest.mark.imap
def test_a_connection_cut_during_login_is_retried_not_taken_for_a_refusal(dovecot, tmp_path):
    """imapclient calls it a LoginError; the broken socket beneath makes it transient."""
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("invoice", 3))
    with CuttingProxy(dovecot.host, dovecot.port) as proxy:
        config = write_config(tmp_path, dovecot, [email], port=proxy.port, retries=2)
        proxy.cut_after_command(r"^LOGIN ", deliver=True)
        (outcome,) = run(config, ENFORCING).outcomes
        assert proxy.cut_done.is_set()
    assert (outcome.status, outcome.attempts) == ("ok", 2)


@pytest.mark.imap
def test_a_refused_login_is_still_not_retried(dovecot, tmp_path):
    config = write_config(tmp_path, dovecot, ["nobody-here@exempel.se"], retries=3)
    (outcome,) = run(config, ENFORCING).outcomes
    assert (outcome.status, outcome.error, outcome.attempts) == (
        "failed",
        "AuthenticationFailed",
        1,
    )
