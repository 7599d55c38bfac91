"""The monthly cycle: when a message becomes due, and when overdue (docs/behaviour.md §1).

Everything here is a pure function of a `Cycle` and a `now` that the caller passes in:
no clock, no I/O. That keeps the rule that the whole product enforces in one readable
place, and lets the tests pin it down with fixed datetimes and property tests.

Time line of one cycle (grace of 5 business days, anchor on the 1st)::

    B = boundary          reminder       E = enforcement date        next boundary
    00:00 local ──────────── 00:00 ───────── 00:00 ───────────────── 00:00 local
    |<- 5 whole business days of grace  ->|<- rules act on overdue ->|

Every instant is compared in UTC (aware datetimes of different zones compare by
their UTC value), never as local wall time: two datetimes that share a ``tzinfo``
compare on wall time and ignore ``fold``, which is wrong across a DST change.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import MINYEAR, UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from inboxwarden.policy.public_holidays import UnknownCountry, public_holidays

__all__ = ["DEFAULT_TIMEZONE", "Cycle", "Window"]

DEFAULT_TIMEZONE = ZoneInfo("Europe/Stockholm")

_ONE_DAY = timedelta(days=1)
_ONE_MICROSECOND = timedelta(microseconds=1)
_NEVER = datetime.min.replace(tzinfo=UTC)  # no arrival is before it: nothing is overdue
_WEEKEND = frozenset({5, 6})  # date.weekday(): Saturday, Sunday


@dataclass(frozen=True, slots=True)
class Window:
    """The cycle as seen at one instant: its boundary, deadlines and tests for messages.

    A `Window` is computed once per run (`Cycle.window`) and passed down to the scan,
    the plan and the digest, so that deciding about tens of thousands of messages costs
    one datetime comparison each.
    """

    now: datetime
    """The instant this window describes, in the cycle's time zone."""
    boundary: datetime
    """``B(now)``: messages that arrived before it are due."""
    next_boundary: datetime
    """The boundary that starts the next cycle."""
    enforcement_date: datetime
    """``E(B)``: from then on the due messages of this cycle are overdue."""
    reminder_date: datetime
    """When the second digest goes out; equal to `boundary` when there is only one."""
    search_before: date
    """The date for IMAP ``SEARCH BEFORE`` that finds every due message (coarsely)."""
    enforcing: bool
    """Whether ``now`` is at or after this cycle's enforcement date."""
    overdue_before: datetime | None
    """The latest boundary whose enforcement date has passed; ``None`` if none has."""

    # Each test is one comparison against a precomputed UTC limit: is_due/is_overdue
    # are called for every message of every mailbox. Against an arrival that is in UTC
    # too, that is a plain wall-time comparison (~20 ns instead of ~700 ns).
    _due_limit: datetime = field(repr=False, compare=False)
    _due_inclusive: bool = field(repr=False, compare=False)
    _overdue_limit: datetime = field(repr=False, compare=False)
    _overdue_inclusive: bool = field(repr=False, compare=False)

    @property
    def timezone(self) -> ZoneInfo:
        """The cycle's time zone, in which `now` and the boundaries are given."""
        zone = self.now.tzinfo
        assert isinstance(zone, ZoneInfo)  # _window converts now to the cycle's zone
        return zone

    def is_due(self, arrival: datetime) -> bool:
        """Tell whether a message that arrived at `arrival` is due (docs/behaviour.md §1).

        Due means it arrived before the boundary and is at least ``min_age_days`` old
        (24-hour days of elapsed time, not calendar days).
        """
        try:
            if self._due_inclusive:
                return arrival <= self._due_limit
            return arrival < self._due_limit
        except TypeError as exc:
            raise _naive_error(arrival, exc) from exc

    def is_overdue(self, arrival: datetime) -> bool:
        """Tell whether a due message that arrived at `arrival` is overdue.

        A message is overdue once the enforcement date of the first boundary after
        its arrival has passed. Measuring from that boundary, rather than from the
        current one, keeps a message that was overdue last month overdue during this
        month's grace days, so compliance figures don't reset every month.
        """
        try:
            if self._overdue_inclusive:
                return arrival <= self._overdue_limit
            return arrival < self._overdue_limit
        except TypeError as exc:
            raise _naive_error(arrival, exc) from exc


@dataclass(frozen=True, slots=True)
class Cycle:
    """The monthly inbox rule's calendar: boundary, grace in business days, minimum age.

    The boundary ``B(t)`` is the latest ``anchor_day`` 00:00 local time at or before
    ``t``. Where a time zone skips local midnight (a DST change at 00:00), the boundary
    is the first instant of that local day.

    The enforcement date ``E(B)`` gives the employee ``grace_business_days`` whole
    business days from the boundary: it is 00:00 of the first business day after them,
    so there are exactly ``grace_business_days`` business days in ``[B.date, E.date)``
    and E itself is a business day. A boundary on a Sunday therefore does not eat a
    day of grace. With a grace of 0, E is the first business day at or after B.

    A message is *due* once it arrived before the boundary and is ``min_age_days``
    old, and *overdue* once the enforcement date of the first boundary after its
    arrival has passed (see `Window.is_overdue`).

    `holidays` is a country code for the ``holidays`` package (public holidays only:
    the Swedish *de facto* days off — Midsummer Eve, Christmas Eve, New Year's Eve —
    are business days); ``""`` means weekends only. The package knows Swedish holidays
    for 1953–2100 only and silently has none outside that range.
    """

    anchor_day: int = 1
    timezone: ZoneInfo = DEFAULT_TIMEZONE
    grace_business_days: int = 5
    holidays: str = "SE"
    min_age_days: int = 0

    def __post_init__(self) -> None:
        """Reject values that would make the calendar meaningless, at construction."""
        if not _is_int(self.anchor_day) or not 1 <= self.anchor_day <= 28:
            # 28 keeps every month's anchor day real; "the 31st" would need a policy.
            raise ValueError(f"anchor_day must be an integer 1..28, not {self.anchor_day!r}")
        if not isinstance(self.timezone, ZoneInfo):
            raise ValueError(f"timezone must be a zoneinfo.ZoneInfo, not {self.timezone!r}")
        if not _is_int(self.grace_business_days) or self.grace_business_days < 0:
            raise ValueError(
                f"grace_business_days must be an integer >= 0, not {self.grace_business_days!r}"
            )
        if not _is_int(self.min_age_days) or self.min_age_days < 0:
            raise ValueError(f"min_age_days must be an integer >= 0, not {self.min_age_days!r}")
        if self.holidays:
            try:
                _holiday_dates(self.holidays, 2000)
            except UnknownCountry as exc:
                raise ValueError(
                    f"holidays: {self.holidays!r} is not a country code that the"
                    " holidays package knows (e.g. 'SE'); use '' for weekends only"
                ) from exc

    # -- the calendar ------------------------------------------------------------------

    def boundary(self, now: datetime) -> datetime:
        """Return ``B(now)``, the latest anchor-day midnight at or before `now`, local."""
        _require_aware(now, "now")
        local = now.astimezone(self.timezone)
        year, month = local.year, local.month
        if local.day < self.anchor_day:
            year, month = _previous_month(year, month)
        # now.astimezone() never yields a skipped wall time, so a local date on or
        # after the anchor day means its first instant is at or before now.
        return _local_midnight(date(year, month, self.anchor_day), self.timezone)

    def next_boundary(self, now: datetime) -> datetime:
        """Return the first boundary strictly after `now`."""
        current = self.boundary(now).date()
        year, month = _next_month(current.year, current.month)
        return _local_midnight(date(year, month, self.anchor_day), self.timezone)

    def enforcement_date(self, boundary: datetime) -> datetime:
        """Return ``E``: 00:00 local of the first business day after the grace days.

        The grace days are counted from the local date of `boundary`, which counts
        itself when it is a business day (the boundary is at its very start).
        """
        _require_aware(boundary, "boundary")
        return _local_midnight(self._enforcement_day(boundary), self.timezone)

    def reminder_date(self, boundary: datetime) -> datetime:
        """Return when the reminder digest is due: one business day before ``E``.

        That is 00:00 of the last grace day, so the reminder arrives while there is a
        working day left to act on it. With a grace of 0 — or of 1 when the boundary
        falls on a business day — that day would be at or before the boundary; the
        reminder then coincides with the boundary, and the digest scheduler should
        send a single digest.
        """
        _require_aware(boundary, "boundary")
        enforcement_day = self._enforcement_day(boundary)
        day = enforcement_day - _ONE_DAY
        while not self.is_business_day(day):
            day -= _ONE_DAY
        start = self.boundary(boundary)
        reminder = _local_midnight(day, self.timezone)
        return reminder if reminder.astimezone(UTC) >= start.astimezone(UTC) else start

    def is_business_day(self, day: date) -> bool:
        """Tell whether `day` is neither a Saturday, a Sunday nor a public holiday."""
        if isinstance(day, datetime):
            # A datetime never equals a holiday's date, and its day depends on a zone.
            raise TypeError(f"is_business_day takes a date, not a datetime: {day!r}")
        if day.weekday() in _WEEKEND:
            return False
        return not self.holidays or day not in _holiday_dates(self.holidays, day.year)

    def search_before(self, now: datetime) -> date:
        """Return the date for IMAP ``SEARCH BEFORE`` that never misses a due message.

        ``SEARCH BEFORE`` compares only the date of INTERNALDATE, and in the server's
        notion of a day (RFC 3501 §6.4.4: "disregarding time and timezone"), which may
        be another zone than ours. A message due at ``now`` arrived before ``B``; in
        any zone from UTC-12 to UTC+14 that instant falls at most one day after B's
        local date. The day after B's local date would be enough for a server in our
        own zone, so one more day covers every other zone: B's date + 2 days. The
        search is only a coarse pre-filter; `Window.is_due` decides on the fetched
        INTERNALDATE exactly.
        """
        return self.boundary(now).date() + 2 * _ONE_DAY

    # -- deciding about messages -------------------------------------------------------

    def window(self, now: datetime) -> Window:
        """Return the cycle as seen at `now`; compute it once per run and pass it down."""
        _require_aware(now, "now")
        # Keyed in UTC: equal wall times in one zone compare and hash as equal even
        # an hour apart in the repeated hour of a DST change (fold is ignored).
        return _window(self, now.astimezone(UTC))

    def is_due(self, arrival: datetime, now: datetime) -> bool:
        """Tell whether `arrival` is before ``B(now)`` and at least ``min_age_days`` old.

        For one question; code that asks about many messages uses one `Window`.
        """
        return self.window(now).is_due(arrival)

    def is_overdue(self, arrival: datetime, now: datetime) -> bool:
        """Tell whether a message is due and its cycle's enforcement date has passed.

        See `Window.is_overdue` for which enforcement date counts.
        """
        return self.window(now).is_overdue(arrival)

    # -- helpers -----------------------------------------------------------------------

    def _enforcement_day(self, boundary: datetime) -> date:
        return _enforcement_day(self, boundary.astimezone(self.timezone).date())


# -- module-level memos of pure functions (Cycle is frozen, slotted and hashable) ------


@functools.lru_cache(maxsize=512)
def _holiday_dates(country: str, year: int) -> frozenset[date]:
    """Return the public holidays of `country` in `year` as a plain set.

    A frozenset lookup is several times cheaper than ``date in HolidayBase``, which
    converts its key and may expand the object with another year on every miss.
    """
    return public_holidays(country, year)


@functools.lru_cache(maxsize=1024)
def _enforcement_day(cycle: Cycle, boundary_day: date) -> date:
    day = boundary_day
    counted = 0
    while True:
        if cycle.is_business_day(day):
            if counted == cycle.grace_business_days:
                return day
            counted += 1
        day += _ONE_DAY


@functools.lru_cache(maxsize=64)
def _window(cycle: Cycle, now_utc: datetime) -> Window:
    now = now_utc
    boundary = cycle.boundary(now)
    enforcement = cycle.enforcement_date(boundary)

    age_cutoff = now_utc - timedelta(days=cycle.min_age_days)
    boundary_utc = boundary.astimezone(UTC)
    # due <=> arrival < B and arrival <= now - min_age: whichever limit is tighter.
    due_limit, due_inclusive = _tighter(boundary_utc, age_cutoff)

    overdue_before = _latest_enforced_boundary(cycle, boundary, now_utc)
    if overdue_before is None:
        overdue_limit, overdue_inclusive = _NEVER, False
    else:
        # overdue <=> due and arrival < that boundary (which is at or before B).
        overdue_limit, overdue_inclusive = _tighter(overdue_before.astimezone(UTC), age_cutoff)

    return Window(
        now=now.astimezone(cycle.timezone),
        boundary=boundary,
        next_boundary=cycle.next_boundary(now),
        enforcement_date=enforcement,
        reminder_date=cycle.reminder_date(boundary),
        search_before=cycle.search_before(now),
        enforcing=now_utc >= enforcement.astimezone(UTC),
        overdue_before=overdue_before,
        _due_limit=due_limit,
        _due_inclusive=due_inclusive,
        _overdue_limit=overdue_limit,
        _overdue_inclusive=overdue_inclusive,
    )


def _latest_enforced_boundary(
    cycle: Cycle, boundary: datetime, now_utc: datetime
) -> datetime | None:
    """Return the latest boundary at or before `boundary` whose E is at or before now.

    E is monotone in B, so walking back month by month finds it: usually `boundary`
    itself or the one before. ``None`` only when the walk reaches year 1.
    """
    candidate = boundary
    while cycle.enforcement_date(candidate).astimezone(UTC) > now_utc:
        if candidate.year == MINYEAR and candidate.month == 1:
            return None
        # Step back in UTC: wall-time arithmetic on a boundary after a skipped
        # midnight (01:00) lands in the gap, which reads as the same day again.
        candidate = cycle.boundary(candidate.astimezone(UTC) - _ONE_MICROSECOND)
    return candidate


def _tighter(before: datetime, at_or_before: datetime) -> tuple[datetime, bool]:
    """Fold ``x < before and x <= at_or_before`` into one limit and its inclusiveness."""
    if at_or_before < before:
        return at_or_before, True
    return before, False


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """Return the first instant of local `day` in `tz`, as an aware datetime in `tz`.

    Attaching the zone to the wall time 00:00 (fold=0) and normalising through UTC
    turns a skipped midnight (DST starting at 00:00, e.g. America/Santiago) into the
    first wall time that exists, and picks the earlier of a repeated midnight.
    """
    wall = datetime(day.year, day.month, day.day, tzinfo=tz)
    return wall.astimezone(UTC).astimezone(tz)


def _previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _naive_error(value: object, exc: TypeError) -> Exception:
    """Turn the TypeError of comparing naive with aware into a ValueError that says so."""
    if isinstance(value, datetime) and value.utcoffset() is None:
        return ValueError(f"arrival must be an aware datetime, not naive {value!r}")
    return exc


def _require_aware(value: datetime, name: str) -> None:
    """Reject naive datetimes: a wall time without a zone names no instant."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, not naive {value!r}")
