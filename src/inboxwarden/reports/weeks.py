"""ISO 8601 weeks in the organisation's time zone: what ``report --week 2026-W48`` names.

A week runs from Monday 00:00 to the next Monday 00:00 *local* time, so a week that
contains a DST change is 167 or 169 hours long, and a run at 00:30 on a Monday belongs
to the new week whatever UTC says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from inboxwarden.errors import ConfigError

__all__ = ["IsoWeek", "report_week"]

_WEEK = re.compile(r"^\s*(\d{4})-?W(\d{2})\s*$", re.IGNORECASE)


@dataclass(frozen=True, order=True, slots=True)
class IsoWeek:
    """One ISO week, e.g. ``2026-W48``; ordered, hashable, and printed the same way."""

    year: int
    week: int

    def __post_init__(self) -> None:
        """Reject week numbers the year does not have (only some years have a W53)."""
        try:
            date.fromisocalendar(self.year, self.week, 1)
        except ValueError as exc:
            raise ValueError(f"{self.year}-W{self.week:02d} is not an ISO week") from exc

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """``2026-W48`` (or ``2026W48``); anything else is a usage error naming the value."""
        match = _WEEK.match(text)
        if match is None:
            raise ConfigError(f"week {text!r}: expected an ISO week like 2026-W48")
        try:
            return cls(int(match.group(1)), int(match.group(2)))
        except ValueError as exc:
            raise ConfigError(f"week {text!r}: {exc}") from exc

    @classmethod
    def containing(cls, moment: datetime, tz: ZoneInfo) -> IsoWeek:
        """The week *moment* falls in, as a calendar in *tz* sees it."""
        year, week, _ = moment.astimezone(tz).isocalendar()
        return cls(year, week)

    def monday(self) -> date:
        """The week's first day."""
        return date.fromisocalendar(self.year, self.week, 1)

    def start(self, tz: ZoneInfo) -> datetime:
        """Monday 00:00 local time, the first instant of the week."""
        return _local_midnight(self.monday(), tz)

    def end(self, tz: ZoneInfo) -> datetime:
        """The next Monday 00:00 local time, the first instant after the week."""
        return _local_midnight(self.monday() + timedelta(days=7), tz)

    def shifted(self, weeks: int) -> IsoWeek:
        """The week *weeks* later (earlier when negative)."""
        year, week, _ = (self.monday() + timedelta(weeks=weeks)).isocalendar()
        return IsoWeek(year, week)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"


def report_week(now: datetime, tz: ZoneInfo) -> IsoWeek:
    """The week a report made at *now* covers: the last whole week, the one before now's."""
    return IsoWeek.containing(now, tz).shifted(-1)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """00:00 of *day* in *tz*, or the first instant of the day where midnight is skipped."""
    wall = datetime(day.year, day.month, day.day, tzinfo=tz)
    return wall.astimezone(UTC).astimezone(tz)
