"""The plan of one mailbox: flags per mode, only our own flags cleared, batches per target."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from inboxwarden.policy.cycle import Cycle
from inboxwarden.policy.folder_naming import render_target
from inboxwarden.policy.matching import RuleBook
from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.people import Employee
from inboxwarden.policy.planning import (
    FLAGGED,
    FlagRecord,
    MailboxFacts,
    plan_mailbox,
)
from inboxwarden.policy.rules import DefaultRule, Rule

STHLM = ZoneInfo("Europe/Stockholm")
CYCLE = Cycle()
ENFORCING = datetime(2026, 11, 27, 12, tzinfo=STHLM)  # after E (2026-11-09)
GRACE = datetime(2026, 11, 3, 12, tzinfo=STHLM)  # after B, before E
KW = "$InboxWardenDue"

RULES = RuleBook.compile(
    [
        Rule(
            name="invoices",
            match={"subject": "Faktura"},
            action="move",
            target="Bokföring/{year}",
            basis="BFL",
        ),
        Rule(name="news", match={"list_id": "*"}, action="delete"),
        Rule(name="keepers", match={"subject": "Avtal"}, action="keep", basis="Avtal"),
        DefaultRule().as_rule(),
    ],
    {},
)


def msg(uid: int, when: datetime, flags: tuple[str, ...] = (), **headers: str) -> MessageInfo:
    return MessageInfo(
        uid, when, 100, frozenset(flags), {k.replace("_", "-"): v for k, v in headers.items()}
    )


OLD = datetime(2026, 10, 10, 9, tzinfo=STHLM)
NEW = datetime(2026, 11, 2, 9, tzinfo=STHLM)


def plan(
    mode: str,
    messages,
    now=ENFORCING,
    records=None,
    legal_hold=False,
    facts=None,
    also_flagged=True,
):
    return plan_mailbox(
        Employee("anna@exempel.se", legal_hold=legal_hold),
        messages,
        mode=mode,
        records=records or {},
        inbox_uids=[m.uid for m in messages],
        inbox_count=len(messages),
        window=CYCLE.window(now),
        rules=RULES,
        facts=facts or MailboxFacts(),
        keyword=KW,
        also_flagged=also_flagged,
    )


def test_observe_plans_actions_but_no_writes():
    p = plan("observe", [msg(1, OLD, subject="Faktura 7"), msg(2, OLD)])
    assert p.due == 2 and p.overdue == 2
    assert not (p.add_keyword or p.add_flagged or p.remove_keyword or p.remove_flagged or p.batches)
    assert [(t.rule, t.action, t.target, t.overdue) for t in p.tallies()] == [
        ("invoices", "move", "Bokföring/2026", 1),
        ("default", "report", None, 1),
    ]


def test_notify_flags_due_messages_and_moves_nothing():
    p = plan("notify", [msg(1, OLD, subject="Faktura"), msg(2, NEW), msg(3, OLD, (FLAGGED,))])
    assert p.add_keyword == [1, 3]
    assert p.add_flagged == [1]  # message 3 already carries the user's own \Flagged
    assert p.batches == []


def test_enforce_moves_overdue_messages_in_one_batch_per_target():
    messages = [msg(u, OLD, subject="Faktura") for u in (5, 3, 4)] + [msg(9, OLD, list_id="<l>")]
    p = plan("enforce", messages)
    assert {(b.kind, b.target, b.uids) for b in p.batches} == {
        ("move", "Bokföring/2026", (3, 4, 5)),
        ("delete", "Trash", (9,)),
    }
    assert p.add_keyword == [] and p.add_flagged == []  # leaving messages are not flagged first


def test_enforce_during_grace_period_only_flags():
    p = plan("enforce", [msg(1, OLD, subject="Faktura")], now=GRACE)
    assert p.due == 1 and p.overdue == 0
    assert p.batches == [] and p.add_keyword == [1]


def test_only_flags_inboxwarden_set_are_cleared():
    records = {
        1: FlagRecord(1, keyword=True, flagged=True),
        2: FlagRecord(2, keyword=True, flagged=False),
    }
    # Both are no longer due (a later arrival date after a config change, say).
    messages = [msg(1, NEW, (KW, FLAGGED)), msg(2, NEW, (KW, FLAGGED))]
    p = plan("notify", messages, now=GRACE, records=records)
    assert p.remove_keyword == [1, 2]
    assert p.remove_flagged == [1]  # message 2's \Flagged is the user's own


def test_keep_rule_exempts_and_unflags():
    records = {1: FlagRecord(1, keyword=True, flagged=True)}
    p = plan("enforce", [msg(1, OLD, (KW, FLAGGED), subject="Avtal")], records=records)
    assert p.batches == [] and p.add_keyword == []
    assert p.remove_keyword == [1] and p.remove_flagged == [1]


def test_legal_hold_turns_deletes_into_holds_but_still_files():
    p = plan(
        "enforce", [msg(1, OLD, list_id="<l>"), msg(2, OLD, subject="Faktura")], legal_hold=True
    )
    assert [b.kind for b in p.batches] == ["move"]
    assert p.held == 1


def test_without_keywords_flagged_is_used_even_if_not_configured():
    p = plan(
        "notify", [msg(1, OLD)], facts=MailboxFacts(keywords_allowed=False), also_flagged=False
    )
    assert p.add_keyword == [] and p.add_flagged == [1]


def test_records_of_messages_that_left_the_inbox_are_forgotten():
    p = plan("notify", [msg(1, OLD)], records={7: FlagRecord(7, True, False)})
    assert p.forget == [7]


@pytest.mark.parametrize(
    ("template", "sep", "expected"),
    [
        ("Kunder/{from_domain}", "/", "Kunder/kund.se"),
        ("Kunder/{from_domain}", ".", "Kunder.kund_se"),
        ("Bokföring/{year}/{month}", "/", "Bokföring/2026/01"),
        ("Arkiv/{rule}/{from_address}", "/", "Arkiv/r/a@kund.se"),
        ("/Kunder//{from_domain}/", "/", "Kunder/kund.se"),
    ],
)
def test_target_template(template, sep, expected):
    # 2025-12-31 23:30 UTC is already January in Stockholm.
    m = MessageInfo(
        1, datetime(2025, 12, 31, 23, 30, tzinfo=UTC), 1, frozenset(), {"from": "A <a@kund.se>"}
    )
    assert render_target(template, m, "r", STHLM, sep) == expected


def test_messages_due_under_an_earlier_cycle_stay_overdue_in_the_next_grace_period():
    very_old = datetime(2026, 9, 15, 9, tzinfo=STHLM)
    p = plan("enforce", [msg(1, very_old, subject="Faktura")], now=GRACE)
    assert p.overdue == 1 and p.batches and p.batches[0].uids == (1,)


def test_inboxwardens_own_digest_is_never_flagged_or_filed():
    digest = msg(1, OLD, subject="Faktura", x_inboxwarden_digest="anna")
    p = plan("enforce", [digest])
    assert p.due == 0 and p.batches == [] and p.add_keyword == []
