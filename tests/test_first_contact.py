"""What a new administrator meets first: `check`, usage errors, CA files, senders, SMTP.

Each test is one thing a newcomer hit (issue 10, "First contact"); the IMAP ones run
against the test kit's real Dovecot, the SMTP ones against a real aiosmtpd.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from inboxwarden.cli.commands import main
from inboxwarden.config import load_settings
from inboxwarden.errors import DeliveryError
from inboxwarden.reports import build_reports, report_table, send_reports
from inboxwarden.reports.smtp import SmtpEndpoint, probe
from tests.kit.engine import runner_for, scan, write_config
from tests.kit.seeding import seed
from tests.kit.servers import new_user
from tests.reports.mailkit import configure
from tests.reports.smtpkit import PASSWORD, USER, free_port, smtp_server
from tests.reports.test_weekly_report import REPORT_AT, WEEK46, planted


def invoke(*args: str):
    return CliRunner().invoke(main, ["--log-format", "json", *args])


def with_imap(config: Path, lines: str) -> Path:
    """Add *lines* to the [imap] table of *config*."""
    text = config.read_text(encoding="utf-8").replace("[imap]\n", f"[imap]\n{lines}\n", 1)
    config.write_text(text, encoding="utf-8")
    return config


def appended(config: Path, text: str) -> Path:
    config.write_text(config.read_text(encoding="utf-8") + text, encoding="utf-8")
    return config


# --- imap.ca_file -------------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "plan", "register"])
def test_a_missing_ca_file_is_a_configuration_error_naming_key_and_path(dovecot, tmp_path, command):
    config = with_imap(write_config(tmp_path, dovecot, ["a@exempel.se"]), 'ca_file = "gone.pem"')
    result = invoke("--config", str(config), command)
    assert result.exit_code == 2, result.output
    assert f"{config}: field 'imap.ca_file': {tmp_path / 'gone.pem'}" in result.output
    assert "Traceback" not in result.output and "FileNotFoundError" not in result.output


def test_a_ca_file_without_a_certificate_is_a_configuration_error(dovecot, tmp_path):
    (tmp_path / "notes.pem").write_text("this is not a certificate\n")
    config = with_imap(write_config(tmp_path, dovecot, ["a@exempel.se"]), 'ca_file = "notes.pem"')
    result = invoke("--config", str(config), "check")
    assert result.exit_code == 2
    assert "field 'imap.ca_file'" in result.output and "notes.pem" in result.output


def test_a_missing_smtp_ca_file_is_named_too(dovecot, tmp_path):
    config = appended(
        write_config(tmp_path, dovecot, ["a@exempel.se"]), '\n[smtp]\nca_file = "relay-ca.pem"\n'
    )
    result = invoke("--config", str(config), "check")
    assert result.exit_code == 2
    assert "field 'smtp.ca_file'" in result.output and "relay-ca.pem" in result.output


# --- check against the test Dovecot ---------------------------------------------------


@pytest.mark.imap
def test_check_sees_that_dovecot_keeps_keywords(dovecot, tmp_path):
    """Dovecot's INBOX has PERMANENTFLAGS with \\*: `check` must not say \\Flagged only."""
    config = write_config(tmp_path, dovecot, [new_user(dovecot)])
    result = invoke("--config", str(config), "check")
    assert result.exit_code == 0, result.output
    assert "keywords=yes" in result.stdout
    assert "Flagged only" not in result.stdout
    # Without [smtp] nothing is probed, and `check` says so rather than failing.
    assert "smtp: not configured; `report` would send through localhost:587" in result.stdout


class SilentServer:
    """Accepts connections and never says a word; remembers how many it had accepted
    when the first client gave up (closed), and how many gave up in all."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.closed = 0
        self.accepted_at_first_close: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self.sock, selectors.EVENT_READ)
            while not self._stop.is_set():
                for key, _ in selector.select(timeout=0.05):
                    if key.fileobj is self.sock:
                        client, _ = self.sock.accept()
                        self.accepted += 1
                        selector.register(client, selectors.EVENT_READ)
                        continue
                    client = key.fileobj
                    if not client.recv(4096):  # the client gave up and closed
                        selector.unregister(client)
                        client.close()
                        self.closed += 1
                        if self.accepted_at_first_close is None:
                            self.accepted_at_first_close = self.accepted

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture(name="silent")
def _silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


@pytest.mark.imap
def test_check_tests_unresponsive_mailboxes_concurrently(dovecot, tmp_path, silent):
    """Three silent mailboxes are waited for at once, like `run` does: all three
    connections are open before the first one times out (one at a time, the first
    would time out and close before the second opened)."""
    emails = [f"quiet{i}@exempel.se" for i in range(3)]
    config = write_config(tmp_path, dovecot, emails, port=silent.port)
    with_imap(config, "timeout_seconds = 1\nmax_connections = 3")
    result = invoke("--config", str(config), "check")
    assert result.exit_code == 1, result.output
    assert result.stdout.count("FAILED") == 3
    # Each mailbox is reported in the directory's order, whatever order they finished in.
    positions = [result.stdout.index(e) for e in emails]
    assert positions == sorted(positions)
    deadline = time.monotonic() + 5  # the server thread may see the last close a bit later
    while silent.closed < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert silent.closed == 3  # every client closed its connection when it gave up
    assert silent.accepted_at_first_close == 3


@pytest.mark.imap
def test_a_missing_per_user_password_file_fails_that_mailbox_and_check_goes_on(dovecot, tmp_path):
    first, second = new_user(dovecot), new_user(dovecot)
    config = write_config(tmp_path, dovecot, [first, second])
    text = config.read_text().replace('auth = "master"', 'auth = "password"')
    config.write_text(text.replace("[imap]\n", '[imap]\npasswords_dir = "passwords"\n', 1))
    (tmp_path / "passwords").mkdir()
    (tmp_path / "passwords" / second).write_text("secret\n")
    result = invoke("--config", str(config), "check")
    assert result.exit_code == 1, result.output
    assert f"{first}: FAILED (ConfigError: " in result.stdout
    assert str(tmp_path / "passwords" / first) in result.stdout
    assert f"{second}: ok" in result.stdout


# --- usage errors ----------------------------------------------------------------------


def test_an_unknown_log_level_is_a_usage_error(tmp_path):
    result = invoke("--config", str(tmp_path / "none.toml"), "--log-level", "verbose", "check")
    assert result.exit_code == 2
    assert "--log-level" in result.output and "verbose" in result.output
    assert result.exc_info is None or isinstance(result.exc_info[1], SystemExit)


def test_the_log_level_is_read_in_any_case(dovecot, tmp_path):
    config = write_config(tmp_path, dovecot, ["a@exempel.se"])
    assert invoke("--config", str(config), "--log-level", "debug", "register").exit_code == 0


def test_fanout_since_names_since_when_it_is_not_a_date(dovecot, tmp_path):
    config = write_config(tmp_path, dovecot, ["a@exempel.se"])
    result = invoke("--config", str(config), "fanout", "--since", "yesterday")
    assert result.exit_code == 2
    assert "--since: 'yesterday' is not an ISO 8601 date" in result.output
    assert "--now" not in result.output


# --- senders ---------------------------------------------------------------------------


def test_senders_default_to_the_organisations_first_domain(dovecot, tmp_path):
    """Not inboxwarden@localhost, which receiving filters reject; the Message-ID follows."""
    settings = load_settings(write_config(tmp_path, dovecot, ["a@exempel.se"]))
    assert settings.digest.from_ == "InboxWarden <inboxwarden@exempel.se>"
    assert settings.report.from_ == "InboxWarden <inboxwarden@exempel.se>"


def test_a_configured_sender_is_kept(dovecot, tmp_path):
    config = appended(
        write_config(tmp_path, dovecot, ["a@exempel.se"]),
        '\n[report]\nfrom = "Rapporter <rapport@exempel.se>"\n',
    )
    settings = load_settings(config)
    assert settings.report.from_ == "Rapporter <rapport@exempel.se>"
    assert settings.digest.from_ == "InboxWarden <inboxwarden@exempel.se>"


@pytest.mark.imap
def test_check_warns_when_a_sender_is_outside_the_organisations_domains(dovecot, tmp_path):
    config = appended(
        write_config(tmp_path, dovecot, [new_user(dovecot)]),
        '\n[digest]\nfrom = "IW <iw@mailer.example.com>"\n',
    )
    result = invoke("--config", str(config), "check")
    assert result.exit_code == 0, result.output
    assert "warning: digest.from 'IW <iw@mailer.example.com>' is not in" in result.stdout
    assert "warning: report.from" not in result.stdout


@pytest.mark.imap
def test_a_sender_in_a_subdomain_of_the_organisation_is_no_warning(dovecot, tmp_path):
    config = appended(
        write_config(tmp_path, dovecot, [new_user(dovecot)]),
        '\n[digest]\nfrom = "IW <iw@mail.exempel.se>"\n',
    )
    result = invoke("--config", str(config), "check")
    assert result.exit_code == 0, result.output
    assert "warning:" not in result.stdout


# --- SMTP --------------------------------------------------------------------------------


def smtp_table(server) -> str:
    """An [smtp] table for *server* (STARTTLS, AUTH), its password in smtp.secret."""
    return (
        f'\n[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "starttls"\n'
        f'username = "{USER}"\npassword_file = "smtp.secret"\nca_file = "{server.ca_file}"\n'
    )


@pytest.mark.imap
def test_check_logs_in_to_the_smtp_relay_and_sends_nothing(dovecot, tmp_path):
    with smtp_server("starttls", tmp_path, auth=True) as relay:
        (tmp_path / "smtp.secret").write_text(PASSWORD)
        table = smtp_table(relay)
        config = appended(write_config(tmp_path, dovecot, [new_user(dovecot)]), table)
        result = invoke("--config", str(config), "check")
    assert result.exit_code == 0, result.output
    assert f"smtp: ok, 127.0.0.1:{relay.port} (starttls), logged in as {USER}" in result.stdout
    assert relay.received == []


@pytest.mark.imap
def test_check_names_the_reason_when_the_relay_refuses_the_login(dovecot, tmp_path):
    with smtp_server("starttls", tmp_path, auth=True) as relay:
        (tmp_path / "smtp.secret").write_text("Zq9-wrong")
        table = smtp_table(relay)
        config = appended(write_config(tmp_path, dovecot, [new_user(dovecot)]), table)
        result = invoke("--config", str(config), "check")
    assert result.exit_code == 1
    assert "smtp: " in result.stdout
    assert "FAILED (DeliveryError: the SMTP relay refused the login (535))" in result.stdout
    assert "Zq9-wrong" not in result.output


def test_the_smtp_probe_reports_a_relay_that_is_not_there():
    endpoint = SmtpEndpoint("127.0.0.1", free_port(), "plain", timeout=5)
    with pytest.raises(DeliveryError, match=r"cannot reach the SMTP relay: ConnectionRefused"):
        probe(endpoint)


@pytest.mark.imap
def test_report_prints_why_delivery_failed(dovecot, tmp_path):
    """`report` used to say only FAILED (DeliveryError), dropping the reason it had built."""
    anna = new_user(dovecot, "anna")
    seed(dovecot, anna, "INBOX", planted(anna))
    port = free_port()  # nothing listens here
    config = configure(
        tmp_path / "cfg",
        dovecot,
        f"email,manager\n{anna},maria.chef@exempel.se\n",
        mode="enforce",
        extra=f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "plain"\n',
    )
    runner = runner_for(config)
    try:
        scan(runner, WEEK46)
        reports = build_reports(runner.settings, runner.state, runner.directory, now=REPORT_AT)
        outcomes = send_reports(reports, runner.settings, out_dir=tmp_path / "out")
    finally:
        runner.state.close()
    table = report_table(outcomes)
    assert "FAILED (DeliveryError: cannot reach the SMTP relay: ConnectionRefusedError" in table


@pytest.mark.imap
def test_digest_prints_why_smtp_delivery_failed(dovecot, tmp_path):
    """`digest` by SMTP to a relay that is not there names the reason, not only the class."""
    from inboxwarden.reports import digest_table, send_digests
    from tests.reports.test_digest_delivery import GRACE, rows
    from tests.reports.test_digest_delivery import planted as digest_mail

    anna = new_user(dovecot)
    seed(dovecot, anna, "INBOX", digest_mail(anna))
    extra = (
        f'delivery = "smtp"\n[smtp]\nhost = "127.0.0.1"\nport = {free_port()}\nsecurity = "plain"\n'
    )
    runner = runner_for(configure(tmp_path / "cfg", dovecot, rows(f"{anna},,,"), extra=extra))
    try:
        [outcome] = send_digests(runner, runner.window(GRACE))
    finally:
        runner.state.close()
    assert outcome.status == "failed"
    assert "FAILED (DeliveryError: cannot reach the SMTP relay: ConnectionRefusedError" in (
        digest_table([outcome])
    )


@pytest.mark.imap
def test_a_bug_while_checking_one_mailbox_is_reported_without_a_traceback(
    dovecot, tmp_path, monkeypatch
):
    """The type only (its text could quote mailbox data), and the exit code says so."""

    def broken(*args, **kwargs):
        raise RuntimeError("Subject: Lönespecifikation")

    monkeypatch.setattr("inboxwarden.cli.check.conclusions", broken)
    config = write_config(tmp_path, dovecot, [new_user(dovecot), new_user(dovecot)])
    result = invoke("--config", str(config), "check")
    assert result.exit_code == 1
    assert result.stdout.count("FAILED (RuntimeError)") == 2
    assert "Lönespecifikation" not in result.output and "Traceback" not in result.output
