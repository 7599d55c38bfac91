"""The weekly manager report as data: per team member, per week, only counts.

Pure code over the plain rows the state reads back (`StateStore.runs_between`,
`StateStore.findings_between`). For each mailbox and ISO week the
*latest* successful run gives the state (INBOX size, due, overdue) and the sum over
all runs gives the flow (moved, deleted). Compliance is the share of members with
nothing overdue, among those a run saw that week; a member no run saw is shown as
"no data" and counted neither way.

The report holds no subject, body, correspondent's address or personal-data value
(docs/behaviour.md §7) because nothing of the kind reaches this module: its inputs are counts,
dates, the directory's own addresses, and finding *kinds*.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from inboxwarden.directory.entries import Directory
from inboxwarden.errors import ConfigError
from inboxwarden.policy.people import Employee, Language
from inboxwarden.reports.weeks import IsoWeek
from inboxwarden.state.records import FindingRow, RunRow

__all__ = [
    "TREND_WEEKS",
    "FanoutFigures",
    "ManagerReport",
    "MemberRow",
    "TrendPoint",
    "WeekFigures",
    "WeekKey",
    "build_manager_reports",
    "compliance",
    "fold_findings",
    "fold_runs",
]

#: Weeks the chart shows, the report's week included.
TREND_WEEKS = 8

WeekKey = tuple[str, IsoWeek]


@dataclass(frozen=True, slots=True)
class WeekFigures:
    """One mailbox's week: the state at its latest run, and what the runs did."""

    inbox: int
    due: int
    overdue: int
    moved: int = 0
    deleted: int = 0
    runs: int = 1
    #: Messages the rules sent somewhere that the server refused to take (still there).
    refused: int = 0


@dataclass(frozen=True, slots=True)
class FanoutFigures:
    """Fan-out findings of one mailbox in one week: how many, external, high severity."""

    count: int = 0
    external: int = 0
    high: int = 0


@dataclass
class _Fold:
    latest: RunRow | None = None
    moved: int = 0
    deleted: int = 0
    runs: int = 0
    refused: int = 0


def _key(address: str) -> str:
    return address.strip().lower()


def fold_runs(rows: Iterable[RunRow], tz: ZoneInfo) -> dict[WeekKey, WeekFigures]:
    """Per mailbox and week: the state after the latest successful run, the sum of moves.

    *rows* come oldest first, so a later row of the same week replaces the state. A
    week whose runs all failed has no state, and so no figures.
    """
    folds: dict[WeekKey, _Fold] = {}
    for row in rows:
        if row.status == "busy":
            continue  # another process had the mailbox: this run did nothing there
        key = (_key(row.mailbox), IsoWeek.containing(row.as_of, tz))
        fold = folds.setdefault(key, _Fold())
        fold.moved += int(row.counts.get("moved", 0))
        fold.deleted += int(row.counts.get("deleted", 0))
        fold.refused += int(row.counts.get("refused", 0))
        fold.runs += 1
        if row.status in ("ok", "partial"):  # a partial run still counted the INBOX
            fold.latest = row
    figures: dict[WeekKey, WeekFigures] = {}
    for key, fold in folds.items():
        if fold.latest is None:
            continue
        counts = fold.latest.counts
        # A run counts the INBOX before it acts; what it filed, deleted or saw vanish
        # has left by the end of it, and only overdue messages leave.
        left = sum(int(counts.get(name, 0)) for name in ("moved", "deleted", "vanished"))
        figures[key] = WeekFigures(
            inbox=max(0, int(counts.get("inbox", 0)) - left),
            due=max(0, int(counts.get("due", 0)) - left),
            overdue=max(0, int(counts.get("overdue", 0)) - left),
            moved=fold.moved,
            deleted=fold.deleted,
            runs=fold.runs,
            refused=fold.refused,
        )
    return figures


def fold_findings(rows: Iterable[FindingRow], tz: ZoneInfo) -> dict[WeekKey, FanoutFigures]:
    """Per mailbox and week: how many fan-out findings, how many external, how many high."""
    counts: dict[WeekKey, list[int]] = {}
    for row in rows:
        tally = counts.setdefault((_key(row.mailbox), IsoWeek.containing(row.at, tz)), [0, 0, 0])
        tally[0] += 1
        tally[1] += row.external
        tally[2] += row.high
    return {key: FanoutFigures(*tally) for key, tally in counts.items()}


@dataclass(frozen=True, slots=True)
class MemberRow:
    """One team member's line in the report."""

    email: str
    team: str | None
    this_week: WeekFigures | None
    last_week: WeekFigures | None
    fanout: FanoutFigures | None
    """None when fan-out findings are not collected (yet): shown as a dash, not as 0."""
    legal_hold: bool = False

    @property
    def compliant(self) -> bool | None:
        """Nothing overdue at the week's last run; None when no run saw the mailbox."""
        return None if self.this_week is None else self.this_week.overdue == 0

    @property
    def overdue_change(self) -> int | None:
        """Overdue now minus overdue at last week's last run."""
        if self.this_week is None or self.last_week is None:
            return None
        return self.this_week.overdue - self.last_week.overdue

    @property
    def inbox_change(self) -> int | None:
        """INBOX size now minus last week's."""
        if self.this_week is None or self.last_week is None:
            return None
        return self.this_week.inbox - self.last_week.inbox


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One week of the team's trend: overdue in total, and the share compliant."""

    week: IsoWeek
    overdue: int | None
    compliance: float | None


@dataclass(frozen=True)
class ManagerReport:
    """One manager's weekly report; templates receive it as ``report``."""

    manager: str
    language: Language
    organisation: str
    policy_url: str | None
    week: IsoWeek
    start: datetime
    end: datetime
    generated_at: datetime
    members: tuple[MemberRow, ...]
    org_compliance: float | None
    org_members: int
    trend: tuple[TrendPoint, ...]
    fanout_available: bool
    teams: tuple[str, ...] = field(default=())

    @property
    def last_day(self) -> date:
        """The week's Sunday, for "9 – 15 November" (the end itself is the next Monday)."""
        return self.week.monday() + timedelta(days=6)

    @property
    def team_compliance(self) -> float | None:
        """Share of members with nothing overdue, among those seen this week."""
        return compliance(m.compliant for m in self.members)

    @property
    def last_week_compliance(self) -> float | None:
        """The same share a week earlier, for the trend."""
        return self.trend[-2].compliance if len(self.trend) >= 2 else None

    @property
    def compliant_members(self) -> int:
        """Members with nothing overdue."""
        return sum(m.compliant is True for m in self.members)

    @property
    def measured_members(self) -> int:
        """Members a run saw this week."""
        return sum(m.compliant is not None for m in self.members)

    @property
    def totals(self) -> WeekFigures | None:
        """The team's figures summed over the members seen this week."""
        seen = [m.this_week for m in self.members if m.this_week is not None]
        if not seen:
            return None
        return WeekFigures(
            inbox=sum(f.inbox for f in seen),
            due=sum(f.due for f in seen),
            overdue=sum(f.overdue for f in seen),
            moved=sum(f.moved for f in seen),
            deleted=sum(f.deleted for f in seen),
            runs=sum(f.runs for f in seen),
            refused=sum(f.refused for f in seen),
        )

    @property
    def overdue_change(self) -> int | None:
        """The team's overdue total against last week's."""
        if len(self.trend) < 2:
            return None
        now, before = self.trend[-1].overdue, self.trend[-2].overdue
        return None if now is None or before is None else now - before

    @property
    def fanout_totals(self) -> FanoutFigures | None:
        """The team's fan-out findings this week, or None when they are not collected."""
        if not self.fanout_available:
            return None
        found = [m.fanout for m in self.members if m.fanout is not None]
        return FanoutFigures(
            count=sum(f.count for f in found),
            external=sum(f.external for f in found),
            high=sum(f.high for f in found),
        )


def compliance(flags: Iterable[bool | None]) -> float | None:
    """The share of True among the known flags; None when none is known."""
    known = [flag for flag in flags if flag is not None]
    return sum(known) / len(known) if known else None


def build_manager_reports(
    directory: Directory,
    figures: Mapping[WeekKey, WeekFigures],
    findings: Mapping[WeekKey, FanoutFigures] | None,
    *,
    week: IsoWeek,
    tz: ZoneInfo,
    now: datetime,
    organisation: str,
    default_language: Language,
    policy_url: str | None = None,
    manager: str | None = None,
) -> list[ManagerReport]:
    """One report per manager in the directory (or only *manager*), for *week*.

    *findings* is None when the fan-out scan has stored nothing, which the report
    shows as a dash rather than a reassuring zero.
    """
    teams = directory.managers()
    if manager is not None:
        wanted = _key(manager)
        teams = {m: members for m, members in teams.items() if _key(m) == wanted}
        if not teams:
            raise ConfigError(f"manager {manager!r}: nobody in the directory reports to them")
    active = directory.active()
    org = compliance(_member(e, figures, findings, week).compliant for e in active)
    reports = []
    for address, members in sorted(teams.items(), key=lambda item: _key(item[0])):
        listed = directory.by_email(address)
        rows = tuple(
            _member(e, figures, findings, week) for e in sorted(members, key=lambda e: e.email)
        )
        reports.append(
            ManagerReport(
                manager=address,
                language=(listed.language if listed and listed.language else default_language),
                organisation=organisation,
                policy_url=policy_url,
                week=week,
                start=week.start(tz),
                end=week.end(tz),
                generated_at=now.astimezone(tz),
                members=rows,
                org_compliance=org,
                org_members=len(active),
                trend=_trend(members, figures, week),
                fanout_available=findings is not None,
                teams=tuple(sorted({e.team for e in members if e.team})),
            )
        )
    return reports


def _member(
    employee: Employee,
    figures: Mapping[WeekKey, WeekFigures],
    findings: Mapping[WeekKey, FanoutFigures] | None,
    week: IsoWeek,
) -> MemberRow:
    key = _key(employee.email)
    return MemberRow(
        email=employee.email,
        team=employee.team,
        this_week=figures.get((key, week)),
        last_week=figures.get((key, week.shifted(-1))),
        fanout=None if findings is None else findings.get((key, week), FanoutFigures()),
        legal_hold=employee.legal_hold,
    )


def _trend(
    members: Sequence[Employee], figures: Mapping[WeekKey, WeekFigures], week: IsoWeek
) -> tuple[TrendPoint, ...]:
    points = []
    for offset in range(TREND_WEEKS - 1, -1, -1):
        when = week.shifted(-offset)
        seen = [f for e in members if (f := figures.get((_key(e.email), when))) is not None]
        points.append(
            TrendPoint(
                week=when,
                overdue=sum(f.overdue for f in seen) if seen else None,
                compliance=compliance(f.overdue == 0 for f in seen),
            )
        )
    return tuple(points)
