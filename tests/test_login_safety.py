"""A directory login can neither choose a file nor inject an IMAP command (issue 8).

Against the real Dovecot, through a proxy that records every byte the client sends:
what the proxy never saw, the server never got.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from inboxwarden.cli.commands import main
from inboxwarden.config import load_settings, password_file_for
from inboxwarden.directory.entries import Directory
from inboxwarden.errors import ConfigError
from inboxwarden.mailbox.runner import MailboxRunner
from inboxwarden.policy.people import Employee
from inboxwarden.state import StateStore
from tests.kit.engine import RULES, mail, write_config
from tests.kit.faults import CuttingProxy
from tests.kit.seeding import seed
from tests.kit.servers import new_user

pytestmark = pytest.mark.imap

#: What the file outside ``passwords_dir`` holds: it must never be sent anywhere.
OUTSIDE_SECRET = "LEAKED-audit-key-0b1e"


@pytest.fixture(name="proxy")
def _proxy(dovecot) -> Iterator[CuttingProxy]:
    with CuttingProxy(dovecot.host, dovecot.port) as proxy:
        yield proxy


@pytest.fixture(name="outside")
def _outside(tmp_path) -> Path:
    """A secret file outside ``passwords_dir``, like /etc/inboxwarden/audit.key."""
    path = tmp_path / "elsewhere" / "audit.key"
    path.parent.mkdir()
    path.write_text(OUTSIDE_SECRET)
    return path


def password_config(tmp_path: Path, proxy: CuttingProxy, directory: str) -> Path:
    """``auth = "password"`` through *proxy*, one password file per login."""
    (tmp_path / "passwords").mkdir(exist_ok=True)
    (tmp_path / "audit.key").write_text("test-key")
    (tmp_path / "employees.csv").write_bytes(directory.encode())
    config = tmp_path / "inboxwarden.toml"
    config.write_text(
        f"""
[imap]
host = "127.0.0.1"
port = {proxy.port}
security = "plain"
auth = "password"
passwords_dir = "passwords"
retries = 1
[directory]
path = "employees.csv"
[state]
url = "sqlite:///{tmp_path}/state.db"
[audit]
hmac_key_file = "audit.key"
"""
    )
    return config


def runner_with(config: Path, *employees: Employee) -> MailboxRunner:
    """The runner of *config*, with a directory that did not come through the file loader."""
    settings = load_settings(config)
    return MailboxRunner.create(settings, Directory(employees), StateStore.open(settings.state.url))


def test_a_login_reads_its_own_password_file_and_the_proxy_sees_it(dovecot, proxy, tmp_path):
    """The positive case: it shows the proxy records a LOGIN when there is one."""
    email = new_user(dovecot)
    config = password_config(tmp_path, proxy, f"email\n{email}\n")
    (tmp_path / "passwords" / email).write_text("secret\n")
    with runner_with(config, Employee(email)).login.open(Employee(email)):
        pass
    assert "LOGIN" in proxy.commands_sent()


def test_a_cr_lf_login_in_the_directory_never_reaches_the_server(dovecot, proxy, tmp_path):
    """The review's finding: with a master login, the login itself is what is sent."""
    email = new_user(dovecot)
    rows = f'email,login\n{email},"{email}\r\nA1 LOGOUT"\n'
    config = write_config(tmp_path, dovecot, [email], port=proxy.port, directory_rows=rows)
    result = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert result.exit_code == 2, result.output
    assert "employees.csv:2: field 'login':" in result.output
    assert "control character" in result.output
    assert b"LOGOUT" not in proxy.sent_bytes()
    assert proxy.connections == 0


def test_a_cr_lf_login_from_any_directory_source_is_refused_before_use():
    """Defence in depth: a login that did not come through the file loader is checked too."""
    with pytest.raises(ConfigError, match="contains a control character"):
        Employee("anna@exempel.se", login="anna@exempel.se\r\nA1 LOGOUT")


def test_an_absolute_path_login_in_the_directory_is_refused_at_load(
    dovecot, proxy, tmp_path, outside
):
    email = new_user(dovecot)
    config = password_config(tmp_path, proxy, f"email,login\n{email},{outside}\n")
    result = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert result.exit_code == 2, result.output
    assert "field 'login':" in result.output
    assert OUTSIDE_SECRET not in result.output
    assert OUTSIDE_SECRET.encode() not in proxy.sent_bytes()
    assert proxy.connections == 0


@pytest.mark.parametrize("login", ["{outside}", "../elsewhere/audit.key"])
def test_a_path_login_from_any_source_never_reads_the_file(tmp_path, outside, login):
    with pytest.raises(ConfigError, match="path separator"):
        Employee("anna@exempel.se", login=login.format(outside=outside))
    with pytest.raises(ConfigError, match="path separator"):
        password_file_for(tmp_path / "passwords", login.format(outside=outside))


def test_a_symlink_out_of_passwords_dir_is_refused(dovecot, proxy, tmp_path, outside):
    email = new_user(dovecot)
    config = password_config(tmp_path, proxy, f"email\n{email}\n")
    (tmp_path / "passwords" / email).symlink_to(outside)
    with pytest.raises(ConfigError, match="leads outside"):
        runner_with(config, Employee(email)).login.open(Employee(email))
    assert OUTSIDE_SECRET.encode() not in proxy.sent_bytes()


def test_plan_shows_a_personal_folder_as_an_hmac_never_the_address(dovecot, tmp_path):
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("customer", 2) + mail("invoice", 1))
    rules = RULES.replace(
        'target = "Kunder/{from_domain}"',
        'target = "Kontakter/{from_address}"\npersonal_data_in_folder_names = true',
    )
    config = write_config(tmp_path, dovecot, [email], rules=rules)
    runner = CliRunner()
    plan = ["--config", str(config), "plan", "--now", "2026-11-20T03:00", "--detail"]
    as_json = runner.invoke(main, [*plan, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    [box] = json.loads(as_json.stdout)["mailboxes"]
    targets = {a["rule"]: a["target"] for a in box["actions"]}
    assert targets["customers"].startswith("hmac:")
    assert targets["invoices"] == "Bokföring/2026"  # not personal: shown by name
    assert {m["target"] for m in box["messages"] if m["rule"] == "customers"} == {
        targets["customers"]
    }
    table = runner.invoke(main, plan)
    assert targets["customers"] in table.stdout
    for output in (as_json.stdout, table.stdout):
        assert "lena@kund.se" not in output
        assert "Kontakter" not in output
