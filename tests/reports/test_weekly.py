"""The weekly figures: folded from stored runs, per member and team, with the trend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from inboxwarden.config import Settings
from inboxwarden.directory.entries import Directory
from inboxwarden.errors import ConfigError
from inboxwarden.policy.people import Employee
from inboxwarden.reports.weekly import (
    FanoutFigures,
    WeekFigures,
    build_manager_reports,
    compliance,
    fold_runs,
)
from inboxwarden.reports.weekly_job import build_reports
from inboxwarden.reports.weeks import IsoWeek
from inboxwarden.state import AuditEvent, RunRow, StateStore

TZ = ZoneInfo("Europe/Stockholm")
W46 = IsoWeek(2026, 46)  # Mon 9 – Sun 15 November 2026
W45 = IsoWeek(2026, 45)


def utc(day: int, hour: int = 2, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def counts(inbox=0, due=0, overdue=0, moved=0, deleted=0):
    return {
        "inbox": inbox,
        "due": due,
        "overdue": overdue,
        "moved": moved,
        "deleted": deleted,
        "flagged": 0,
    }


# --- folding runs into weeks -------------------------------------------------------------


def test_the_latest_successful_run_gives_the_state_and_all_runs_add_their_moves():
    rows = [
        RunRow("Anna@exempel.se", utc(9), "ok", counts(100, 10, 4, moved=3, deleted=1)),
        RunRow("anna@exempel.se", utc(12), "ok", counts(90, 8, 7, moved=5, deleted=2)),
        RunRow("anna@exempel.se", utc(14), "failed", counts(moved=1)),
        RunRow("anna@exempel.se", utc(16), "ok", counts(80, 1, 0, moved=7)),  # Monday: W47
    ]
    figures = fold_runs(rows, TZ)
    # The state is after the latest run: 5 moved and 2 deleted left the INBOX.
    assert figures[("anna@exempel.se", W46)] == WeekFigures(83, 1, 0, moved=9, deleted=3, runs=3)
    assert figures[("anna@exempel.se", IsoWeek(2026, 47))].inbox == 73


def test_a_run_just_after_midnight_on_monday_belongs_to_the_new_local_week():
    sunday_night_utc = datetime(2026, 11, 15, 23, 30, tzinfo=UTC)  # Mon 00:30 Stockholm
    figures = fold_runs([RunRow("a@exempel.se", sunday_night_utc, "ok", counts(5))], TZ)
    assert set(figures) == {("a@exempel.se", IsoWeek(2026, 47))}


def test_a_partial_run_counts_its_inbox_and_a_busy_one_nothing():
    """A run the server refused in part still scanned the INBOX; a busy one did not."""
    rows = [
        RunRow("a@exempel.se", utc(10), "partial", counts(50, 9, 6, moved=2)),
        RunRow("a@exempel.se", utc(11), "busy", counts()),
    ]
    figures = fold_runs(rows, TZ)
    assert figures[("a@exempel.se", W46)] == WeekFigures(48, 7, 4, moved=2, deleted=0, runs=1)


def test_a_week_whose_runs_all_failed_has_no_figures():
    figures = fold_runs([RunRow("a@exempel.se", utc(10), "failed", counts(moved=2))], TZ)
    assert figures == {}


def test_compliance_is_the_share_with_nothing_overdue_among_those_seen():
    assert compliance([True, False, None, True]) == pytest.approx(2 / 3)
    assert compliance([None, None]) is None
    assert compliance([]) is None


# --- building the reports ----------------------------------------------------------------


def directory() -> Directory:
    return Directory(
        (
            Employee("anna@exempel.se", manager="maria@exempel.se", team="Support"),
            Employee(
                "bjorn@exempel.se", manager="maria@exempel.se", team="Support", legal_hold=True
            ),
            Employee("carl@exempel.se", manager="maria@exempel.se", team="Support"),
            Employee("dora@exempel.se", manager="olof@exempel.se", team="Ekonomi"),
            Employee("maria@exempel.se", language="en", excluded=True),
        )
    )


FIGURES = {
    ("anna@exempel.se", W46): WeekFigures(100, 10, 0, moved=4, deleted=2),
    ("anna@exempel.se", W45): WeekFigures(120, 12, 3),
    ("bjorn@exempel.se", W46): WeekFigures(300, 30, 5, moved=1),
    ("bjorn@exempel.se", W45): WeekFigures(280, 25, 2),
    ("dora@exempel.se", W46): WeekFigures(10, 1, 0),
    ("anna@exempel.se", IsoWeek(2026, 40)): WeekFigures(50, 5, 1),
}


def reports(**options):
    return build_manager_reports(
        directory(),
        FIGURES,
        options.pop("findings", None),
        week=W46,
        tz=TZ,
        now=datetime(2026, 11, 16, 7, 0, tzinfo=TZ),
        organisation="Exempel AB",
        default_language="sv",
        **options,
    )


def test_one_report_per_manager_with_each_members_week_and_trend():
    maria, olof = reports()
    assert (maria.manager, olof.manager) == ("maria@exempel.se", "olof@exempel.se")
    assert maria.language == "en"  # the manager's own language from the directory
    assert olof.language == "sv"
    assert maria.teams == ("Support",)
    anna, bjorn, carl = maria.members
    assert (anna.email, anna.compliant, anna.overdue_change, anna.inbox_change) == (
        "anna@exempel.se",
        True,
        -3,
        -20,
    )
    assert (bjorn.compliant, bjorn.overdue_change, bjorn.legal_hold) == (False, 3, True)
    assert (carl.this_week, carl.compliant, carl.overdue_change) == (None, None, None)
    assert (maria.compliant_members, maria.measured_members) == (1, 2)
    assert maria.team_compliance == pytest.approx(0.5)
    assert maria.last_week_compliance == 0.0
    assert maria.totals == WeekFigures(400, 40, 5, moved=5, deleted=2, runs=2)
    assert maria.overdue_change == 0
    assert [str(p.week) for p in maria.trend] == [f"2026-W{n}" for n in range(39, 47)]
    assert [p.overdue for p in maria.trend] == [None, 1, None, None, None, None, 5, 5]
    # The organisation: anna and dora compliant, bjorn not, carl unseen.
    assert maria.org_compliance == pytest.approx(2 / 3)
    assert olof.org_compliance == maria.org_compliance
    assert maria.org_members == 4


def test_without_fanout_data_the_report_says_so_instead_of_zero():
    [maria, _] = reports()
    assert maria.fanout_available is False
    assert maria.fanout_totals is None
    assert all(m.fanout is None for m in maria.members)


def test_fanout_findings_are_counted_per_member_when_collected():
    findings = {("bjorn@exempel.se", W46): FanoutFigures(3, 2, 1)}
    [maria, _] = reports(findings=findings)
    assert [m.fanout for m in maria.members] == [
        FanoutFigures(),
        FanoutFigures(3, 2, 1),
        FanoutFigures(),
    ]
    assert maria.fanout_totals == FanoutFigures(3, 2, 1)


def test_one_manager_can_be_chosen_and_an_unknown_one_is_a_usage_error():
    [only] = reports(manager="Olof@Exempel.se")
    assert only.manager == "olof@exempel.se"
    with pytest.raises(ConfigError, match="nobody in the directory reports to them"):
        reports(manager="nobody@exempel.se")


# --- from the state database -------------------------------------------------------------


@pytest.fixture(name="state")
def _state(tmp_path):
    store = StateStore.open(f"sqlite:///{tmp_path}/state.db")
    yield store
    store.close()


def record(state: StateStore, as_of: datetime, mailbox: str, status="ok", kind="run", **numbers):
    run_id = state.start_run(kind, as_of)
    state.record_mailbox(run_id, mailbox, mode="enforce", status=status, counts=counts(**numbers))
    state.finish_run(run_id, ok=int(status == "ok"), failed=int(status != "ok"))


def test_runs_are_read_by_the_time_they_acted_as_of_and_only_scan_runs_count(state):
    record(state, utc(10), "anna@exempel.se", inbox=50, overdue=2, moved=3)
    record(state, utc(12), "anna@exempel.se", inbox=40, overdue=1, moved=4)
    record(state, utc(12, 3), "anna@exempel.se", kind="digest", inbox=999)
    record(state, utc(2), "anna@exempel.se", inbox=70)  # the week before
    rows = list(state.runs_between(W46.start(TZ), W46.end(TZ)))
    assert [(r.as_of, r.counts["inbox"]) for r in rows] == [(utc(10), 50), (utc(12), 40)]


def test_build_reports_reads_the_state_and_the_findings_table_when_it_exists(state):
    record(state, utc(3), "anna@exempel.se", inbox=60, overdue=4)
    record(state, utc(11), "anna@exempel.se", inbox=61, due=11, overdue=12, moved=9, deleted=2)
    record(state, utc(11), "bjorn@exempel.se", inbox=20, overdue=0)
    settings = Settings(organisation={"name": "Exempel AB", "language": "sv"})
    now = datetime(2026, 11, 16, 7, 0, tzinfo=TZ)
    [maria, _] = build_reports(settings, state, directory(), now=now)
    assert maria.week == W46
    assert maria.members[0].this_week == WeekFigures(50, 0, 1, moved=9, deleted=2)
    assert maria.members[0].overdue_change == -3
    # The fan-out scan's table exists from the start, still empty.
    assert maria.fanout_available is True
    assert maria.members[1].fanout == FanoutFigures(count=0, external=0, high=0)

    def finding(ref: str, day: int, external: int, severity: str) -> dict[str, object]:
        return {
            "mailbox": "bjorn@exempel.se",
            "folder": "Sent",
            "ref": ref,
            "message_date": utc(day),
            "recipients": 6,
            "cc": 5,
            "external": external,
            "kinds": ["personnummer"],
            "severity": severity,
        }

    added = state.save_findings(
        [finding("a", 10, 2, "high"), finding("b", 13, 0, "medium"), finding("c", 2, 1, "high")]
    )
    assert added == 3
    in_week = list(state.findings_between(W46.start(TZ), W46.end(TZ)))
    assert sorted((f.at, f.external, f.high) for f in in_week) == [
        (utc(10), True, True),
        (utc(13), False, False),
    ]
    [maria, _] = build_reports(settings, state, directory(), now=now, week="2026-W46", manager=None)
    assert maria.fanout_available is True
    assert maria.members[1].fanout == FanoutFigures(count=2, external=1, high=1)


def test_the_last_digest_comes_from_the_audit_trail(state):
    assert state.last_digest_audited("anna@exempel.se") is None
    run_id = state.start_run("digest", utc(2))
    state.audit(run_id, "anna@exempel.se", [AuditEvent("digest", "ab" * 12, folder="INBOX")])
    state.audit(run_id, "bjorn@exempel.se", [AuditEvent("flag", "cd" * 12, folder="INBOX")])
    sent = state.last_digest_audited("anna@exempel.se")
    assert sent is not None and abs(sent - datetime.now(UTC)) < timedelta(minutes=1)
    assert state.last_digest_audited("bjorn@exempel.se") is None
