"""The [oauth] section and auth = xoauth2 / oauthbearer: what loads, and what is refused."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from inboxwarden.cli.commands import main
from inboxwarden.config import load_settings
from inboxwarden.errors import ConfigError, TokenUnavailable
from inboxwarden.imap.connect import Credentials, Endpoint, _may_carry_token
from inboxwarden.oauth.cache import TokenCache
from inboxwarden.oauth.sources import token_source

CONFIG_DIR = Path(__file__).parent.parent.parent / "config"

BASE = """
[organisation]
domains = ["exempel.se"]
[imap]
host = "imap.exempel.se"
security = "tls"
auth = "xoauth2"
{imap}
[oauth]
{oauth}
"""
MICROSOFT = """
provider = "microsoft"
tenant_id = "t"
client_id = "c"
client_secret_file = "client.secret"
"""


def write(tmp_path: Path, oauth: str, imap: str = "") -> Path:
    path = tmp_path / "inboxwarden.toml"
    path.write_text(BASE.format(oauth=oauth, imap=imap), encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    return str(info.value)


def test_the_provider_examples_load_with_their_provider_defaults():
    microsoft = load_settings(CONFIG_DIR / "microsoft365.toml")
    assert (microsoft.imap.auth, microsoft.oauth.provider) == ("xoauth2", "microsoft")
    assert microsoft.oauth.effective_scope == "https://outlook.office365.com/.default"
    assert microsoft.imap.max_connections == 20
    google = load_settings(CONFIG_DIR / "google-workspace.toml")
    assert google.oauth.provider == "google"
    assert google.oauth.effective_scope == "https://mail.google.com/"
    assert google.imap.max_connections == 15


def test_an_explicit_max_connections_wins_over_the_provider_default(tmp_path):
    settings = load_settings(write(tmp_path, MICROSOFT, imap="max_connections = 4"))
    assert settings.imap.max_connections == 4


def test_relative_secret_paths_are_read_beside_the_file(tmp_path):
    settings = load_settings(write(tmp_path, MICROSOFT))
    assert settings.oauth.client_secret_file == tmp_path / "client.secret"


@pytest.mark.parametrize(
    ("oauth", "field", "says"),
    [
        ("", "oauth.provider", "required for imap.auth = 'xoauth2'"),
        ('provider = "microsoft"\nclient_id = "c"', "oauth.tenant_id", "required"),
        ('provider = "microsoft"\ntenant_id = "t"', "oauth.client_id", "required"),
        (
            'provider = "microsoft"\ntenant_id = "t"\nclient_id = "c"',
            "oauth.client_secret_file",
            "required",
        ),
        (
            MICROSOFT + 'certificate_file = "c.pem"\nthumbprint = "' + "A" * 40 + '"',
            "oauth.certificate_file",
            "either",
        ),
        (
            'provider = "microsoft"\ntenant_id = "t"\nclient_id = "c"\ncertificate_file = "c.pem"',
            "oauth.thumbprint",
            "required with certificate_file",
        ),
        ('provider = "google"', "oauth.service_account_file", "required for provider = 'google'"),
        ('provider = "yahoo"', "oauth.provider", "'microsoft' or 'google'"),
        (
            MICROSOFT + 'authority_host = "http://login.example"',
            "oauth.authority_host",
            "should match",
        ),
        (MICROSOFT + 'client_secret = "abc"', "oauth.client_secret", "secrets do not belong"),
    ],
)
def test_a_bad_oauth_section_names_file_and_field(tmp_path, oauth, field, says):
    text = error_of(write(tmp_path, oauth))
    assert str(tmp_path / "inboxwarden.toml") in text
    assert f"field '{field}'" in text
    assert says in text


def test_a_token_is_never_configured_over_plain_text_to_another_host(tmp_path):
    path = write(tmp_path, MICROSOFT, imap="allow_insecure = true\nport = 143")
    path.write_text(path.read_text().replace('security = "tls"', 'security = "plain"'))
    assert "field 'imap.security': a token is only sent over TLS" in error_of(path)


def test_the_session_refuses_a_token_over_plain_text_except_to_loopback():
    assert not _may_carry_token(Endpoint("imap.exempel.se", 143, "plain"))
    assert not _may_carry_token(Endpoint("10.1.2.3", 143, "plain"))
    assert _may_carry_token(Endpoint("127.0.0.1", 143, "plain"))
    assert _may_carry_token(Endpoint("localhost", 143, "plain"))
    assert _may_carry_token(Endpoint("imap.exempel.se", 143, "starttls"))


def test_check_exits_2_naming_the_missing_key(tmp_path):
    result = CliRunner().invoke(
        main, ["--config", str(write(tmp_path, 'provider = "google"')), "check"]
    )
    assert result.exit_code == 2
    assert "field 'oauth.service_account_file'" in result.output
    assert "Traceback" not in result.output


def test_an_unreadable_or_broken_key_file_is_a_config_error(tmp_path):
    settings = load_settings(
        write(tmp_path, 'provider = "google"\nservice_account_file = "sa.json"')
    )
    with pytest.raises(ConfigError, match="cannot read secret file"):
        token_source(settings.oauth)
    (tmp_path / "sa.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not a JSON service account key"):
        token_source(settings.oauth)
    (tmp_path / "sa.json").write_text('{"type": "service_account", "private_key": "x"}')
    with pytest.raises(ConfigError, match="lacks client_email, token_uri"):
        token_source(settings.oauth)


def test_tokens_and_secrets_never_show_in_a_repr(tmp_path):
    (tmp_path / "client.secret").write_text("Sup3r-secret-value")
    settings = load_settings(write(tmp_path, MICROSOFT))
    source = token_source(settings.oauth)
    credentials = Credentials("anna@exempel.se", SecretStr("eyJ0eXAi-token"), "xoauth2")
    shown = repr(source) + repr(credentials) + repr(settings)
    assert "Sup3r-secret-value" not in shown
    assert "eyJ0eXAi-token" not in shown


# --- the token cache -------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counting_fetch(lifetime: float = 3600.0, delay: float = 0.0):
    calls: list[str] = []

    def fetch(key: str) -> tuple[SecretStr, float]:
        time.sleep(delay)
        calls.append(key)
        return SecretStr(f"{key}-{len(calls)}"), lifetime

    return fetch, calls


def test_a_token_is_reused_until_five_minutes_before_it_expires():
    clock, (fetch, calls) = Clock(), counting_fetch(3600)
    cache = TokenCache(fetch, clock=clock)
    assert cache.get("app").get_secret_value() == "app-1"
    clock.now += 3600 - 301
    assert cache.get("app").get_secret_value() == "app-1"
    clock.now += 2
    assert cache.get("app").get_secret_value() == "app-2"
    assert calls == ["app", "app"]


def test_a_short_lived_token_is_refreshed_at_half_its_life():
    clock, (fetch, calls) = Clock(), counting_fetch(10)
    cache = TokenCache(fetch, clock=clock)
    cache.get("a")
    clock.now += 4.9
    cache.get("a")
    clock.now += 0.2
    cache.get("a")
    assert len(calls) == 2


def test_threads_asking_at_once_cause_one_fetch_per_key():
    fetch, calls = counting_fetch(delay=0.2)
    cache = TokenCache(fetch)
    keys = ["app"] * 8 + ["anna", "bo"] * 4
    threads = [threading.Thread(target=cache.get, args=(k,)) for k in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(calls) == ["anna", "app", "bo"]


def test_a_refusal_is_remembered_for_a_minute_then_retried():
    clock = Clock()
    calls: list[str] = []

    def refuse(key: str) -> tuple[SecretStr, float]:
        calls.append(key)
        raise TokenUnavailable("microsoft refused a token: invalid_client")

    cache = TokenCache(refuse, clock=clock)
    for _ in range(3):
        with pytest.raises(TokenUnavailable, match="invalid_client"):
            cache.get("app")
    assert len(calls) == 1
    clock.now += 61
    with pytest.raises(TokenUnavailable):
        cache.get("app")
    assert len(calls) == 2
