"""Hostile or broken configuration: refused with exit 2 and a clear message, never a traceback.

Each case is a finding of the adversarial review (issue 8). The command-line cases run
``python -m inboxwarden`` in a subprocess, so a traceback would really reach stderr and
a hang would really hang (the timeout turns it into a failure).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inboxwarden.config import load_settings, state_url
from inboxwarden.directory.files import load_directory
from inboxwarden.errors import ConfigError

#: No IMAP server listens here: every case must stop before a connection is tried.
NO_SERVER_PORT = 9


def write_setup(tmp_path: Path, extra: str = "", *, state: str | None = None) -> Path:
    """A complete, valid configuration beside its directory and secret files."""
    (tmp_path / "master.secret").write_text("master-secret")
    (tmp_path / "audit.key").write_text("audit-key")
    (tmp_path / "employees.csv").write_text("email\nanna@exempel.se\n")
    state = state or f'url = "sqlite:///{tmp_path}/state.db"'
    config = tmp_path / "inboxwarden.toml"
    config.write_text(
        f"""
[organisation]
domains = ["exempel.se"]
[imap]
host = "127.0.0.1"
port = {NO_SERVER_PORT}
security = "plain"
auth = "master"
master_user = "inboxwarden"
password_file = "master.secret"
[directory]
path = "employees.csv"
[state]
{state}
[audit]
hmac_key_file = "audit.key"
{extra}
""",
        encoding="utf-8",
    )
    return config


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real command; a hang fails the test instead of blocking the suite."""
    environment = {k: v for k, v in os.environ.items() if not k.upper().startswith("INBOXWARDEN_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "inboxwarden", "--log-format", "json", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=False,
    )


def assert_refused(result: subprocess.CompletedProcess[str], code: int, *expected: str) -> None:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == code, output
    for text in expected:
        assert text in result.stderr, result.stderr


def test_the_valid_setup_gets_as_far_as_the_login(tmp_path):
    """The baseline the cases below break: it fails only at the (absent) IMAP server."""
    result = cli("--config", str(write_setup(tmp_path)), "check")
    assert result.returncode == 1, result.stderr
    assert "configuration ok" in result.stdout
    assert "templates ok: 12 rendered" in result.stdout


# -- files that are not what they should be ---------------------------------------------


def test_a_configuration_that_is_not_utf8_names_file_and_line(tmp_path):
    config = write_setup(tmp_path)
    config.write_bytes(config.read_bytes() + b'\n[report]\nfrom = "R\xe4ksm\xf6rg\xe5s"\n')
    lines = config.read_bytes().count(b"\n")
    assert_refused(cli("--config", str(config), "register"), 2, f"{config}:{lines}: not UTF-8")


def test_a_5000_deep_toml_array_is_an_error_not_a_recursion_crash(tmp_path):
    config = write_setup(tmp_path)
    config.write_text(config.read_text() + "\n[domain_groups]\nx = " + "[" * 5000 + "]" * 5000)
    assert_refused(cli("--config", str(config), "register"), 2, f"{config}: not valid TOML")


def test_a_fifo_as_the_configuration_file_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "inboxwarden.toml"
    os.mkfifo(fifo)
    assert_refused(cli("--config", str(fifo), "register"), 2, "FIFO", "not a regular file")


def test_a_fifo_as_the_directory_file_is_refused_without_hanging(tmp_path):
    config = write_setup(tmp_path)
    (tmp_path / "employees.csv").unlink()
    os.mkfifo(tmp_path / "employees.csv")
    assert_refused(
        cli("--config", str(config), "check"), 2, "employees.csv: cannot read the directory: a FIFO"
    )


def test_a_directory_in_place_of_the_directory_file_is_refused(tmp_path):
    config = write_setup(tmp_path)
    (tmp_path / "employees.csv").unlink()
    (tmp_path / "employees.csv").mkdir()
    assert_refused(cli("--config", str(config), "check"), 2, "not a regular file")


@pytest.mark.parametrize("secret", ["master.secret", "audit.key"])
def test_a_secret_file_that_is_not_utf8_is_an_error_that_does_not_show_it(tmp_path, secret):
    config = write_setup(tmp_path)
    (tmp_path / secret).write_bytes(b"s\xe4kert-\xff\xfe-hemligt")
    result = cli("--config", str(config), "check")
    assert_refused(result, 2, f"secret file {tmp_path / secret} is not UTF-8 text")
    assert "kert" not in result.stderr


def test_a_fifo_as_a_secret_file_is_refused_without_hanging(tmp_path):
    config = write_setup(tmp_path)
    (tmp_path / "audit.key").unlink()
    os.mkfifo(tmp_path / "audit.key")
    assert_refused(cli("--config", str(config), "check"), 2, "audit.key: a FIFO")


# -- the state database --------------------------------------------------------------------


def test_state_under_proc_is_a_configuration_error(tmp_path):
    config = write_setup(tmp_path, state='url = "sqlite:////proc/inboxwarden/state.db"')
    assert_refused(
        cli("--config", str(config), "check"), 2, "field 'state.url'", "virtual file system"
    )


def test_state_in_a_place_that_cannot_be_created_names_state_url(tmp_path):
    (tmp_path / "a-file").write_text("not a directory")
    config = write_setup(tmp_path, state=f'url = "sqlite:///{tmp_path}/a-file/state.db"')
    assert_refused(
        cli("--config", str(config), "check"),
        2,
        f"{config}: field 'state.url': cannot create the database",
    )


@pytest.mark.postgres
def test_postgresql_down_exits_1_with_a_one_line_reason(tmp_path):
    """A configuration that is right but a server that is down is not a config error."""
    config = write_setup(
        tmp_path, state='url = "postgresql+psycopg://postgres@127.0.0.1:1/inboxwarden"'
    )
    result = cli("--config", str(config), "check")
    assert_refused(result, 1, "inboxwarden: the state database is unavailable")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_password_inside_state_url_in_the_file_is_refused(tmp_path):
    config = write_setup(
        tmp_path, state='url = "postgresql+psycopg://iw:Hemligt-42@db.exempel.se/iw"'
    )
    result = cli("--config", str(config), "check")
    assert_refused(result, 2, f"{config}: field 'state.url'", "state.password_file")
    assert "Hemligt-42" not in result.stderr


def test_the_state_password_comes_from_its_file(tmp_path):
    (tmp_path / "db.secret").write_text("p@ss/word\n")
    config = write_setup(
        tmp_path,
        state='url = "postgresql+psycopg://iw@db.exempel.se/iw"\npassword_file = "db.secret"',
    )
    settings = load_settings(config)
    assert state_url(settings.state) == "postgresql+psycopg://iw:p%40ss%2Fword@db.exempel.se/iw"
    assert "p@ss" not in repr(settings)


def test_a_state_url_with_a_password_may_come_from_the_environment(tmp_path, monkeypatch):
    """The environment is not the file: a whole URL there is how some platforms pass it."""
    monkeypatch.setenv("INBOXWARDEN_STATE__URL", "postgresql+psycopg://iw:Hemligt-42@db/iw")
    settings = load_settings(write_setup(tmp_path))
    assert state_url(settings.state).endswith("iw:Hemligt-42@db/iw")
    assert "Hemligt-42" not in repr(settings)


def test_the_state_password_may_come_from_its_own_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("INBOXWARDEN_STATE__PASSWORD", "Hemligt-42")
    config = write_setup(tmp_path, state='url = "postgresql+psycopg://iw@db.exempel.se/iw"')
    settings = load_settings(config)
    assert state_url(settings.state) == "postgresql+psycopg://iw:Hemligt-42@db.exempel.se/iw"
    assert "Hemligt-42" not in repr(settings)


def test_the_state_password_itself_is_refused_in_the_file(tmp_path):
    config = write_setup(tmp_path, state='url = "sqlite://"\npassword = "x"')
    with pytest.raises(ConfigError, match=r"field 'state.password': secrets do not belong"):
        load_settings(config)


# -- SMTP ----------------------------------------------------------------------------------


def test_plain_smtp_to_a_remote_relay_fails_in_check_naming_the_key(tmp_path):
    config = write_setup(tmp_path, '[smtp]\nhost = "smtp.exempel.se"\nsecurity = "plain"\n')
    assert_refused(cli("--config", str(config), "check"), 2, f"{config}: field 'smtp.security'")


def test_plain_smtp_is_allowed_to_loopback_or_with_the_insecure_switch(tmp_path):
    local = write_setup(tmp_path, '[smtp]\nhost = "127.0.0.1"\nsecurity = "plain"\n')
    assert load_settings(local).smtp.security == "plain"
    remote = write_setup(
        tmp_path, '[smtp]\nhost = "smtp.exempel.se"\nsecurity = "plain"\nallow_insecure = true\n'
    )
    assert load_settings(remote).smtp.allow_insecure


# -- what an error message quotes -------------------------------------------------------


def test_an_error_message_quotes_at_most_a_bounded_part_of_the_input(tmp_path):
    config = write_setup(tmp_path, f'[cycle]\nholidays = "{"Z" * 100_000}"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert len(str(caught.value)) < 1000
    config = write_setup(tmp_path, f"[cycle]\n{'k' * 100_000} = 1\n")
    with pytest.raises(ConfigError, match="unknown setting") as caught:
        load_settings(config)
    assert len(str(caught.value)) < 1000
    huge = tmp_path / "employees.csv"
    huge.write_text("email\n" + "x" * 100_000 + "@\n")
    with pytest.raises(ConfigError) as caught:
        load_directory(huge)
    assert len(str(caught.value)) < 1000


def test_a_yaml_alias_bomb_is_refused_fast_with_a_clear_error(tmp_path):
    levels = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    bomb = tmp_path / "employees.yaml"
    bomb.write_text("\n".join(levels) + "\nemployees:\n  - email: *a9\n")
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        load_directory(bomb)
    assert time.monotonic() - started < 2
    message = str(caught.value)
    assert re.match(rf"{re.escape(str(bomb))}:\d+: YAML anchors and aliases", message), message
    assert len(message) < 300


def test_a_single_alias_is_refused_too(tmp_path):
    path = tmp_path / "employees.yaml"
    path.write_text("- email: &e anna@exempel.se\n- email: bo@exempel.se\n  manager: *e\n")
    with pytest.raises(ConfigError, match=r"employees.yaml:1: YAML anchors and aliases"):
        load_directory(path)
