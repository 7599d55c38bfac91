"""The digest's content and schedule: pure functions over plan decisions and the cycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inboxwarden.policy.cycle import Cycle
from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.references import Referencer
from inboxwarden.reports.digest import (
    build_digest,
    digest_due,
    digest_kind,
    listed_uids,
    mask_id_shapes,
    mask_subject,
)
from inboxwarden.reports.marker import is_our_digest, new_marker
from tests.reports.digestkit import decision

TZ = ZoneInfo("Europe/Stockholm")
CYCLE = Cycle(timezone=TZ)  # November 2026: B = Sun 1 Nov, reminder Fri 6 Nov, E = Mon 9 Nov
NOW = datetime(2026, 11, 2, 7, 0, tzinfo=TZ)


def at(day: int, hour: int = 8, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=TZ)


def digest_of(decisions, **overrides):
    options = {
        "mailbox": "anna@exempel.se",
        "language": "sv",
        "mode": "notify",
        "window": CYCLE.window(NOW),
        "organisation": "Exempel AB",
        "policy_url": None,
    }
    options.update(overrides)
    return build_digest(decisions, **options)


# --- content ---------------------------------------------------------------------------


def test_messages_are_grouped_by_outcome_deletions_first_and_oldest_first():
    digest = digest_of(
        [
            decision(1, at(20, month=10), "default"),
            decision(2, at(5, month=10), "invoices"),
            decision(3, at(12, month=10), "newsletters"),
            decision(4, at(3, month=10), "invoices"),
            decision(5, at(9, month=10), "default"),
        ]
    )
    assert [g.action for g in digest.groups] == ["delete", "move", "report"]
    move = digest.groups[1]
    assert [i.arrived.day for i in move.items] == [3, 5]
    assert move.targets == ("Bokföring/2026",)
    assert [i.arrived.day for i in digest.groups[2].items] == [9, 20]
    assert digest.total == 5
    assert (digest.count("move"), digest.count("delete"), digest.count("purge")) == (2, 1, 0)


def test_every_outcome_gets_a_share_of_the_list():
    many = [
        decision(i, at(1, month=10) + timedelta(hours=i), rule)
        for i in range(1, 301)
        for rule in [("invoices", "newsletters", "default")[i % 3]]
    ]
    digest = digest_of(many, max_per_group=50, max_listed=60)
    assert [(g.count, len(g.items)) for g in digest.groups] == [(100, 20), (100, 20), (100, 20)]


def test_the_shell_fetches_headers_for_exactly_the_listed_messages():
    many = [
        decision(i, at(1, month=10) + timedelta(hours=-i), rule)
        for i in range(1, 101)
        for rule in [("invoices", "newsletters", "keep")[i % 3]]
    ]
    digest = digest_of(many, max_per_group=10)
    shown = {(i.arrived, i.rule) for g in digest.groups for i in g.items}
    by_uid = {d.message.uid: d for d in many}
    uids = listed_uids(many, max_per_group=10)
    assert len(uids) == 20
    assert {(by_uid[u].message.internaldate, by_uid[u].rule.name) for u in uids} == shown


def test_kept_messages_are_exempt_and_not_listed():
    digest = digest_of([decision(1, at(5, month=10), "keep"), decision(2, at(6, month=10))])
    assert digest.total == 1
    assert [g.action for g in digest.groups] == ["report"]


def test_legal_hold_shows_as_its_own_outcome():
    digest = digest_of([decision(1, at(5, month=10), "newsletters", action="hold")])
    assert [(g.action, g.count) for g in digest.groups] == [("hold", 1)]


def test_long_groups_are_cut_but_counted_in_full():
    many = [
        decision(i, at(1, month=10) + timedelta(hours=i), overdue=i % 2 == 0) for i in range(1, 251)
    ]
    digest = digest_of(many, max_per_group=100, max_listed=1000)
    [group] = digest.groups
    assert (group.count, len(group.items), group.more) == (250, 100, 150)
    assert digest.overdue == 125  # overdue counts every message, listed or not


def test_subjects_are_masked_and_senders_shown():
    digest = digest_of(
        [
            decision(
                1,
                at(5, month=10),
                subject="Faktura för 770923-1232",
                sender='"Fortnox AB" <Faktura@Fortnox.se>',
            ),
            decision(
                2, at(6, month=10), subject="Ring mig på 070-123 45 67", sender="per@annat.se"
            ),
        ]
    )
    items = digest.groups[0].items
    assert items[0].subject == "Faktura för 770923-****"
    assert (items[0].sender_name, items[0].sender_address) == ("Fortnox AB", "faktura@fortnox.se")
    assert items[1].subject == "Ring mig på 070-*** ** 67"
    assert (items[1].sender_name, items[1].sender_address) == ("", "per@annat.se")


def test_fetched_headers_fill_in_what_the_scan_did_not_fetch():
    bare = MessageInfo(7, at(5, month=10), 100, frozenset(), {})
    planned = decision(7, at(5, month=10))
    planned = type(planned)(bare, planned.rule, planned.action, planned.target, planned.overdue)
    fetched = MessageInfo(
        7,
        at(5, month=10),
        100,
        frozenset(),
        {"from": "Lena <lena@kund.se>", "subject": "=?utf-8?q?=C3=84rende_19811218-9876?="},
    )
    [item] = digest_of([planned], headers={7: fetched}).groups[0].items
    assert item.subject == "Ärende 19811218-****"
    assert item.sender_address == "lena@kund.se"


@pytest.mark.parametrize(
    ("subject", "shown"),
    [
        (
            "Faktura för 770923-1234",
            "Faktura för 770923-****",
        ),  # check digit fails: masked on shape
        ("Ärende 19770923+1234", "Ärende 19770923+****"),
        ("Samordningsnummer 770983-1234", "Samordningsnummer 770983-****"),
        ("Org.nr 556677-8899", "Org.nr 556677-8899"),  # a company, not a person
        ("Order 20231012", "Order 20231012"),
        ("Mötet 2026-11-09 kl 10", "Mötet 2026-11-09 kl 10"),
        ("mejla anna.svensson@privat.se", "mejla a***@privat.se"),
    ],
)
def test_what_is_written_like_personal_data_is_masked(subject, shown):
    assert mask_subject(subject) == shown


def test_masking_comes_before_shortening():
    subject = "x" * 110 + " 770923-1232 och mer text efteråt"
    shown = mask_subject(subject)
    assert len(shown) == 120 and shown.endswith("…")
    assert "1232" not in shown


def test_a_detector_failure_hides_the_subject(monkeypatch):
    def broken(text, **_):
        raise RuntimeError("bug")

    monkeypatch.setattr("inboxwarden.reports.digest.mask_text", broken)
    assert mask_subject("Faktura för 770923-1232") == ""


def test_mask_id_shapes_leaves_already_masked_numbers_alone():
    assert mask_id_shapes("770923-****") == "770923-****"


# --- schedule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "last_sent", "expected"),
    [
        (at(2), None, "boundary"),
        (at(1, 0) + timedelta(minutes=5), None, "boundary"),
        (at(2), at(1, 3), None),  # already sent this cycle
        (at(2), at(5, month=10), "boundary"),  # last cycle's reminder does not count
        (at(6), at(2), "reminder"),
        (at(6, 12), at(6, 7), None),
        (at(7), None, "reminder"),  # the boundary digest was missed: one digest, not two
        (at(8, 23), at(2), "reminder"),
        (at(9, 0), None, None),  # from the enforcement date on, the rules act
        (at(20), None, None),
    ],
)
def test_digest_due_at_the_boundary_and_on_the_reminder_date(now, last_sent, expected):
    assert digest_due(CYCLE.window(now), last_sent) == expected


def test_a_short_grace_period_gives_a_single_digest():
    cycle = Cycle(timezone=TZ, grace_business_days=0)  # B Sun 1 Nov, E Mon 2 Nov
    assert cycle.reminder_date(cycle.boundary(at(2))) == cycle.boundary(at(2))
    assert digest_due(cycle.window(at(1, 9)), None) == "boundary"
    assert digest_due(cycle.window(at(1, 10)), at(1, 9)) is None
    assert digest_due(cycle.window(at(2, 9)), None) is None


def test_without_grace_the_one_digest_still_goes_out_after_the_boundary():
    cycle = Cycle(timezone=TZ, grace_business_days=0)  # B = E = Tue 1 Dec
    december = datetime(2026, 12, 1, 0, 0, tzinfo=TZ)
    assert cycle.enforcement_date(cycle.boundary(december)) == december
    assert digest_due(cycle.window(december), None) == "boundary"
    assert digest_due(cycle.window(december + timedelta(hours=9)), december) is None
    assert digest_due(cycle.window(december + timedelta(days=14)), None) == "boundary"


def test_digest_kind_names_the_reminder_from_its_date_on():
    assert digest_kind(CYCLE.window(at(5, 23))) == "boundary"
    assert digest_kind(CYCLE.window(at(6, 0))) == "reminder"


@settings(max_examples=25, deadline=None)
@given(
    anchor=st.integers(1, 28),
    grace=st.integers(0, 10),
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 1)),
)
def test_a_scheduler_ticking_hourly_sends_one_or_two_digests_per_cycle(anchor, grace, start):
    """Whatever the calendar: one or two digests per cycle, and none after E (if E > B)."""
    cycle = Cycle(anchor_day=anchor, timezone=TZ, grace_business_days=grace)
    now = start.replace(tzinfo=UTC)
    last_sent = None
    sent: dict[datetime, list[str]] = {}
    for _ in range(24 * 70):
        kind = digest_due(cycle.window(now), last_sent)
        if kind is not None:
            boundary = cycle.boundary(now)
            enforcement = cycle.enforcement_date(boundary)
            assert now < enforcement or enforcement == boundary
            sent.setdefault(boundary, []).append(kind)
            last_sent = now
        now += timedelta(hours=1)
    assert sent
    for kinds in sent.values():
        assert kinds in (["boundary"], ["boundary", "reminder"], ["reminder"])


# --- the digest's own header ---------------------------------------------------------------


def test_the_marker_proves_the_digest_is_ours_and_for_this_mailbox():
    ours = Referencer(b"k" * 32)
    marker = new_marker(ours, "Anna@exempel.se")
    assert is_our_digest(marker, ours, "anna@exempel.se")
    assert not is_our_digest(marker, ours, "bjorn@exempel.se")
    assert not is_our_digest(marker, Referencer(b"x" * 32), "anna@exempel.se")
    assert not is_our_digest(
        marker[:-1] + ("0" if marker[-1] != "0" else "1"), ours, "anna@exempel.se"
    )
    assert not is_our_digest("digest", ours, "anna@exempel.se")
    assert not is_our_digest(None, ours, "anna@exempel.se")
    assert new_marker(ours, "anna@exempel.se") != marker
