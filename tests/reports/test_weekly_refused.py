"""Refused work reaches the manager: counted per member and shown in the weekly report."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from inboxwarden.directory.entries import Directory
from inboxwarden.policy.people import Employee
from inboxwarden.reports.templating import Templates
from inboxwarden.reports.weekly import build_manager_reports, fold_runs
from inboxwarden.reports.weekly_job import render_report
from inboxwarden.reports.weeks import IsoWeek
from inboxwarden.state import RunRow

TZ = ZoneInfo("Europe/Stockholm")
W46 = IsoWeek(2026, 46)  # Mon 9 – Sun 15 November 2026


def counts(inbox: int, overdue: int, moved: int = 0, refused: int = 0) -> dict[str, int]:
    return {"inbox": inbox, "due": overdue, "overdue": overdue, "moved": moved, "refused": refused}


def test_refused_messages_are_summed_and_a_partial_run_still_gives_the_state():
    """A run the server refused in part (status partial) counted the INBOX all the same."""
    rows = [
        RunRow("anna@exempel.se", datetime(2026, 11, 10, 2, tzinfo=UTC), "ok", counts(50, 4)),
        RunRow(
            "anna@exempel.se",
            datetime(2026, 11, 12, 2, tzinfo=UTC),
            "partial",
            counts(40, 6, moved=2, refused=3),
        ),
    ]
    figures = fold_runs(rows, TZ)[("anna@exempel.se", W46)]
    assert (figures.refused, figures.moved, figures.inbox, figures.overdue) == (3, 2, 38, 4)


@pytest.mark.parametrize("language", ["en", "sv"])
def test_the_report_names_the_members_whose_mail_the_server_refused(language):
    directory = Directory(
        (
            Employee("anna@exempel.se", manager="maria@exempel.se", team="Support"),
            Employee("bo@exempel.se", manager="maria@exempel.se", team="Support"),
            Employee("maria@exempel.se", language=language, excluded=True),
        )
    )
    rows = [
        RunRow(
            "anna@exempel.se",
            datetime(2026, 11, 12, 2, tzinfo=UTC),
            "partial",
            counts(9, 3, refused=3),
        ),
        RunRow("bo@exempel.se", datetime(2026, 11, 12, 2, tzinfo=UTC), "ok", counts(5, 0)),
    ]
    [report] = build_manager_reports(
        directory,
        fold_runs(rows, TZ),
        None,
        week=W46,
        tz=TZ,
        now=datetime(2026, 11, 16, 7, 0, tzinfo=TZ),
        organisation="Exempel AB",
        default_language="sv",
    )
    rendered = render_report(report, Templates(), TZ, "cid:chart@exempel.se")
    heading = {"en": "REFUSED BY THE MAIL SERVER: 3", "sv": "NEKADE AV E-POSTSERVERN: 3"}
    assert heading[language] in rendered.text
    refused_lines = [line.split() for line in rendered.text.splitlines() if line.strip()]
    assert ["anna@exempel.se", "3"] in refused_lines
    assert ["bo@exempel.se", "0"] not in refused_lines
    assert "e-postservern: 3" in rendered.html.lower() or "mail server: 3" in rendered.html


def test_a_week_without_refusals_says_nothing_about_them():
    directory = Directory(
        (
            Employee("anna@exempel.se", manager="maria@exempel.se", team="Support"),
            Employee("maria@exempel.se", language="en", excluded=True),
        )
    )
    rows = [RunRow("anna@exempel.se", datetime(2026, 11, 12, 2, tzinfo=UTC), "ok", counts(9, 0))]
    [report] = build_manager_reports(
        directory,
        fold_runs(rows, TZ),
        None,
        week=W46,
        tz=TZ,
        now=datetime(2026, 11, 16, 7, 0, tzinfo=TZ),
        organisation="Exempel AB",
        default_language="sv",
    )
    rendered = render_report(report, Templates(), TZ, "cid:chart@exempel.se")
    assert "REFUSED" not in rendered.text and "Refused" not in rendered.html
