"""What ``inboxwarden demo`` leaves behind from the reports: the digests and the report as files.

The digests are delivered the real way — appended to each demo employee's INBOX on the
demo's own Dovecot — and a copy of each is kept in the output folder, next to the
weekly manager report, so the demo's reader can open both without a mail client.
Only the demo does this: in production a digest lives in its owner's mailbox alone.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from inboxwarden.mailbox.runner import MailboxRunner
from inboxwarden.reports.digest_job import send_digests
from inboxwarden.reports.mime import message_bytes
from inboxwarden.reports.weekly_job import build_reports, write_reports

__all__ = ["demo_digests", "demo_report"]


def demo_digests(runner: MailboxRunner, out_dir: Path, now: datetime) -> list[Path]:
    """Send every employee's digest as of *now*, and save a copy under ``out_dir/digests``."""
    target = out_dir / "digests"
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for outcome in send_digests(runner, runner.window(now), keep_messages=True):
        if outcome.message is None:
            continue
        eml = target / f"{outcome.mailbox}.eml"
        html = target / f"{outcome.mailbox}.html"
        eml.write_bytes(message_bytes(outcome.message))
        body = outcome.message.get_body(preferencelist=("html",))
        if body is not None:
            html.write_text(str(body.get_content()), encoding="utf-8")
            written.append(html)
        written.append(eml)
    return written


def demo_report(runner: MailboxRunner, out_dir: Path, now: datetime) -> list[Path]:
    """Write the managers' reports for the last whole week before *now* to ``out_dir/reports``."""
    reports = build_reports(runner.settings, runner.state, runner.directory, now=now)
    return write_reports(reports, out_dir / "reports", runner.settings)
