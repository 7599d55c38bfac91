"""Builds, writes and sends the weekly manager reports: the shell around :mod:`.weekly`.

``inboxwarden report`` reads the state database and the directory (no mailbox is
opened, so it needs no IMAP secret), renders each manager's report with its chart,
writes it to the reports directory as ``.eml`` (the message as sent) and ``.html``
(for a browser: the chart embedded as a ``data:`` URI, since ``cid:`` only resolves
inside a message), and, unless it is a dry run, sends it through the SMTP relay.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import structlog

from inboxwarden.config import Settings
from inboxwarden.directory.entries import Directory
from inboxwarden.errors import InboxWardenError
from inboxwarden.reports.chart import overdue_chart
from inboxwarden.reports.mime import (
    InlineImage,
    build_message,
    message_bytes,
    new_content_id,
)
from inboxwarden.reports.smtp import SmtpEndpoint, send
from inboxwarden.reports.templating import Formatter, Rendered, Templates
from inboxwarden.reports.weekly import (
    TREND_WEEKS,
    ManagerReport,
    build_manager_reports,
    fold_findings,
    fold_runs,
)
from inboxwarden.reports.weeks import IsoWeek, report_week
from inboxwarden.state import StateStore

__all__ = [
    "ReportFiles",
    "ReportOutcome",
    "build_reports",
    "chart_png",
    "compose",
    "render_report",
    "report_table",
    "send_reports",
    "write_reports",
]

log = structlog.get_logger(__name__)

_NO_DATA = {"sv": "ingen data", "en": "no data"}
_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")


def build_reports(
    settings: Settings,
    state: StateStore,
    directory: Directory,
    *,
    now: datetime,
    week: str | IsoWeek | None = None,
    manager: str | None = None,
) -> list[ManagerReport]:
    """The reports for *week* (default: the last whole week before *now*), one per manager."""
    tz = settings.organisation.tz
    chosen = (
        report_week(now, tz)
        if week is None
        else (week if isinstance(week, IsoWeek) else IsoWeek.parse(week))
    )
    since = chosen.shifted(-(TREND_WEEKS - 1)).start(tz)
    until = chosen.end(tz)
    figures = fold_runs(state.runs_between(since, until), tz)
    findings = fold_findings(state.findings_between(since, until), tz)
    return build_manager_reports(
        directory,
        figures,
        findings,
        week=chosen,
        tz=tz,
        now=now,
        organisation=settings.organisation.name,
        default_language=settings.organisation.language,
        policy_url=settings.organisation.policy_url,
        manager=manager,
    )


def chart_png(report: ManagerReport, tz: ZoneInfo) -> bytes:
    """The report's chart: the team's overdue messages per week, the report's week last."""
    fmt = Formatter(report.language, tz)
    return overdue_chart(
        [fmt.week(p.week) for p in report.trend],
        [p.overdue for p in report.trend],
        no_data=_NO_DATA[report.language],
    )


def render_report(
    report: ManagerReport, templates: Templates, tz: ZoneInfo, chart_src: str
) -> Rendered:
    """Subject, text and HTML; templates see ``report``, ``fmt`` and ``chart_src``."""
    fmt = Formatter(report.language, tz)
    return templates.render("report", report.language, report=report, fmt=fmt, chart_src=chart_src)


@dataclass(frozen=True)
class ReportFiles:
    """A rendered report: the message to send and the standalone page to keep."""

    report: ManagerReport
    message: EmailMessage
    html: str


def compose(report: ManagerReport, settings: Settings, templates: Templates) -> ReportFiles:
    """The report as a message (chart inline by ``cid:``) and as a page (chart as ``data:``)."""
    tz = settings.organisation.tz
    png = chart_png(report, tz)
    cid = new_content_id(settings.report.from_, "chart")
    rendered = render_report(report, templates, tz, f"cid:{cid}")
    message = build_message(
        rendered,
        sender=settings.report.from_,
        to=report.manager,
        now=report.generated_at,
        language=report.language,
        images=[InlineImage(cid, png, filename=f"overdue-{report.week}.png")],
    )
    page = render_report(
        report, templates, tz, "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    )
    return ReportFiles(report, message, page.html)


def _file_stem(report: ManagerReport) -> str:
    return f"{report.week}_{_UNSAFE.sub('_', report.manager.lower())}"


def write_reports(reports: list[ManagerReport], out_dir: Path, settings: Settings) -> list[Path]:
    """Write each report as ``{week}_{manager}.eml`` and ``.html`` into *out_dir*."""
    templates = Templates(settings.digest.templates_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for report in reports:
        files = compose(report, settings, templates)
        written += _write(files, out_dir)
    log.info("reports_written", reports=len(reports), files=len(written))
    return written


def _write(files: ReportFiles, out_dir: Path) -> list[Path]:
    stem = _file_stem(files.report)
    eml, html = out_dir / f"{stem}.eml", out_dir / f"{stem}.html"
    eml.write_bytes(message_bytes(files.message))
    html.write_text(files.html, encoding="utf-8")
    return [eml, html]


@dataclass
class ReportOutcome:
    """What happened to one manager's report."""

    manager: str
    status: Literal["sent", "written", "failed"]
    files: tuple[Path, ...] = ()
    error: str | None = None


def send_reports(
    reports: list[ManagerReport],
    settings: Settings,
    *,
    out_dir: Path | None = None,
    smtp: SmtpEndpoint | None = None,
    dry_run: bool = False,
) -> list[ReportOutcome]:
    """Write every report to *out_dir* (default ``report.directory``) and send it by SMTP.

    With *dry_run* nothing is sent. A report the relay refuses is still written, and
    the others are still sent; the outcome says which failed.
    """
    templates = Templates(settings.digest.templates_dir)
    target = out_dir or settings.report.directory
    target.mkdir(parents=True, exist_ok=True)
    if not dry_run and smtp is None:
        smtp = SmtpEndpoint.from_settings(settings.smtp)
    outcomes = []
    for report in reports:
        files = compose(report, settings, templates)
        written = tuple(_write(files, target))
        if dry_run or smtp is None:
            outcomes.append(ReportOutcome(report.manager, "written", written))
            continue
        try:
            send(smtp, files.message)
        except InboxWardenError as exc:
            log.warning("report_failed", manager=report.manager, error=type(exc).__name__)
            # The reason, not only the class: DeliveryError's text holds no address.
            reason = f"{type(exc).__name__}: {exc}"
            outcomes.append(ReportOutcome(report.manager, "failed", written, reason))
            continue
        log.info("report_sent", manager=report.manager, members=len(report.members))
        outcomes.append(ReportOutcome(report.manager, "sent", written))
    return outcomes


def report_table(outcomes: list[ReportOutcome]) -> str:
    """``inboxwarden report``: one line per manager with what happened and where the files are."""
    lines = []
    for o in outcomes:
        where = ", ".join(str(p) for p in o.files)
        status = f"FAILED ({o.error})" if o.status == "failed" else o.status
        lines.append(f"{o.manager}  {status}  {where}".rstrip())
    tally = {status: sum(o.status == status for o in outcomes) for status in ("sent", "failed")}
    written = len(outcomes) - tally["failed"]
    lines += [
        "",
        f"{len(outcomes)} report(s): {written} written, {tally['sent']} sent, "
        f"{tally['failed']} failed.",
    ]
    return "\n".join(lines) + "\n"
