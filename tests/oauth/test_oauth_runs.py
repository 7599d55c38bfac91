"""Full runs that log in with OAuth2 tokens: real msal and google-auth clients, a token
server over HTTPS, and a Dovecot whose ``oauth2`` passdb asks that server about each token.
"""

from __future__ import annotations

import logging
import re

import pytest
import structlog
from click.testing import CliRunner

from inboxwarden.cli.commands import main
from tests.kit.census import census
from tests.kit.engine import ENFORCING, mail, run, runner_for, scan
from tests.kit.seeding import seed
from tests.kit.servers import new_user
from tests.oauth.oauthkit import write_oauth_config

pytestmark = pytest.mark.imap


def seeded(server, n: int) -> list[str]:
    emails = [new_user(server, "oauth") for _ in range(n)]
    for email in emails:
        seed(server, email, "INBOX", mail("invoice", 2) + mail("newsletter", 2) + mail("other", 1))
    return emails


def logins(server, method: str) -> list[str]:
    """The users Dovecot logged in with *method*, from its log."""
    log = server.log_path.read_text(errors="replace")
    return re.findall(rf"Login: user=<([^>]+)>, method={method}\b", log)


def invoke(*args: str):
    return CliRunner().invoke(main, ["--log-format", "json", *args])


def test_microsoft_run_over_several_mailboxes_asks_for_one_app_token(oauth_dovecot, idp, tmp_path):
    emails = seeded(oauth_dovecot, 4)
    before = {e: census(oauth_dovecot, e) for e in emails}
    config = write_oauth_config(tmp_path, oauth_dovecot, idp, emails, provider="microsoft")
    summary = run(config, ENFORCING)
    assert [o.status for o in summary.outcomes] == ["ok"] * 4
    assert all((o.applied.moved, o.applied.deleted) == (2, 2) for o in summary.outcomes)
    assert idp.token_requests("microsoft") == [None]  # one app token, four mailboxes
    assert set(emails) <= set(logins(oauth_dovecot, "XOAUTH2"))
    for email in emails:
        after = census(oauth_dovecot, email)
        assert sorted(m for _, m in after) == sorted(m for _, m in before[email])


def test_microsoft_certificate_credential_gets_the_app_token(oauth_dovecot, idp, tmp_path):
    emails = seeded(oauth_dovecot, 2)
    config = write_oauth_config(
        tmp_path, oauth_dovecot, idp, emails, provider="microsoft", certificate=True
    )
    summary = run(config, ENFORCING)
    assert [o.status for o in summary.outcomes] == ["ok"] * 2
    assert idp.assertions_accepted == 1  # a signed assertion, no secret, asked once


def test_google_run_mints_one_token_per_mailbox(oauth_dovecot, idp, tmp_path):
    emails = seeded(oauth_dovecot, 3)
    config = write_oauth_config(
        tmp_path, oauth_dovecot, idp, emails, provider="google", auth="oauthbearer"
    )
    summary = run(config, ENFORCING)
    assert [o.status for o in summary.outcomes] == ["ok"] * 3
    assert all(o.applied.deleted == 2 for o in summary.outcomes)
    assert sorted(idp.token_requests("google")) == sorted(emails)
    assert set(emails) <= set(logins(oauth_dovecot, "OAUTHBEARER"))


def test_google_token_is_cached_per_mailbox_across_runs_of_one_engine(oauth_dovecot, idp, tmp_path):
    emails = seeded(oauth_dovecot, 2)
    config = write_oauth_config(tmp_path, oauth_dovecot, idp, emails, provider="google")
    runner = runner_for(config)
    try:
        scan(runner, ENFORCING)
        scan(runner, ENFORCING)
    finally:
        runner.state.close()
    assert sorted(idp.token_requests("google")) == sorted(emails)


def test_an_expiring_app_token_is_refreshed_mid_run(oauth_dovecot, idp, tmp_path):
    """Tokens live 2 s and each login takes 1.2 s: the next mailbox needs a fresh token."""
    idp.expires_in, idp.grant_delay = 2, 1.2
    emails = seeded(oauth_dovecot, 3)
    config = write_oauth_config(
        tmp_path, oauth_dovecot, idp, emails, provider="microsoft", imap_extra="max_connections = 1"
    )
    summary = run(config, ENFORCING)
    assert [o.status for o in summary.outcomes] == ["ok"] * 3
    assert len(idp.token_requests("microsoft")) == 3
    assert idp.refused_grants == []  # no expired token ever reached the server


@pytest.mark.parametrize(
    ("provider", "auth"), [("microsoft", "xoauth2"), ("google", "oauthbearer")]
)
def test_a_mailbox_the_server_refuses_fails_alone(oauth_dovecot, idp, tmp_path, provider, auth):
    """Like a mailbox without Add-MailboxPermission: a valid token, refused by the server."""
    emails = seeded(oauth_dovecot, 2)
    idp.permitted = {emails[0]}
    config = write_oauth_config(tmp_path, oauth_dovecot, idp, emails, provider=provider, auth=auth)
    summary = run(config, ENFORCING)
    by_mailbox = {o.mailbox: o for o in summary.outcomes}
    assert by_mailbox[emails[0]].status == "ok"
    assert (by_mailbox[emails[1]].status, by_mailbox[emails[1]].error) == (
        "failed",
        "AuthenticationFailed",
    )
    assert by_mailbox[emails[1]].attempts == 1  # a refusal is not retried
    assert idp.refused_grants == [emails[1]]


def test_a_wrong_client_secret_fails_every_mailbox_clearly_after_one_request(
    oauth_dovecot, idp, tmp_path
):
    emails = seeded(oauth_dovecot, 3)
    wrong = "Wr0ng-" + "x" * 20
    config = write_oauth_config(
        tmp_path, oauth_dovecot, idp, emails, provider="microsoft", client_secret=wrong
    )
    result = invoke("--config", str(config), "run", "--once", "--now", "2026-11-20T03:00")
    assert result.exit_code == 1
    assert "invalid_client: AADSTS7000215: Invalid client secret provided." in result.output
    assert "Trace ID" not in result.output
    assert wrong not in result.output
    assert idp.token_requests("microsoft-refused") == [None]  # not once per mailbox
    check = invoke("--config", str(config), "check")
    assert check.exit_code == 1
    assert check.stdout.count("FAILED (TokenUnavailable: microsoft refused a token: ") == 3
    assert "Traceback" not in check.output


def test_a_wrong_service_account_key_fails_clearly(oauth_dovecot, idp, tmp_path):
    emails = seeded(oauth_dovecot, 1)
    other_key = tmp_path / "other-sa.json"
    idp.write_service_account(other_key)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    text = other_key.read_text().replace(
        idp.sa_private_pem.replace("\n", "\\n"), stranger.decode().replace("\n", "\\n")
    )
    other_key.write_text(text)
    config = write_oauth_config(
        tmp_path, oauth_dovecot, idp, emails, provider="google", service_account=other_key
    )
    check = invoke("--config", str(config), "check")
    assert check.exit_code == 1
    assert "TokenUnavailable: google refused a token: invalid_grant: Invalid JWT" in check.stdout
    assert idp.token_requests("google") == []


def test_check_names_the_login_method_and_the_profile(oauth_dovecot, idp, tmp_path):
    emails = seeded(oauth_dovecot, 2)
    config = write_oauth_config(tmp_path, oauth_dovecot, idp, emails, provider="microsoft")
    result = invoke("--config", str(config), "check")
    assert result.exit_code == 0, result.output
    assert "provider profile: Exchange Online" in result.stdout
    assert result.stdout.count("login=xoauth2 with a microsoft token") == 2
    assert "empty folders: never fetched" in result.stdout
    # Dovecot keeps keywords, unlike Exchange: the profile says so.
    assert "warning: Exchange Online usually keeps no custom keywords" in result.stdout


@pytest.mark.parametrize("provider", ["microsoft", "google"])
def test_no_token_or_secret_in_logs_output_or_state(oauth_dovecot, idp, tmp_path, caplog, provider):
    """Not at DEBUG either: msal, google-auth, urllib3 and imapclient all log there."""
    emails = seeded(oauth_dovecot, 2)
    config = write_oauth_config(tmp_path, oauth_dovecot, idp, emails, provider=provider)
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as events:
        runner = runner_for(config)
        try:
            summary = scan(runner, ENFORCING)
            token = runner.login.tokens.token_for(emails[0]) if runner.login.tokens else None
            shown = repr(runner) + repr(runner.login.tokens) + str(summary)
        finally:
            runner.state.close()
    assert token is not None and token.get_secret_value() in idp.tokens()
    secrets_ = [*idp.tokens()]
    if provider == "microsoft":
        secrets_.append(idp.client_secret)
    else:
        key_lines = idp.sa_private_pem.splitlines()[1:-1]
        secrets_ += [line for line in key_lines if len(line) > 40]
    assert len(idp.tokens()) == (1 if provider == "microsoft" else 2)
    logged = repr(events) + caplog.text
    state = (tmp_path / "state.db").read_bytes()
    assert events  # the run did log
    for secret in secrets_:
        assert secret not in logged
        assert secret not in shown
        assert secret.encode() not in state
