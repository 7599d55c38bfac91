"""The clock of ``serve``: APScheduler 3.x cron triggers in the organisation's time zone.

The only module that imports apscheduler. APScheduler 3.x is unannotated, so nothing of
it leaves here: callers hand in plain callables and get plain datetimes back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.cron import CronTrigger

__all__ = ["Scheduler", "check_cron", "cron_trigger", "crontab_weekdays", "missed_time"]

#: crontab's weekday numbers: 0 (and 7) is Sunday.
_CRONTAB_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def check_cron(expression: str) -> None:
    """Raise ValueError saying what is wrong with the cron line *expression*, if anything."""
    cron_trigger(expression, UTC)


def cron_trigger(expression: str, tz: tzinfo) -> CronTrigger:
    """*expression* (5 crontab fields, or 6 with leading seconds) as a trigger in *tz*."""
    fields = expression.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        raise ValueError(
            f"{expression!r} has {len(fields)} fields; a cron line has 5 "
            "(minute hour day month weekday), or 6 with seconds first"
        )
    second, minute, hour, day, month, weekday = fields
    try:
        return CronTrigger(
            second=second,
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=crontab_weekdays(weekday),
            timezone=tz,
        )
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{expression!r}: {exc}") from exc


def crontab_weekdays(field: str) -> str:
    """The weekday field with crontab's numbers (Sunday = 0 or 7) turned into names.

    APScheduler 3.x counts weekdays from Monday = 0 (its issue 286), so ``1-5`` would
    silently mean Tuesday to Saturday; names mean the same to both.
    """
    parts = []
    for part in field.split(","):
        days, slash, step = part.partition("/")
        low, dash, high = days.partition("-")
        if not (low.isdigit() and (not dash or high.isdigit())):
            parts.append(part)  # names and *: the same in both
            continue
        names = [_weekday(low)] + ([_weekday(high)] if dash else [])
        if dash and names[0] == "sun" and names[1] != "sun" and not slash:
            # APScheduler's week starts on Monday: Sunday-to-X is Sunday plus Monday-to-X.
            parts.append(f"sun,mon-{names[1]}")
            continue
        parts.append("-".join(names) + (slash + step if slash else ""))
    return ",".join(parts)


def _weekday(number: str) -> str:
    if int(number) >= len(_CRONTAB_WEEKDAYS):
        raise ValueError(f"weekday {number} is out of range (0-7, Sunday is 0 or 7)")
    return _CRONTAB_WEEKDAYS[int(number)]


def missed_time(
    expression: str, tz: tzinfo, now: datetime, grace_seconds: int, last_run: datetime | None
) -> datetime | None:
    """The latest time of *expression* within the grace before *now* with no run since.

    APScheduler 3.x forgets misfires across restarts (its memory job store), so the
    service asks this at start-up with the last run the state remembers. A job that
    never ran has missed nothing: a first start does not run every job at once.
    """
    if last_run is None:
        return None
    trigger = cron_trigger(expression, tz)
    start = max(now - timedelta(seconds=grace_seconds), last_run)
    missed = None
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire <= now:
        if fire > last_run:
            missed = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return missed


class Scheduler:
    """A background scheduler whose jobs never overlap themselves and catch up once.

    ``max_instances=1``: a scan still running when its next time comes is not started
    twice; ``coalesce``: several missed times run once; a missed time runs only within
    *misfire_grace_seconds*.
    """

    def __init__(self, tz: tzinfo, misfire_grace_seconds: int) -> None:
        self._tz = tz
        self._grace = misfire_grace_seconds
        # One thread per job kind: a long scan must not hold up the report.
        self._scheduler = BackgroundScheduler(
            timezone=tz, executors={"default": ThreadPoolExecutor(4)}
        )

    def add(
        self, name: str, expression: str, job: Callable[[], None], *, now: bool = False
    ) -> None:
        """Run *job* at the times of the cron line *expression*; once at start if *now*."""
        first = {"next_run_time": datetime.now(self._tz)} if now else {}
        self._scheduler.add_job(
            job,
            cron_trigger(expression, self._tz),
            id=name,
            name=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=self._grace,
            **first,
        )

    def start(self) -> None:
        """Start the clock in its own thread."""
        self._scheduler.start()

    @property
    def running(self) -> bool:
        """True while the clock runs."""
        return bool(self._scheduler.state == STATE_RUNNING)

    def next_runs(self) -> dict[str, datetime | None]:
        """Each job's next run time (None when paused)."""
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs()}

    def shutdown(self) -> None:
        """Stop the clock and wait for the jobs in progress to return."""
        if self.running:
            self._scheduler.shutdown(wait=True)
