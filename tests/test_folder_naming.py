"""Folder names as the server spells them, and plans that promise only what it can do.

Pure: the server's facts (namespace prefix, separator, refused characters, trash) are
given; tests/test_layouts.py shows the same against real Dovecot layouts.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from inboxwarden.policy.cycle import Cycle
from inboxwarden.policy.folder_naming import name_characters, render_target
from inboxwarden.policy.matching import RuleBook
from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.people import Employee
from inboxwarden.policy.planning import (
    MailboxFacts,
    plan_mailbox,
    withhold,
)
from inboxwarden.policy.rules import DefaultRule, Rule
from inboxwarden.policy.target_names import target_names
from inboxwarden.policy.target_template import FIELDS, Personal, parse_target

STHLM = ZoneInfo("Europe/Stockholm")
ENFORCING = datetime(2026, 11, 27, 12, tzinfo=STHLM)
OLD = datetime(2026, 10, 10, 9, tzinfo=STHLM)
CUSTOMERS = Rule(
    name="customers",
    match={"from_domain": ["@customers"]},
    action="move",
    target="Kunder/{from_domain}",
    basis="Avtal",
)
NEWS = Rule(name="news", match={"list_id": "*"}, action="delete")
GROUPS = {"customers": ["kund.se", "client.example"]}
RULES = RuleBook.compile([CUSTOMERS, NEWS, DefaultRule().as_rule()], GROUPS)


def msg(uid: int, sender: str, flags: tuple[str, ...] = (), **headers: str) -> MessageInfo:
    fields = {k.replace("_", "-"): v for k, v in headers.items()}
    return MessageInfo(uid, OLD, 100, frozenset(flags), {"from": sender, **fields})


def render(template: str, sender: str, **facts: object) -> str:
    f = MailboxFacts(**facts)  # type: ignore[arg-type]
    return render_target(
        template, msg(1, sender), "r", STHLM, f.separator, prefix=f.prefix, refused=f.refused
    )


def plan(messages: list[MessageInfo], facts: MailboxFacts, mode: str = "enforce"):
    return plan_mailbox(
        Employee("anna@exempel.se"),
        messages,
        mode=mode,  # type: ignore[arg-type]
        records={},
        inbox_uids=[m.uid for m in messages],
        inbox_count=len(messages),
        window=Cycle().window(ENFORCING),
        rules=RULES,
        facts=facts,
        keyword="$Due",
        also_flagged=False,
    )


def test_the_namespace_prefix_and_separator_make_the_name():
    """INBOX. servers get INBOX.Kunder.kund_se: prefix, '.' levels, '.' in values as '_'."""
    assert render("Kunder/{from_domain}", "a@kund.se", separator=".", prefix="INBOX.") == (
        "INBOX.Kunder.kund_se"
    )


def test_a_template_that_names_the_inbox_itself_is_not_prefixed_twice():
    assert render("INBOX/Kunder", "a@kund.se", separator=".", prefix="INBOX.") == ("INBOX.Kunder")


def test_characters_the_server_refuses_become_underscores_in_values_and_literals():
    """Maildir++ with '/' refuses '.': values and the template's own text are cleaned."""
    name = render("Arkiv.2026/{from_address}", "lena.berg@kund.se", refused=frozenset("."))
    assert name == "Arkiv_2026/lena_berg@kund_se"


def test_without_refusals_a_dot_in_a_value_stays_on_a_slash_server():
    assert render("Kunder/{from_domain}", "a@kund.se") == "Kunder/kund.se"


def test_name_characters_are_the_punctuation_the_names_could_hold():
    chars = name_characters([msg(1, "lena.berg@kund-ab.se")], RULES)
    assert chars == frozenset({".", "-"})  # not '@': no template uses from_address


def test_the_users_deleted_message_is_not_planned_flagged_or_moved():
    plan_ = plan([msg(1, "a@kund.se", ("\\Deleted",)), msg(2, "a@kund.se")], MailboxFacts())
    assert plan_.user_deleted == 1
    assert [d.message.uid for d in plan_.decisions] == [2]
    assert all(1 not in b.uids for b in plan_.batches)
    assert 1 not in plan_.add_keyword + plan_.add_flagged


def test_no_trash_blocks_deletes_and_withholds_them_in_enforce():
    """Without a trash the plan says why, and nothing is batched that cannot be done."""
    facts = MailboxFacts(trash=None, no_trash_reason="no Trash folder [NOPERM]")
    plan_ = plan([msg(1, "n@list.se", list_id="<l.se>")], facts)
    (decision,) = plan_.decisions
    assert decision.blocked == "no Trash folder [NOPERM]"
    assert plan_.batches == []
    assert [(w.kind, w.uids) for w in plan_.withheld] == [("delete", (1,))]
    assert plan_.tallies()[0].blocked == "no Trash folder [NOPERM]"


def test_withhold_takes_refused_folders_out_of_the_batches():
    plan_ = plan([msg(1, "a@kund.se"), msg(2, "n@list.se", list_id="<l.se>")], MailboxFacts())
    withhold(plan_, {"Kunder/kund.se": "refused [NOPERM]"})
    assert [b.target for b in plan_.batches] == ["Trash"]
    assert [(w.target, w.reason, w.uids) for w in plan_.withheld] == [
        ("Kunder/kund.se", "refused [NOPERM]", (1,))
    ]
    assert {d.message.uid: d.blocked for d in plan_.decisions} == {1: "refused [NOPERM]", 2: None}


def test_check_lists_a_name_per_configured_customer_domain():
    facts = MailboxFacts(".", prefix="INBOX.", trash="INBOX.Trash")
    names = target_names([CUSTOMERS, NEWS], GROUPS, facts, now=ENFORCING, tz=STHLM)
    assert [(n.rule, n.action, n.name) for n in names] == [
        ("customers", "move", "INBOX.Kunder.kund_se"),
        ("customers", "move", "INBOX.Kunder.client_example"),
        ("news", "delete", "INBOX.Trash"),
    ]


def test_check_shows_fields_without_an_example_as_placeholders():
    rule = Rule(
        name="p",
        action="move",
        target="Personligt/{from_address}",
        basis="x",
        personal_data_in_folder_names=True,
    )
    (name,) = target_names([rule], {}, MailboxFacts(), now=ENFORCING, tz=STHLM)
    assert name.name == "Personligt/{from_address}"


def test_the_docs_name_exactly_the_template_fields_the_code_defines():
    """target_template.FIELDS is the one list; the docs must not drift from it."""
    root = Path(__file__).resolve().parent.parent
    behaviour = (root / "docs" / "behaviour.md").read_text(encoding="utf-8")
    move = behaviour[
        behaviour.index("`move` files the message") : behaviour.index("`delete` moves")
    ]
    assert set(re.findall(r"`\{(\w+)\}`", move)) == set(FIELDS)
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert all(f"`{{{name}}}`" in readme for name in FIELDS)
    # The docs' rule for personal names is the fields' own: from_address always,
    # from_domain unless the domains are listed.
    assert {n for n, f in FIELDS.items() if f.personal is Personal.ALWAYS} == {"from_address"}
    assert {n for n, f in FIELDS.items() if f.personal is Personal.UNLESS_DOMAINS_LISTED} == {
        "from_domain"
    }


def test_a_template_is_parsed_once_and_rendered_from_its_parsed_form():
    parsed = parse_target("Kunder/{from_domain}/{year}")
    assert parse_target("Kunder/{from_domain}/{year}") is parsed
    assert CUSTOMERS.template is parse_target(CUSTOMERS.target or "")
    assert parsed.fields == {"from_domain", "year"}
    assert parsed.render({"from_domain": "kund.se", "year": "2026"}, ".") == "Kunder.kund_se.2026"
