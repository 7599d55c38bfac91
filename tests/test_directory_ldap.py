"""The LDAP directory source against a real OpenLDAP slapd started by the fixtures (docs/behaviour.md §8).

The slapd (``tests/ldapkit.py``) holds 300 people, ten managers, a director outside the
search base, nested and cyclic groups, a disabled AD account and a broken entry; its
size limit forces paging. The engine and the weekly report then run on the test
Dovecot with the directory read from it.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import ldap3
import pytest
from click.testing import CliRunner
from ldap3.core import exceptions as ldap_errors
from structlog.testing import capture_logs

from inboxwarden.cli.commands import main
from inboxwarden.config import DirectorySettings, load_settings
from inboxwarden.demo.localserver._certificates import make_certificates
from inboxwarden.directory.files import parse_csv
from inboxwarden.directory.ldap import DirectoryUnavailable, LdapDirectorySource, translate_error
from inboxwarden.directory.source import load_configured_directory
from inboxwarden.errors import ConfigError
from inboxwarden.mailbox.runner import MailboxRunner
from inboxwarden.reports import build_reports
from inboxwarden.state import StateStore
from tests.kit.engine import ENFORCING, STOCKHOLM, mail, scan, write_config
from tests.kit.seeding import seed
from tests.ldap_people import (
    BIND_DN,
    BIND_PASSWORD,
    EVERYONE,
    PEOPLE_BASE,
    RUN_PILOTS,
    expected_csv,
)
from tests.ldapkit import (
    PAGE_LIMIT,
    UNNAMED_LOOPBACK,
    LocalSlapd,
    directory_toml,
    ensure_slapd_installed,
    new_slapd_dir,
)

CONFIG = Path(__file__).resolve().parent.parent / "config"
BROKEN_DN = f"uid=broken,{PEOPLE_BASE}"


@pytest.fixture(name="slapd", scope="session")
def _slapd():
    """The session's OpenLDAP server, seeded (installed first when root and missing)."""
    ensure_slapd_installed()
    base = new_slapd_dir()
    try:
        with LocalSlapd(base) as server:
            yield server
    finally:
        shutil.rmtree(base, ignore_errors=True)


def settings_for(tmp_path: Path, slapd: LocalSlapd, **options) -> DirectorySettings:
    """The ``[directory]`` settings of a configuration file that reads *slapd*."""
    config = tmp_path / "inboxwarden.toml"
    config.write_text(
        '[imap]\nmaster_user = "m"\n' + directory_toml(slapd, tmp_path / "bind.secret", **options)
    )
    return load_settings(config).directory


def fetch(tmp_path: Path, slapd: LocalSlapd, **options):
    return LdapDirectorySource.from_settings(settings_for(tmp_path, slapd, **options)).fetch()


# -- the directory ------------------------------------------------------------------------


def test_ldap_gives_the_same_employees_managers_teams_modes_and_holds_as_the_csv(slapd, tmp_path):
    loaded = fetch(tmp_path, slapd)
    from_csv = parse_csv(expected_csv(), "expected.csv")

    def by_email(directory):
        return sorted(directory.employees, key=lambda e: e.email)

    assert len(from_csv) == len(EVERYONE) - 1 == 310
    assert by_email(loaded.directory) == by_email(from_csv)
    assert loaded.directory.managers() == from_csv.managers()
    assert {e.email for e in loaded.directory.active()} == {e.email for e in from_csv.active()}


def test_the_broken_entry_is_skipped_and_named_with_the_incomplete_ones(slapd, tmp_path):
    loaded = fetch(tmp_path, slapd)
    problems = {p.dn: p for p in loaded.problems}
    assert set(problems) == {
        BROKEN_DN,
        f"uid=p300,{PEOPLE_BASE}",  # a manager DN that names nobody
        f"uid=p007,{PEOPLE_BASE}",  # preferredLanguage de-DE
    }
    assert problems[BROKEN_DN].skipped and "'not-an-address'" in problems[BROKEN_DN].reason
    assert not problems[f"uid=p300,{PEOPLE_BASE}"].skipped


def test_the_logs_count_skipped_entries_but_name_no_dn_and_no_secret(slapd, tmp_path):
    with capture_logs() as events:
        fetch(tmp_path, slapd)
    [loaded] = [e for e in events if e["event"] == "directory_loaded"]
    assert (loaded["entries"], loaded["skipped"], loaded["employees"]) == (311, 1, 310)
    assert any(e["event"] == "directory_entries_skipped" and e["skipped"] == 1 for e in events)
    text = repr(events).lower()
    assert "uid=" not in text and "p300" not in text and BIND_PASSWORD.lower() not in text


def test_the_search_is_paged_because_the_server_refuses_more_at_once(slapd, tmp_path):
    loaded = fetch(tmp_path, slapd, page_size=40)
    assert loaded.entries > PAGE_LIMIT
    assert loaded.pages == -(-loaded.entries // 40) == 8
    # The same search without paging stops at the server's size limit.
    server = ldap3.Server("127.0.0.1", port=slapd.port)
    connection = ldap3.Connection(server, BIND_DN, BIND_PASSWORD, auto_bind=True)
    try:
        connection.search(PEOPLE_BASE, "(mail=*)", attributes=["mail"])
        assert connection.result["description"] == "sizeLimitExceeded"
        assert len(connection.entries) == PAGE_LIMIT
    finally:
        connection.unbind()


def test_a_page_larger_than_the_server_allows_is_a_clear_error(slapd, tmp_path):
    with pytest.raises(DirectoryUnavailable, match=r"field 'directory.page_size'.*lower page_size"):
        fetch(tmp_path, slapd, page_size=PAGE_LIMIT + 1)


def test_ldaps_reads_the_same_directory_as_starttls(slapd, tmp_path):
    over_ldaps = fetch(tmp_path, slapd, url=slapd.ldaps_url)
    assert sorted(over_ldaps.directory.employees, key=lambda e: e.email) == sorted(
        fetch(tmp_path, slapd).directory.employees, key=lambda e: e.email
    )


@pytest.mark.parametrize("scheme", ["ldap", "ldaps"])
def test_a_certificate_from_another_ca_is_refused(slapd, tmp_path, scheme):
    other = make_certificates(tmp_path / "other-ca")
    settings = settings_for(
        tmp_path, slapd, url=slapd.ldap_url if scheme == "ldap" else slapd.ldaps_url
    ).model_copy(update={"ca_file": other.ca_cert})
    with pytest.raises(
        DirectoryUnavailable, match=r"field 'directory.ca_file': TLS with .* failed"
    ):
        LdapDirectorySource.from_settings(settings).fetch()


def test_a_certificate_for_another_host_name_is_refused(slapd, tmp_path):
    """The right CA is not enough: the certificate must name the host in the URL."""
    url = f"ldaps://{UNNAMED_LOOPBACK}:{slapd.tls_port}"
    with pytest.raises(DirectoryUnavailable, match=r"field 'directory.ca_file'.*mismatch"):
        fetch(tmp_path, slapd, url=url)


def test_without_a_ca_file_the_system_store_is_used_and_refuses_the_test_ca(slapd, tmp_path):
    settings = settings_for(tmp_path, slapd).model_copy(update={"ca_file": None})
    with pytest.raises(DirectoryUnavailable, match=r"directory\.ca_file"):
        LdapDirectorySource.from_settings(settings).fetch()


def test_a_wrong_bind_password_names_the_bind_dn_and_not_the_password(slapd, tmp_path):
    settings = settings_for(tmp_path, slapd)
    (tmp_path / "bind.secret").write_text("wrong-password-Zx9\n")
    with capture_logs() as events, pytest.raises(DirectoryUnavailable) as caught:
        LdapDirectorySource.from_settings(settings).fetch()
    message = str(caught.value)
    assert "field 'directory.bind_dn'" in message and BIND_DN in message
    assert "wrong-password-Zx9" not in message + repr(events)
    assert "wrong-password" not in repr(LdapDirectorySource.from_settings(settings))


def test_a_bind_name_the_server_cannot_parse_names_the_bind_dn(slapd, tmp_path):
    """OpenLDAP takes no AD-style ``user@domain`` bind name; the message says where to look."""
    settings = settings_for(tmp_path, slapd).model_copy(update={"bind_dn": "svc@exempel.se"})
    with pytest.raises(DirectoryUnavailable, match=r"field 'directory.bind_dn'.*invalidDNSyntax"):
        LdapDirectorySource.from_settings(settings).fetch()


def test_a_base_dn_that_does_not_exist_is_named(slapd, tmp_path):
    settings = settings_for(tmp_path, slapd).model_copy(
        update={"base_dn": "ou=nobody,dc=exempel,dc=se"}
    )
    with pytest.raises(DirectoryUnavailable, match=r"field 'directory.base_dn'.*ou=nobody"):
        LdapDirectorySource.from_settings(settings).fetch()


def test_a_base_dn_written_with_spaces_is_read_all_the_same(slapd, tmp_path):
    settings = settings_for(tmp_path, slapd).model_copy(
        update={"base_dn": "OU=People, DC=exempel, DC=se"}
    )
    assert len(LdapDirectorySource.from_settings(settings).load()) == 310


def test_a_misspelt_legal_hold_group_stops_the_load(slapd, tmp_path):
    """A legal hold that silently held nobody would let rules delete held mail."""
    settings = settings_for(tmp_path, slapd).model_copy(
        update={"legal_hold_group": "cn=legal-hodl,ou=groups,dc=exempel,dc=se"}
    )
    with pytest.raises(ConfigError, match=r"field 'directory.legal_hold_group'.*legal-hodl"):
        LdapDirectorySource.from_settings(settings).fetch()


def test_an_unreachable_server_names_the_url(slapd, tmp_path):
    settings = settings_for(tmp_path, slapd).model_copy(update={"url": "ldap://127.0.0.1:1"})
    with pytest.raises(DirectoryUnavailable, match=r"field 'directory.url': cannot connect to"):
        LdapDirectorySource.from_settings(settings).fetch()


def test_a_shallow_group_depth_drops_the_deeply_nested_members(slapd, tmp_path):
    loaded = fetch(tmp_path, slapd, extra="group_depth = 1\n")
    held = {e.email.split("@")[0] for e in loaded.directory if e.legal_hold}
    assert held == {"p001", "p002", "p003"}  # p004 sits two groups down


def test_every_ldap3_error_becomes_a_directory_error_naming_a_setting():
    """An ldap3 upgrade cannot leak a raw exception into the CLI or the scheduler."""
    settings = DirectorySettings(source="ldap", url="ldap://x", base_dn="dc=x")
    classes = [ldap_errors.LDAPException]
    seen = 0
    while classes:
        cls = classes.pop()
        classes += cls.__subclasses__()
        try:
            exc = cls("boom")
        except TypeError:
            exc = cls.__new__(cls)
        translated = translate_error(exc, "search", settings)
        assert isinstance(translated, DirectoryUnavailable)
        assert str(translated).startswith("field 'directory."), cls
        seen += 1
    assert seen > 50


# -- the runner, the report and check with the directory from LDAP -------------------------


def engine_config(tmp_path: Path, dovecot, slapd: LocalSlapd, category: str) -> Path:
    """A configuration like the engine tests', with the directory read from *slapd*."""
    config = write_config(tmp_path, dovecot, [], mode="enforce")
    text = config.read_text(encoding="utf-8").replace(
        '[directory]\npath = "employees.csv"\n',
        directory_toml(
            slapd,
            tmp_path / "bind.secret",
            filter=f"(&(objectClass=inetOrgPerson)(businessCategory={category}))",
        ),
    )
    config.write_text(text, encoding="utf-8")
    return config


def runner_from(config: Path) -> MailboxRunner:
    settings = load_settings(config)
    directory = load_configured_directory(settings).directory
    return MailboxRunner.create(settings, directory, StateStore.open(settings.state.url))


@pytest.mark.imap
def test_a_run_takes_modes_holds_and_exclusions_from_ldap(dovecot, slapd, tmp_path):
    for uid in RUN_PILOTS:
        email = f"{uid}@exempel.se"
        dovecot.add_user(email, "secret")
        seed(dovecot, email, "INBOX", mail("invoice", 1) + mail("newsletter", 1) + mail("other", 1))
    runner = runner_from(engine_config(tmp_path, dovecot, slapd, "pilot-run"))
    try:
        summary = scan(runner, ENFORCING)
    finally:
        runner.state.close()
    got = {
        o.mailbox.split("@")[0]: (o.status, o.mode, o.applied.moved, o.applied.deleted)
        for o in summary.outcomes
    }
    # p005 (excluded group) and p299 (disabled account) are not processed at all.
    assert got == {
        "p001": ("ok", "enforce", 1, 0),  # legal hold through the group: nothing deleted
        "p010": ("ok", "observe", 0, 0),
        "p020": ("ok", "notify", 0, 0),
        "p050": ("ok", "enforce", 1, 1),
    }
    flagged = {o.mailbox.split("@")[0]: o.applied.flagged for o in summary.outcomes}
    assert flagged["p010"] == 0 and flagged["p020"] > 0


@pytest.mark.imap
def test_the_weekly_report_goes_to_the_manager_ldap_names(dovecot, slapd, tmp_path):
    for uid in ("p060", "p070"):
        email = f"{uid}@exempel.se"
        dovecot.add_user(email, "secret")
        seed(dovecot, email, "INBOX", mail("newsletter", 2) + mail("other", 1))
    runner = runner_from(engine_config(tmp_path, dovecot, slapd, "pilot-report"))
    try:
        scan(runner, datetime(2026, 11, 10, 3, 0, tzinfo=STOCKHOLM))
        reports = build_reports(
            runner.settings,
            runner.state,
            runner.directory,
            now=datetime(2026, 11, 16, 7, 0, tzinfo=STOCKHOLM),
        )
    finally:
        runner.state.close()
    [report] = reports
    assert report.manager == "m01@exempel.se"  # resolved by DN, outside the search
    assert [(m.email, m.team) for m in report.members] == [
        ("p060@exempel.se", "Team 1"),
        ("p070@exempel.se", "Team 1"),
    ]
    assert [m.this_week.deleted for m in report.members if m.this_week] == [2, 2]


@pytest.mark.imap
def test_check_names_skipped_entries_by_dn_for_the_administrator(dovecot, slapd, tmp_path):
    email = "p060@exempel.se"
    dovecot.add_user(email, "secret")
    config = engine_config(tmp_path, dovecot, slapd, "pilot-report")
    text = config.read_text().replace(
        "(businessCategory=pilot-report)", "(|(uid=p060)(uid=broken))"
    )
    config.write_text(text)
    result = CliRunner().invoke(main, ["--log-format", "json", "--config", str(config), "check"])
    assert result.exit_code == 0, result.output
    assert "directory ok: 1 active mailboxes" in result.stdout
    assert f"directory entry {BROKEN_DN}: skipped: attribute 'mail'" in result.stdout
    assert f"{email}: ok" in result.stdout


def test_check_with_an_unreachable_directory_exits_2_without_a_traceback(tmp_path):
    (tmp_path / "audit.key").write_text("k")
    (tmp_path / "bind.secret").write_text("s")
    config = tmp_path / "inboxwarden.toml"
    config.write_text(
        '[imap]\nmaster_user = "m"\npassword_file = "audit.key"\n'
        '[audit]\nhmac_key_file = "audit.key"\n'
        '[directory]\nsource = "ldap"\nurl = "ldap://127.0.0.1:1"\nbase_dn = "dc=x"\n'
        'bind_dn = "cn=x"\nbind_password_file = "bind.secret"\n'
    )
    result = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert result.exit_code == 2
    assert "field 'directory.url': cannot connect to ldap://127.0.0.1:1" in result.output
    assert "Traceback" not in result.output


# -- configuration ----------------------------------------------------------------------------


def test_the_example_ldap_configuration_loads():
    settings = load_settings(CONFIG / "ldap.toml")
    directory = settings.directory
    assert directory.source == "ldap"
    assert directory.url is not None and directory.url.startswith("ldaps://")
    assert directory.bind_dn and directory.base_dn and directory.legal_hold_group
    assert directory.bind_password_file is not None
    assert directory.attributes.email == "mail" and directory.attributes.team == "department"


def minimal_config(tmp_path: Path, directory: str) -> Path:
    config = tmp_path / "inboxwarden.toml"
    config.write_text(f'[imap]\nmaster_user = "m"\n[directory]\n{directory}\n')
    return config


@pytest.mark.parametrize(
    ("directory", "message"),
    [
        (
            'source = "ldap"\nbase_dn = "dc=x"',
            "field 'directory.url': required for source = 'ldap'",
        ),
        ('source = "ldap"\nurl = "ldaps://dc1"', "field 'directory.base_dn': required"),
        (
            'source = "ldap"\nurl = "http://dc1"\nbase_dn = "dc=x"',
            "field 'directory.url': 'http://dc1': expected ldaps://host[:port]",
        ),
        (
            'source = "ldap"\nurl = "ldaps://dc1"\nbase_dn = "dc=x"\nbind_dn = "cn=svc"',
            "field 'directory.bind_password_file': required with bind_dn",
        ),
        (
            'source = "ldap"\nbind_password = "hunter2"',
            "field 'directory.bind_password': secrets do not belong in the configuration file",
        ),
        ('source = "ad"', "field 'directory.source'"),
        ("[directory.attributes]\nmial = 'mail'", "field 'directory.attributes.mial': unknown"),
    ],
)
def test_a_wrong_ldap_configuration_names_the_file_and_the_field(tmp_path, directory, message):
    config = minimal_config(tmp_path, directory)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert str(caught.value).startswith(str(config)) and message in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_the_bind_password_may_come_from_the_environment(slapd, tmp_path, monkeypatch):
    text = directory_toml(slapd, tmp_path / "unused.secret")
    text = "\n".join(line for line in text.splitlines() if "bind_password_file" not in line)
    config = tmp_path / "inboxwarden.toml"
    config.write_text('[imap]\nmaster_user = "m"\n' + text + "\n")
    monkeypatch.setenv("INBOXWARDEN_DIRECTORY__BIND_PASSWORD", BIND_PASSWORD)
    settings = load_settings(config)
    assert BIND_PASSWORD not in repr(settings)
    assert len(load_configured_directory(settings).directory) == 310
