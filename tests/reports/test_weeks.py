"""ISO weeks in the organisation's zone: parsing, boundaries across DST, the report's week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inboxwarden.errors import ConfigError
from inboxwarden.reports.weeks import IsoWeek, report_week

TZ = ZoneInfo("Europe/Stockholm")


def elapsed(start: datetime, end: datetime) -> timedelta:
    """Real time between two instants (same-zone subtraction gives wall-clock time)."""
    return end.astimezone(UTC) - start.astimezone(UTC)


@pytest.mark.parametrize("text", ["2026-W48", "2026W48", " 2026-w48 "])
def test_a_week_is_parsed_and_printed_the_iso_way(text):
    assert IsoWeek.parse(text) == IsoWeek(2026, 48)
    assert str(IsoWeek(2026, 48)) == "2026-W48"


@pytest.mark.parametrize("text", ["2026-48", "W48", "2025-W53", "2026-W00", "last week"])
def test_a_week_that_is_not_one_is_a_usage_error_naming_it(text):
    with pytest.raises(ConfigError, match="week"):
        IsoWeek.parse(text)


def test_a_year_with_53_weeks_has_a_w53():
    assert IsoWeek.parse("2026-W53").monday().isoformat() == "2026-12-28"


def test_a_week_runs_monday_to_monday_local_time_across_dst():
    spring = IsoWeek(2026, 13)  # DST starts Sunday 29 March 2026
    assert spring.start(TZ) == datetime(2026, 3, 23, tzinfo=TZ)
    assert spring.end(TZ) == datetime(2026, 3, 30, tzinfo=TZ)
    assert elapsed(spring.start(TZ), spring.end(TZ)) == timedelta(hours=167)
    autumn = IsoWeek(2026, 43)  # DST ends Sunday 25 October 2026
    assert elapsed(autumn.start(TZ), autumn.end(TZ)) == timedelta(hours=169)


def test_a_monday_shortly_after_midnight_local_is_the_new_week_whatever_utc_says():
    sunday_utc = datetime(2026, 11, 15, 23, 30, tzinfo=UTC)  # Monday 00:30 in Stockholm
    assert IsoWeek.containing(sunday_utc, TZ) == IsoWeek(2026, 47)
    assert IsoWeek.containing(sunday_utc, UTC) == IsoWeek(2026, 46)


def test_the_report_covers_the_last_whole_week():
    assert report_week(datetime(2026, 11, 16, 7, 0, tzinfo=TZ), TZ) == IsoWeek(2026, 46)
    assert report_week(datetime(2027, 1, 4, 7, 0, tzinfo=TZ), TZ) == IsoWeek(2026, 53)


@given(st.integers(-400, 400))
def test_shifting_weeks_is_consistent_with_the_calendar(offset):
    week = IsoWeek(2026, 48)
    moved = week.shifted(offset)
    assert (moved.monday() - week.monday()).days == 7 * offset
    assert moved.shifted(-offset) == week
    assert (moved < week) == (offset < 0)
