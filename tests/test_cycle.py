"""The monthly cycle (docs/behaviour.md §1): boundary, enforcement date, due and overdue."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inboxwarden.policy.cycle import Cycle, Window

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SANTIAGO = ZoneInfo("America/Santiago")  # DST starts at local midnight: 00:00 is skipped


def at(*args: int, tz: ZoneInfo = STOCKHOLM, fold: int = 0) -> datetime:
    """Return an aware datetime at local wall time `args` in `tz`."""
    return datetime(*args, tzinfo=tz, fold=fold)


def utc(value: datetime) -> datetime:
    """Return `value` in UTC, so comparisons and arithmetic never use wall time.

    Two datetimes with one tzinfo compare and subtract as wall times, ignoring DST.
    """
    return value.astimezone(UTC)


def business_days(cycle: Cycle, start: date, end: date) -> int:
    """Count business days in [start, end)."""
    count, day = 0, start
    while day < end:
        count += cycle.is_business_day(day)
        day += timedelta(days=1)
    return count


# -- examples: the calendar --------------------------------------------------------------


def test_boundary_is_latest_anchor_midnight_in_local_time():
    cycle = Cycle()
    boundary = cycle.boundary(at(2026, 11, 27, 12))
    assert boundary == at(2026, 11, 1)
    assert boundary.tzinfo is STOCKHOLM
    assert boundary.utcoffset() == timedelta(hours=1)
    assert cycle.next_boundary(at(2026, 11, 27, 12)) == at(2026, 12, 1)


def test_boundary_on_sunday_gives_five_whole_business_days_of_grace():
    """1 Nov 2026 is a Sunday: grace is Mon 2 – Fri 6, enforcement Monday 9 Nov."""
    cycle = Cycle()
    boundary = at(2026, 11, 1)
    assert cycle.enforcement_date(boundary) == at(2026, 11, 9)
    assert cycle.reminder_date(boundary) == at(2026, 11, 6)


def test_boundary_on_business_day_counts_that_day_as_grace():
    """1 Jun 2026 is a Monday; National Day (6 Jun) falls on a Saturday."""
    cycle = Cycle()
    assert cycle.enforcement_date(at(2026, 6, 1)) == at(2026, 6, 8)
    assert cycle.reminder_date(at(2026, 6, 1)) == at(2026, 6, 5)


def test_easter_holidays_are_skipped():
    """Good Friday 3 Apr and Easter Monday 6 Apr 2026: grace is 1, 2, 7, 8, 9 April."""
    cycle = Cycle()
    assert cycle.enforcement_date(at(2026, 4, 1)) == at(2026, 4, 10)
    assert cycle.reminder_date(at(2026, 4, 1)) == at(2026, 4, 9)


def test_christmas_crossing_skips_christmas_day_and_new_years_day():
    """Anchor 24: grace is 24, 28, 29, 30, 31 Dec; 25 Dec and 1 Jan are holidays."""
    cycle = Cycle(anchor_day=24)
    assert cycle.enforcement_date(at(2026, 12, 24)) == at(2027, 1, 4)
    assert cycle.reminder_date(at(2026, 12, 24)) == at(2026, 12, 31)


def test_new_year_boundary_skips_epiphany():
    """1 Jan 2027 is a holiday (Friday); 6 Jan (Wednesday) is Epiphany."""
    cycle = Cycle()
    assert cycle.enforcement_date(at(2027, 1, 1)) == at(2027, 1, 12)


def test_ascension_day_is_skipped():
    cycle = Cycle(anchor_day=11)
    assert cycle.enforcement_date(at(2026, 5, 11)) == at(2026, 5, 19)


def test_may_day_boundary_is_not_a_grace_day():
    cycle = Cycle()
    assert cycle.enforcement_date(at(2026, 5, 1)) == at(2026, 5, 11)


def test_midsummer_eve_is_a_business_day_because_only_public_holidays_count():
    """Midsummer Eve (Fri 19 Jun 2026) is a *de facto* holiday, not a public one."""
    cycle = Cycle(anchor_day=17)
    assert cycle.is_business_day(date(2026, 6, 19))
    assert not cycle.is_business_day(date(2026, 6, 20))
    assert cycle.enforcement_date(at(2026, 6, 17)) == at(2026, 6, 24)


def test_empty_holidays_means_weekends_only():
    cycle = Cycle(anchor_day=24, holidays="")
    assert cycle.is_business_day(date(2026, 12, 25))
    assert cycle.enforcement_date(at(2026, 12, 24)) == at(2026, 12, 31)


def test_zero_grace_enforces_at_the_boundary_and_sends_one_digest():
    cycle = Cycle(grace_business_days=0)
    assert cycle.enforcement_date(at(2026, 6, 1)) == at(2026, 6, 1)
    assert cycle.reminder_date(at(2026, 6, 1)) == at(2026, 6, 1)


def test_zero_grace_on_a_sunday_enforces_on_the_next_business_day():
    cycle = Cycle(grace_business_days=0)
    assert cycle.enforcement_date(at(2026, 11, 1)) == at(2026, 11, 2)
    assert cycle.reminder_date(at(2026, 11, 1)) == at(2026, 11, 1)


def test_one_day_grace_reminder_coincides_with_a_business_day_boundary():
    cycle = Cycle(grace_business_days=1)
    assert cycle.enforcement_date(at(2026, 6, 1)) == at(2026, 6, 2)
    assert cycle.reminder_date(at(2026, 6, 1)) == at(2026, 6, 1)
    assert cycle.enforcement_date(at(2026, 11, 1)) == at(2026, 11, 3)
    assert cycle.reminder_date(at(2026, 11, 1)) == at(2026, 11, 2)


@pytest.mark.parametrize("anchor_day", range(1, 29))
def test_every_anchor_day_gives_a_boundary_on_that_day(anchor_day):
    cycle = Cycle(anchor_day=anchor_day)
    for month in range(1, 13):
        now = at(2027, month, 28, 23, 59)
        boundary = cycle.boundary(now)
        assert (boundary.year, boundary.month, boundary.day) == (2027, month, anchor_day)
        assert (boundary.hour, boundary.minute) == (0, 0)


def test_leap_day_and_february_end():
    cycle = Cycle(anchor_day=28)
    assert cycle.boundary(at(2028, 2, 29, 12)) == at(2028, 2, 28)
    assert cycle.boundary(at(2028, 2, 27, 12)) == at(2028, 1, 28)
    assert cycle.next_boundary(at(2028, 2, 29, 12)) == at(2028, 3, 28)
    assert cycle.boundary(at(2026, 3, 1)) == at(2026, 2, 28)


def test_boundary_before_the_anchor_in_january_is_in_december():
    cycle = Cycle(anchor_day=5)
    assert cycle.boundary(at(2027, 1, 3)) == at(2026, 12, 5)
    assert cycle.next_boundary(at(2026, 12, 31, 23, 59)) == at(2027, 1, 5)


def test_boundary_follows_the_local_date_not_the_utc_date():
    cycle = Cycle()
    # 23:30 UTC on 31 Oct is 00:30 on 1 Nov in Stockholm (CET).
    assert cycle.boundary(datetime(2026, 10, 31, 23, 30, tzinfo=UTC)) == at(2026, 11, 1)
    assert cycle.boundary(datetime(2026, 10, 31, 22, 59, tzinfo=UTC)) == at(2026, 10, 1)
    # 22:30 UTC on 31 Mar is 00:30 on 1 Apr in Stockholm (CEST).
    assert cycle.boundary(datetime(2026, 3, 31, 22, 30, tzinfo=UTC)) == at(2026, 4, 1)


# -- examples: DST -----------------------------------------------------------------------


def test_boundary_on_spring_dst_day_is_midnight_cet():
    """Stockholm moves to CEST at 02:00 on Sun 28 Mar 2027; midnight is still CET."""
    cycle = Cycle(anchor_day=28)
    now = at(2027, 3, 28, 12)
    boundary = cycle.boundary(now)
    assert boundary == datetime(2027, 3, 27, 23, tzinfo=UTC)
    assert boundary.utcoffset() == timedelta(hours=1)
    assert cycle.next_boundary(now) == datetime(2027, 4, 27, 22, tzinfo=UTC)
    assert cycle.is_due(at(2027, 3, 27, 23, 30), now)
    assert not cycle.is_due(at(2027, 3, 28, 0, 30), now)
    assert not cycle.is_due(at(2027, 3, 28, 3, 30), now)


def test_autumn_dst_repeated_hour_arrivals_are_after_the_boundary():
    """02:00–03:00 on Sun 25 Oct 2026 happens twice; both are after that day's 00:00."""
    cycle = Cycle(anchor_day=25)
    now = at(2026, 10, 26, 9)
    assert cycle.boundary(now) == datetime(2026, 10, 24, 22, tzinfo=UTC)
    for fold in (0, 1):
        assert not cycle.is_due(at(2026, 10, 25, 2, 30, fold=fold), now)
    assert cycle.is_due(at(2026, 10, 24, 23, 59, 59), now)


def test_now_in_the_repeated_hour_sees_the_same_boundary():
    cycle = Cycle(anchor_day=25)
    first = cycle.window(at(2026, 10, 25, 2, 30, fold=0))
    second = cycle.window(at(2026, 10, 25, 2, 30, fold=1))
    assert first.boundary == second.boundary == at(2026, 10, 25)
    assert utc(second.now) - utc(first.now) == timedelta(hours=1)


def test_min_age_counts_elapsed_time_across_a_dst_change():
    """The spring day has 23 hours: one day of age is 24 hours, not one wall day."""
    cycle = Cycle(anchor_day=28, min_age_days=1)
    arrival = at(2027, 3, 27, 12)  # CET, 11:00 UTC
    assert not cycle.is_due(arrival, at(2027, 3, 28, 12))  # CEST: only 23 hours later
    assert cycle.is_due(arrival, at(2027, 3, 28, 13))
    assert not cycle.is_due(arrival, at(2027, 3, 28, 13) - timedelta(microseconds=1))


def test_min_age_tells_the_two_repeated_hours_apart():
    """02:30 happens twice on 25 Oct 2026; the second is an hour later, so older messages."""
    cycle = Cycle(anchor_day=25, min_age_days=1)
    arrival = at(2026, 10, 24, 2, 50)  # CEST, 00:50 UTC
    first, second = at(2026, 10, 25, 2, 30, fold=0), at(2026, 10, 25, 2, 30, fold=1)
    assert not cycle.is_due(arrival, first)  # 23 h 40 min old
    assert cycle.is_due(arrival, second)  # 24 h 40 min old
    assert cycle.window(first) is not cycle.window(second)


def test_skipped_local_midnight_puts_the_boundary_at_the_first_instant_of_the_day():
    """Santiago jumps from 00:00 to 01:00 on 8 Sep 2024."""
    cycle = Cycle(anchor_day=8, timezone=SANTIAGO, holidays="")
    boundary = cycle.boundary(at(2024, 9, 8, 12, tz=SANTIAGO))
    assert boundary == datetime(2024, 9, 8, 4, tzinfo=UTC)
    assert (boundary.hour, boundary.utcoffset()) == (1, timedelta(hours=-3))


def test_walking_back_over_a_skipped_midnight_finds_the_previous_boundary():
    """Sun 4 Sep 2033 starts at 01:00 in Santiago; its grace has not passed at noon."""
    cycle = Cycle(anchor_day=4, timezone=SANTIAGO, holidays="")
    window = cycle.window(at(2033, 9, 4, 12, tz=SANTIAGO))
    assert window.boundary == datetime(2033, 9, 4, 4, tzinfo=UTC)
    assert not window.enforcing
    assert window.overdue_before == at(2033, 8, 4, tz=SANTIAGO)
    arrival_before_gap = utc(window.boundary) - timedelta(microseconds=1)
    assert cycle.is_due(arrival_before_gap, window.now)
    assert not cycle.is_overdue(arrival_before_gap, window.now)


# -- examples: due and overdue -----------------------------------------------------------


def test_message_arriving_exactly_at_the_boundary_is_not_due():
    cycle = Cycle()
    now = at(2026, 11, 27, 12)
    assert not cycle.is_due(at(2026, 11, 1), now)
    assert cycle.is_due(at(2026, 11, 1) - timedelta(microseconds=1), now)


def test_min_age_keeps_a_young_message_from_being_due():
    cycle = Cycle(min_age_days=3)
    arrival = at(2026, 10, 31, 23)
    assert not cycle.is_due(arrival, at(2026, 11, 2))
    assert cycle.is_due(arrival, arrival + timedelta(days=3))
    assert not cycle.is_due(arrival, arrival + timedelta(days=3, microseconds=-1))


def test_due_message_is_overdue_from_the_enforcement_date():
    cycle = Cycle()
    arrival = at(2026, 10, 20)
    assert not cycle.is_overdue(arrival, at(2026, 11, 9) - timedelta(microseconds=1))
    assert cycle.is_overdue(arrival, at(2026, 11, 9))
    assert not cycle.is_overdue(at(2026, 11, 2), at(2026, 11, 20))


def test_message_overdue_last_month_stays_overdue_during_this_months_grace():
    """Its enforcement date is that of the first boundary after it arrived."""
    cycle = Cycle()
    now = at(2026, 12, 2, 10)  # grace of the 1 Dec boundary runs until 8 Dec
    window = cycle.window(now)
    assert not window.enforcing
    assert window.overdue_before == at(2026, 11, 1)
    assert cycle.is_overdue(at(2026, 9, 15), now)
    assert cycle.is_overdue(at(2026, 10, 31, 23, 59), now)
    assert not cycle.is_overdue(at(2026, 11, 15), now)
    assert cycle.is_due(at(2026, 11, 15), now)


def test_overdue_with_min_age_requires_due():
    cycle = Cycle(grace_business_days=0, min_age_days=10)
    now = at(2026, 6, 3)
    assert not cycle.is_overdue(at(2026, 5, 31), now)  # only 3 days old
    assert cycle.is_overdue(at(2026, 5, 20), now)


def test_window_collects_the_cycle_as_seen_at_now():
    cycle = Cycle()
    window = cycle.window(datetime(2026, 11, 27, 11, tzinfo=UTC))
    assert window == Window(
        now=at(2026, 11, 27, 12),
        boundary=at(2026, 11, 1),
        next_boundary=at(2026, 12, 1),
        enforcement_date=at(2026, 11, 9),
        reminder_date=at(2026, 11, 6),
        search_before=date(2026, 11, 3),
        enforcing=True,
        overdue_before=at(2026, 11, 1),
        _due_limit=datetime(2026, 10, 31, 23, tzinfo=UTC),
        _due_inclusive=False,
        _overdue_limit=datetime(2026, 10, 31, 23, tzinfo=UTC),
        _overdue_inclusive=False,
    )
    assert window.now.tzinfo is STOCKHOLM


def test_window_is_cached_per_now():
    cycle = Cycle()
    assert cycle.window(at(2026, 11, 27, 12)) is cycle.window(at(2026, 11, 27, 12))


def test_search_before_is_two_days_after_the_boundary_date():
    assert Cycle().search_before(at(2026, 11, 27, 12)) == date(2026, 11, 3)


def test_overdue_check_is_cheap_enough_for_fifty_thousand_messages():
    cycle = Cycle()
    now = at(2026, 11, 27, 12)
    arrivals = [now - timedelta(hours=7 * i) for i in range(50_000)]
    cycle.is_overdue(arrivals[0], now)
    start = time.perf_counter()
    for arrival in arrivals:
        cycle.is_overdue(arrival, now)
    elapsed = time.perf_counter() - start
    # ~45 ms on a developer machine (~10 ms for UTC arrivals); generous for a busy CI.
    assert elapsed < 1.0


# -- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"anchor_day": 0},
        {"anchor_day": 29},
        {"anchor_day": True},
        {"anchor_day": "1"},
        {"grace_business_days": -1},
        {"min_age_days": -1},
        {"holidays": "XX"},
        {"timezone": "Europe/Stockholm"},
    ],
)
def test_invalid_settings_are_rejected(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        Cycle(**kwargs)


def test_naive_datetimes_are_rejected():
    cycle = Cycle()
    naive = datetime(2026, 11, 27, 12)
    aware = at(2026, 11, 27, 12)
    with pytest.raises(ValueError, match="now must be an aware"):
        cycle.boundary(naive)
    with pytest.raises(ValueError, match="now must be an aware"):
        cycle.window(naive)
    with pytest.raises(ValueError, match="now must be an aware"):
        cycle.is_due(aware, naive)
    with pytest.raises(ValueError, match="arrival must be an aware"):
        cycle.is_due(naive, aware)
    with pytest.raises(ValueError, match="arrival must be an aware"):
        cycle.is_overdue(naive, aware)
    with pytest.raises(ValueError, match="boundary must be an aware"):
        cycle.enforcement_date(naive)
    with pytest.raises(ValueError, match="boundary must be an aware"):
        cycle.reminder_date(naive)


def test_business_day_of_a_datetime_is_a_type_error():
    with pytest.raises(TypeError, match="takes a date"):
        Cycle().is_business_day(at(2026, 12, 25))


def test_non_datetime_arrival_is_a_type_error():
    with pytest.raises(TypeError):
        Cycle().is_due(date(2026, 1, 1), at(2026, 11, 27))  # type: ignore[arg-type]


# -- properties --------------------------------------------------------------------------

CYCLE_ZONES = [
    "Europe/Stockholm",
    "UTC",
    "America/Santiago",  # DST at local midnight
    "America/Sao_Paulo",  # historically DST at local midnight
    "America/St_Johns",  # half-hour offset
    "Asia/Kathmandu",  # quarter-hour offset
    "Australia/Lord_Howe",  # half-hour DST
    "Pacific/Kiritimati",  # UTC+14
    "Etc/GMT+12",  # UTC-12
]

cycles = st.builds(
    Cycle,
    anchor_day=st.integers(1, 28),
    timezone=st.sampled_from(CYCLE_ZONES).map(ZoneInfo),
    grace_business_days=st.integers(0, 25),
    holidays=st.sampled_from(["SE", ""]),
    min_age_days=st.integers(0, 40),
)
instants = st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(2099, 12, 1),
    timezones=st.timezones(),
    allow_imaginary=False,
)
offsets = st.integers(-12 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))


@given(cycle=cycles, now=instants)
def test_boundary_is_at_or_before_now_and_the_next_is_after(cycle, now):
    assert utc(cycle.boundary(now)) <= utc(now) < utc(cycle.next_boundary(now))


@given(cycle=cycles, now=instants)
def test_boundary_is_the_first_instant_of_the_anchor_day(cycle, now):
    for boundary in (cycle.boundary(now), cycle.next_boundary(now)):
        local = boundary.astimezone(cycle.timezone)
        assert local.day == cycle.anchor_day
        before = (utc(boundary) - timedelta(microseconds=1)).astimezone(cycle.timezone)
        assert before.date() < local.date()


@given(cycle=cycles, now=instants)
def test_next_boundary_is_one_month_later(cycle, now):
    boundary = cycle.boundary(now).date()
    following = cycle.next_boundary(now).date()
    assert (following.year * 12 + following.month) - (boundary.year * 12 + boundary.month) == 1
    assert cycle.boundary(cycle.next_boundary(now)) == cycle.next_boundary(now)


@given(cycle=cycles, now=instants)
def test_enforcement_date_follows_exactly_the_grace_business_days(cycle, now):
    boundary = cycle.boundary(now)
    enforcement = cycle.enforcement_date(boundary)
    day = enforcement.astimezone(cycle.timezone).date()
    assert cycle.is_business_day(day)
    assert utc(enforcement) >= utc(boundary)
    if cycle.grace_business_days:
        assert utc(enforcement) > utc(boundary)
    assert business_days(cycle, boundary.date(), day) == cycle.grace_business_days
    before = (utc(enforcement) - timedelta(microseconds=1)).astimezone(cycle.timezone)
    assert before.date() < day


@given(cycle=cycles, now=instants)
def test_reminder_is_the_last_grace_day_or_the_boundary(cycle, now):
    boundary = cycle.boundary(now)
    enforcement = cycle.enforcement_date(boundary)
    reminder = cycle.reminder_date(boundary)
    assert utc(boundary) <= utc(reminder) <= utc(enforcement)
    if reminder != boundary:
        day = reminder.date()
        assert cycle.is_business_day(day)
        assert business_days(cycle, day + timedelta(days=1), enforcement.date()) == 0


@given(cycle=cycles, now=instants, data=st.data())
def test_due_is_monotone_in_arrival(cycle, now, data):
    earlier, later = data.draw(instants), data.draw(instants)
    if utc(later) < utc(earlier):
        earlier, later = later, earlier
    if cycle.is_due(later, now):
        assert cycle.is_due(earlier, now)
    if cycle.is_overdue(later, now):
        assert cycle.is_overdue(earlier, now)


@given(cycle=cycles, now=instants, age=st.timedeltas(timedelta(0), timedelta(days=800)))
def test_due_and_overdue_match_their_definitions(cycle, now, age):
    arrival = utc(now) - age
    boundary = cycle.boundary(now)
    due = utc(arrival) < utc(boundary) and utc(now) - utc(arrival) >= timedelta(
        days=cycle.min_age_days
    )
    assert cycle.is_due(arrival, now) == due
    first_boundary_after = cycle.next_boundary(arrival)
    overdue = due and utc(cycle.enforcement_date(first_boundary_after)) <= utc(now)
    assert cycle.is_overdue(arrival, now) == overdue
    if due and utc(now) >= utc(cycle.enforcement_date(boundary)):
        assert cycle.is_overdue(arrival, now)


@given(cycle=cycles.map(lambda c: Cycle(c.anchor_day, c.timezone, 5, c.holidays)), now=instants)
def test_arrival_at_the_boundary_is_not_due_and_a_microsecond_before_is(cycle, now):
    boundary = cycle.boundary(now)
    assert not cycle.is_due(boundary, now)
    assert cycle.is_due(utc(boundary) - timedelta(microseconds=1), now)


@given(
    cycle=cycles,
    now=instants,
    before=st.timedeltas(timedelta(microseconds=1), timedelta(days=62)),
    server=offsets,
)
def test_search_before_never_excludes_a_due_message(cycle, now, before, server):
    arrival = utc(cycle.boundary(now)) - before
    assert arrival.astimezone(server).date() < cycle.search_before(now)


@given(cycle=cycles, now=instants, server=offsets)
def test_search_before_keeps_the_latest_due_instant(cycle, now, server):
    latest = utc(cycle.boundary(now)) - timedelta(microseconds=1)
    assert latest.astimezone(server).date() < cycle.search_before(now)


@given(cycle=cycles, now=instants, other=st.timezones())
@settings(max_examples=50)
def test_window_does_not_depend_on_the_zone_now_is_given_in(cycle, now, other):
    window = cycle.window(now)
    assert window == cycle.window(now.astimezone(other))
    assert window.boundary == cycle.boundary(now)
    assert window.next_boundary == cycle.next_boundary(now)
    assert window.enforcement_date == cycle.enforcement_date(window.boundary)
    assert window.reminder_date == cycle.reminder_date(window.boundary)
    assert window.search_before == cycle.search_before(now)
    assert window.enforcing == (utc(now) >= utc(window.enforcement_date))
