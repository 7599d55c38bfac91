"""The pure side of incremental scans: when a scan's conclusion may be reused."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from inboxwarden.policy.cycle import Cycle
from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.people import Employee
from inboxwarden.policy.planning import Batch, MailboxPlan
from inboxwarden.policy.references import Referencer
from inboxwarden.policy.rules import Rule
from inboxwarden.policy.scan_marks import (
    Arrival,
    ScanMark,
    after_changes,
    describes,
    nothing_to_write,
    only_new_mail_that_is_not_due,
    settings_key,
    window_key,
)

TZ = ZoneInfo("Europe/Stockholm")
CYCLE = Cycle(timezone=TZ)
RULES = (Rule.model_validate({"name": "all", "action": "move", "target": "Arkiv", "basis": "b"}),)


def at(day: int, month: int = 11, hour: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=TZ)


def key(cycle: Cycle, now: datetime, rules: tuple[Rule, ...] = RULES) -> str:
    return window_key(cycle.window(now), cycle.min_age_days, rules)


def test_the_window_changes_only_when_a_boundary_or_an_enforcement_date_passes():
    grace = key(CYCLE, at(3))
    assert key(CYCLE, at(5, hour=23)) == grace
    enforcing = key(CYCLE, at(20))
    assert enforcing != grace  # the enforcement date (9 November) passed
    assert key(CYCLE, at(30, hour=23)) == enforcing
    assert key(CYCLE, at(1, month=12)) != enforcing  # a new boundary


def test_a_clock_bound_rule_or_minimum_age_makes_every_window_new():
    aged = Rule.model_validate(
        {
            "name": "old",
            "match": {"older_than": "30d"},
            "action": "move",
            "target": "Arkiv",
            "basis": "b",
        }
    )
    assert key(CYCLE, at(20), (aged,)) != key(CYCLE, at(20, hour=4), (aged,))
    strict = Cycle(timezone=TZ, min_age_days=30)
    assert key(strict, at(20)) != key(strict, at(20, hour=4))
    # A minimum age already met by everything before the boundary changes nothing.
    mild = Cycle(timezone=TZ, min_age_days=1)
    assert key(mild, at(20)) == key(mild, at(20, hour=4))


def test_the_settings_key_is_keyed_and_follows_the_employee():
    ref = Referencer(b"k" * 32)
    base = Employee("anna@exempel.se")

    def key_of(
        employee: Employee = base,
        settings: str = "{}",
        keywords: bool = True,
        mode: str = "enforce",
    ) -> str:
        return settings_key(
            ref,
            settings_json=settings,
            employee=employee,
            mode=mode,  # type: ignore[arg-type]
            keywords_allowed=keywords,
        )

    key = key_of()
    assert len(key) == 24 and "enforce" not in key
    assert key_of(Employee("anna@exempel.se", legal_hold=True)) != key
    assert key_of(Employee("anna@exempel.se", groups=("sales",))) != key
    assert key_of(mode="notify") != key
    assert key_of(keywords=False) != key
    assert key_of(settings='{"a":1}') != key
    other = Referencer(b"x" * 32)
    assert (
        settings_key(
            other, settings_json="{}", employee=base, mode="enforce", keywords_allowed=True
        )
        != key
    )


def test_a_mark_describes_only_the_same_folder_window_and_settings():
    mark = ScanMark(7, 100, 50, 40, "w", "s", due=3, overdue=1, held=0)
    same = {"uidvalidity": 7, "window": "w", "settings": "s"}
    assert describes(mark, **same)  # type: ignore[arg-type]
    for name, value in (("uidvalidity", 8), ("window", "v"), ("settings", "t")):
        assert not describes(mark, **{**same, name: value})  # type: ignore[arg-type]
    assert not describes(None, **same)  # type: ignore[arg-type]


def test_only_new_mail_that_is_not_due_leaves_the_conclusion_standing():
    mark = ScanMark(7, 100, 50, 40, "w", "s", due=3, overdue=1, held=0)
    fresh, old = at(20), at(1, month=10)

    def is_due(when: datetime) -> bool:
        return when < at(1)

    def stands(changed: dict[int, Arrival], exists: int = 42) -> bool:
        return only_new_mail_that_is_not_due(
            mark, exists=exists, changed=changed, is_due=is_due, keyword="$Due"
        )

    new = {50: Arrival(frozenset(), fresh), 51: Arrival(frozenset({"\\Seen"}), fresh)}
    assert stands(new)
    assert stands({}, exists=40)  # only flag changes that were undone: MODSEQ moved alone
    assert not stands(new, exists=41)  # an old message was expunged meanwhile
    assert not stands({**new, 49: Arrival(frozenset(), fresh)}, exists=43)  # an old one changed
    assert not stands({50: Arrival(frozenset(), old)}, exists=41)  # moved in: due
    assert not stands({50: Arrival(frozenset({"$Due"}), fresh)}, exists=41)  # our keyword


def test_nothing_to_write_means_no_flag_no_batch_and_nothing_to_forget():
    plan = MailboxPlan(Employee("a@exempel.se"), "enforce", inbox=5, due=2)
    assert nothing_to_write(plan)
    for change in (
        {"add_keyword": [1]},
        {"remove_flagged": [1]},
        {"forget": [9]},
        {"batches": [Batch("move", "r", "Arkiv", (1,))]},
    ):
        changed = MailboxPlan(plan.employee, "enforce", **change)  # type: ignore[arg-type]
        assert not nothing_to_write(changed)


def message(uid: int, *flags: str) -> MessageInfo:
    return MessageInfo(uid, at(1) - timedelta(days=uid), 100, frozenset(flags))


def test_after_changes_applies_expunges_and_new_flags_to_what_was_scanned():
    scanned = [message(1), message(2, "\\Seen"), message(3)]
    now = after_changes(scanned, lambda uid: uid == 3, {2: frozenset({"$Due", "\\Seen"})})
    assert now is not None
    assert [(m.uid, m.flags) for m in now] == [
        (1, frozenset()),
        (2, frozenset({"$Due", "\\Seen"})),
    ]


def test_after_changes_gives_up_when_something_unread_changed_or_arrived():
    assert after_changes([message(1)], lambda uid: False, {5: frozenset()}) is None
