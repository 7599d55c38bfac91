"""Rule targets and directory logins are validated at load (issue 8, docs/behaviour.md §3 and §8)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from inboxwarden.config import LdapAttributes, load_settings
from inboxwarden.directory.files import load_directory
from inboxwarden.directory.mapping import LdapEntry, map_entries
from inboxwarden.errors import ConfigError
from inboxwarden.policy.cycle import Cycle
from inboxwarden.policy.folder_naming import render_target
from inboxwarden.policy.matching import RuleBook
from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.people import Employee
from inboxwarden.policy.planning import (
    MailboxFacts,
    folder_of_recorded,
    plan_mailbox,
    recorded_target,
)
from inboxwarden.policy.references import Referencer
from inboxwarden.policy.rules import Rule

MINIMAL = """
[imap]
host = "127.0.0.1"
security = "plain"
auth = "master"
master_user = "inboxwarden"
"""


def rules_file(tmp_path: Path, rule: str) -> Path:
    path = tmp_path / "inboxwarden.toml"
    path.write_text(MINIMAL + '\n[[rules]]\nname = "r"\nbasis = "Avtal"\n' + rule + "\n")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    return str(caught.value)


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("../../x", "cannot be '.' or '..'"),
        ("Kunder/../../etc", "cannot be '.' or '..'"),
        ("Kunder/./x", "cannot be '.' or '..'"),
        ("INBOX", "cannot be the INBOX itself"),
        ("inbox", "cannot be the INBOX itself"),
        ("INBOX/", "cannot be the INBOX itself"),
        (" Inbox ", "cannot be the INBOX itself"),
        ("Kunder/*%", "% and * are IMAP wildcards"),
        ("Kunder/%", "% are IMAP wildcards"),
        ("Kunder//x", "a folder level is empty"),
        ("/Kunder", "a folder level is empty"),
        ("Kunder/", "a folder level is empty"),
        ("Kunder\\r\\nA1 LOGOUT", "control characters"),
        ("Kunder\\u0000x", "control characters"),
        ("Kunder/{year:>999999}", "a placeholder takes no format"),
        ("Kunder/{year!r}", "a placeholder takes no format"),
    ],
)
def test_a_bad_target_is_refused_at_load_naming_rule_and_field(tmp_path, target, problem):
    path = rules_file(tmp_path, f'action = "move"\ntarget = "{target}"')
    message = load_error(path)
    assert f"{path}: rule 'r' (rules[0]), field 'target'" in message
    assert problem in message


def test_a_target_that_is_the_inbox_through_the_rule_name_is_refused(tmp_path):
    path = tmp_path / "inboxwarden.toml"
    path.write_text(
        MINIMAL + '[[rules]]\nname = "INBOX"\naction = "move"\ntarget = "{rule}"\nbasis = "x"\n'
    )
    assert "with this rule's name, the target cannot be the INBOX itself" in load_error(path)


def test_an_inbox_subfolder_and_ordinary_targets_are_accepted(tmp_path):
    for target in ("INBOX/Kunder", "Bokföring/{year}/{month}", "Kunder/Åhléns", "{rule}/{year}"):
        settings = load_settings(rules_file(tmp_path, f'action = "move"\ntarget = "{target}"'))
        assert settings.rules[0].target == target


def test_from_address_in_a_target_needs_the_rules_explicit_consent(tmp_path):
    without = rules_file(tmp_path, 'action = "move"\ntarget = "Kontakter/{from_address}"')
    message = load_error(without)
    assert "field 'target': {from_address} puts each correspondent's address" in message
    assert "personal_data_in_folder_names = true" in message
    consented = rules_file(
        tmp_path,
        'action = "move"\ntarget = "Kontakter/{from_address}"\n'
        "personal_data_in_folder_names = true",
    )
    rule = load_settings(consented).rules[0]
    assert rule.folder_names_are_personal


def test_from_domain_counts_as_personal_unless_the_rule_lists_the_domains(tmp_path):
    """Any sender picks the domain otherwise, and a domain can name a person."""
    open_ended = rules_file(tmp_path, 'action = "move"\ntarget = "Kunder/{from_domain}"')
    assert "{from_domain} without match.from_domain" in load_error(open_ended)
    listed = rules_file(
        tmp_path,
        'match.from_domain = ["kund.se"]\naction = "move"\ntarget = "Kunder/{from_domain}"',
    )
    assert not load_settings(listed).rules[0].folder_names_are_personal


def test_a_personal_folder_is_recorded_as_an_hmac_and_any_other_by_name():
    referencer = Referencer(b"key")
    recorded = recorded_target("Kontakter/anna@kund.se", True, referencer)
    assert recorded is not None and recorded.startswith("hmac:")
    assert "anna" not in recorded
    assert recorded == recorded_target("Kontakter/anna@kund.se", True, referencer)  # stable
    assert recorded != recorded_target("Kontakter/bo@kund.se", True, referencer)
    assert recorded != recorded_target("Kontakter/anna@kund.se", True, Referencer(b"other"))
    assert recorded_target("Bokföring/2026", False, referencer) == "Bokföring/2026"
    assert recorded_target(None, True, referencer) is None


def test_a_batch_says_whether_its_folder_name_is_personal():
    """The flag actions and the journal read to record the HMAC instead of the name."""
    rules = RuleBook.compile(
        [
            Rule(
                name="contacts",
                match={"from_domain": ["kund.se"]},
                action="move",
                target="Kontakter/{from_address}",
                basis="Avtal",
                personal_data_in_folder_names=True,
            ),
            Rule(name="invoices", action="move", target="Bokföring/{year}", basis="BFL"),
        ],
        {},
    )
    old = datetime(2026, 10, 10, 9, tzinfo=ZoneInfo("Europe/Stockholm"))
    messages = [
        MessageInfo(1, old, 1, frozenset(), {"from": "Lena <lena@kund.se>"}),
        MessageInfo(2, old, 1, frozenset(), {"from": "Per <per@annat.se>"}),
    ]
    plan = plan_mailbox(
        Employee("anna@exempel.se"),
        messages,
        mode="enforce",
        records={},
        inbox_count=2,
        window=Cycle().window(datetime(2026, 11, 27, 12, tzinfo=ZoneInfo("Europe/Stockholm"))),
        rules=rules,
        facts=MailboxFacts(),
        keyword="$InboxWardenDue",
        also_flagged=True,
    )
    personal = {b.target: b.personal for b in plan.batches}
    assert personal == {"Kontakter/lena@kund.se": True, "Bokföring/2026": False}


def test_a_folder_recorded_as_an_hmac_is_found_again_among_the_mailboxs_folders():
    """What recovering a half-done transfer needs: the journal holds only the HMAC."""
    referencer = Referencer(b"key")
    recorded = recorded_target("Kontakter/anna@kund.se", True, referencer)
    folders = ["INBOX", "Kontakter/bo@kund.se", "Kontakter/anna@kund.se"]
    assert folder_of_recorded(recorded, folders, referencer) == "Kontakter/anna@kund.se"
    assert folder_of_recorded(recorded, folders[:2], referencer) is None
    assert folder_of_recorded("Bokföring/2026", folders, referencer) == "Bokföring/2026"


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ("x <anna@kund.se>", "Kontakter/kund.se/anna@kund.se"),
        ("x <a*%b@host.se>", "Kontakter/host.se/a__b@host.se"),
        ("x <a@..>", "Kontakter/_/a@.."),
        ("x <a@*>", "Kontakter/_/a@_"),
        ("x <a\x01b@h\x7f.se>", "Kontakter/h_.se/a_b@h_.se"),
    ],
)
def test_a_sender_controlled_value_adds_no_wildcard_level_or_control_character(sender, expected):
    message = MessageInfo(1, datetime(2026, 1, 5, tzinfo=UTC), 1, frozenset(), {"from": sender})
    template = "Kontakter/{from_domain}/{from_address}"
    assert render_target(template, message, "r", ZoneInfo("UTC"), "/") == expected


# -- directory logins -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("login", "problem"),
    [
        ("/etc/inboxwarden/audit.key", "contains a path separator"),
        ("../audit.key", "contains a path separator"),
        ("..", "is not a plain name"),
        ("a..b", "is not a plain name"),
        ("dom\\\\anna", "contains a path separator"),
        ("anna\\r\\nA1 LOGOUT", "contains a control character"),
        ("anna\\nx", "contains a control character"),
        ("anna\\u0000x", "contains a control character"),
        ("anna\\tx", "contains a control character"),
        ("a" * 400, "is longer than 320 characters"),
    ],
)
def test_a_login_that_could_name_a_file_or_inject_a_command_is_refused(tmp_path, login, problem):
    path = tmp_path / "employees.yaml"
    path.write_text(f'- email: bo@exempel.se\n- email: anna@exempel.se\n  login: "{login}"\n')
    with pytest.raises(ConfigError) as caught:
        load_directory(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:3: entry 2: field 'login':"), message
    assert problem in message
    assert len(message) < 300


def test_a_csv_login_with_a_line_break_inside_quotes_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "employees.csv"
    path.write_bytes(b'email,login\nbo@exempel.se,\nanna@exempel.se,"anna\r\nA1 LOGOUT"\n')
    with pytest.raises(ConfigError, match=r"employees.csv:3: field 'login': .* control character"):
        load_directory(path)


def test_a_login_with_a_domain_or_a_plus_is_a_plain_name(tmp_path):
    path = tmp_path / "employees.csv"
    path.write_text(
        "email,login\nanna@exempel.se,anna+inbox@exempel.se\nbo@exempel.se,EXEMPEL-bo\n"
    )
    assert [e.login for e in load_directory(path)] == ["anna+inbox@exempel.se", "EXEMPEL-bo"]


@pytest.mark.parametrize("login", ["a..b", "anna\u2028x", "anna\u0085x"])
def test_an_ldap_login_gets_the_same_check_and_skips_only_its_entry(login):
    """An LDAP entry with a bad login is named as a problem; the others still load."""
    good = LdapEntry("CN=Anna,DC=exempel,DC=se", {"mail": ["anna@exempel.se"]})
    bad = LdapEntry("CN=Bo,DC=exempel,DC=se", {"mail": ["bo@exempel.se"], "uid": [login]})
    mapped = map_entries([good, bad], LdapAttributes(login="uid"))
    assert [e.email for e in mapped.directory] == ["anna@exempel.se"]
    [problem] = mapped.problems
    assert problem.dn == "CN=Bo,DC=exempel,DC=se"
    assert "login" in problem.reason or "'uid'" in problem.reason


def test_an_ldap_address_that_cannot_be_a_login_skips_only_its_entry():
    """Without a login attribute the address is the login, and '/' may be in an address."""
    good = LdapEntry("CN=Anna,DC=exempel,DC=se", {"mail": ["anna@exempel.se"]})
    bad = LdapEntry("CN=Bo,DC=exempel,DC=se", {"mail": ["b/o@exempel.se"]})
    mapped = map_entries([good, bad], LdapAttributes())
    assert [e.email for e in mapped.directory] == ["anna@exempel.se"]
    assert "path separator" in mapped.problems[0].reason
