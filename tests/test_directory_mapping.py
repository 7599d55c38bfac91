"""LDAP entries to employees, without a server: addresses, managers, groups, AD's flags."""

from __future__ import annotations

import pytest

from inboxwarden.config import LdapAttributes
from inboxwarden.directory.mapping import (
    LdapEntry,
    Memberships,
    dn_key,
    map_entries,
    outside_managers,
)
from inboxwarden.policy.people import Employee

AD = LdapAttributes()
ANNA = "CN=Anna Berg,OU=Staff,DC=exempel,DC=se"
BO = "CN=Bo Ek,OU=Staff,DC=exempel,DC=se"


def entry(dn: str, **attributes: str | list[str]) -> LdapEntry:
    return LdapEntry(dn, {k: [v] if isinstance(v, str) else v for k, v in attributes.items()})


def test_dn_keys_ignore_case_and_spaces_but_keep_escaped_commas():
    assert dn_key("CN=Anna Berg, OU=Staff ,DC=exempel,DC=se") == dn_key(
        "cn=anna berg,ou=staff,dc=exempel,dc=se"
    )
    assert dn_key(r"CN=Berg\, Anna,OU=Staff") == r"cn=berg\, anna,ou=staff"
    assert dn_key(r"CN=Berg\, Anna,OU=Staff") != dn_key("CN=Berg,CN=Anna,OU=Staff")


def test_an_entry_maps_to_an_employee_with_its_manager_team_and_language():
    anna = entry(ANNA, mail="Anna.Berg@exempel.se", department="Ekonomi", preferredLanguage="sv-SE")
    bo = entry(
        BO, MAIL="bo@exempel.se", manager=ANNA.upper(), preferredlanguage="en_US", department=" "
    )
    mapped = map_entries([anna, bo], AD)
    assert mapped.directory.employees == (
        Employee("Anna.Berg@exempel.se", team="Ekonomi", language="sv"),
        Employee("bo@exempel.se", manager="Anna.Berg@exempel.se", language="en"),
    )
    assert mapped.problems == ()


def test_an_entry_without_a_usable_address_is_skipped_and_named_by_its_dn():
    mapped = map_entries(
        [entry(ANNA, mail="anna@"), entry(BO, cn="Bo"), entry("cn=c", mail="c@exempel.se")], AD
    )
    assert [e.email for e in mapped.directory] == ["c@exempel.se"]
    assert mapped.skipped == 2
    first, second = mapped.problems
    assert (first.dn, first.skipped) == (ANNA, True)
    assert "'anna@' is not a valid e-mail address" in first.reason
    assert str(second) == f"{BO}: skipped: no 'mail' attribute"


def test_an_address_listed_twice_keeps_the_first_entry():
    mapped = map_entries([entry(ANNA, mail="a@exempel.se"), entry(BO, mail="A@exempel.se")], AD)
    assert [e.email for e in mapped.directory] == ["a@exempel.se"]
    [problem] = mapped.problems
    assert problem.dn == BO and ANNA in problem.reason


@pytest.mark.parametrize(
    ("flags", "excluded"), [("512", False), ("514", True), ("66050", True), ("66048", False)]
)
def test_a_disabled_ad_account_is_listed_but_excluded(flags, excluded):
    mapped = map_entries([entry(ANNA, mail="a@exempel.se", userAccountControl=flags)], AD)
    assert mapped.directory.employees[0].excluded is excluded


def test_an_unreadable_account_control_skips_the_entry():
    mapped = map_entries([entry(ANNA, mail="a@exempel.se", userAccountControl="on")], AD)
    assert len(mapped.directory) == 0 and "'on' is not a number" in mapped.problems[0].reason


def test_the_account_control_check_can_be_switched_off():
    attributes = LdapAttributes(account_control="")  # as a TOML file switches it off
    mapped = map_entries([entry(ANNA, mail="a@exempel.se", userAccountControl="514")], attributes)
    assert mapped.directory.employees[0].excluded is False


def test_a_manager_outside_the_search_lends_only_its_address():
    boss = "CN=Vd,OU=Board,DC=exempel,DC=se"
    anna = entry(ANNA, mail="a@exempel.se", manager=boss)
    assert outside_managers([anna], AD) == {dn_key(boss): boss}
    mapped = map_entries([anna], AD, managers=[entry(boss, mail="vd@exempel.se")])
    assert [(e.email, e.manager) for e in mapped.directory] == [("a@exempel.se", "vd@exempel.se")]


@pytest.mark.parametrize(
    ("manager", "reason"),
    [
        ("CN=Gone,DC=exempel,DC=se", "is not in the directory"),
        (BO, "has no usable address"),
        (ANNA, "cannot be their own manager"),
    ],
)
def test_an_unusable_manager_is_dropped_and_the_entry_kept(manager, reason):
    mapped = map_entries(
        [entry(ANNA, mail="a@exempel.se", manager=manager)], AD, managers=[entry(BO)]
    )
    assert mapped.directory.employees == (Employee("a@exempel.se"),)
    [problem] = mapped.problems
    assert problem.dn == ANNA and not problem.skipped and reason in problem.reason


def test_a_language_without_texts_falls_back_to_the_default_with_a_note():
    mapped = map_entries([entry(ANNA, mail="a@exempel.se", preferredLanguage="de-DE")], AD)
    assert mapped.directory.employees[0].language is None
    assert "'de-DE' has no texts" in mapped.problems[0].reason and mapped.skipped == 0


def test_groups_set_legal_hold_exclusion_and_the_most_cautious_mode():
    entries = [entry(f"cn={n},dc=se", mail=f"{n}@exempel.se") for n in "abcde"]
    groups = Memberships(
        legal_hold=frozenset({"cn=a,dc=se"}),
        excluded=frozenset({"cn=b,dc=se"}),
        observe=frozenset({"cn=c,dc=se"}),
        notify=frozenset({"cn=c,dc=se", "cn=d,dc=se"}),
        enforce=frozenset({"cn=d,dc=se", "cn=a,dc=se"}),
    )
    got = {
        e.email[0]: (e.mode, e.legal_hold, e.excluded)
        for e in map_entries(entries, AD, groups).directory
    }
    assert got == {
        "a": ("enforce", True, False),
        "b": (None, False, True),
        "c": ("observe", False, False),
        "d": ("notify", False, False),
        "e": (None, False, False),
    }


def test_a_login_attribute_is_used_and_checked():
    attributes = LdapAttributes(login="userPrincipalName")
    good = entry(ANNA, mail="a@exempel.se", userPrincipalName="anna@corp.exempel.se")
    bad = entry(BO, mail="b@exempel.se", userPrincipalName="..\\bo")
    mapped = map_entries([good, bad], attributes)
    assert [(e.email, e.login) for e in mapped.directory] == [
        ("a@exempel.se", "anna@corp.exempel.se")
    ]
    assert mapped.problems[0].dn == BO and "path separator" in mapped.problems[0].reason


def test_test_domains_are_refused_unless_allowed():
    entries = [entry(ANNA, mail="anna@localhost")]
    assert len(map_entries(entries, AD).directory) == 0
    assert len(map_entries(entries, AD, allow_test_domains=True).directory) == 1
