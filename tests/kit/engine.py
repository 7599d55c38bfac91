"""The mailbox runner as the CLI builds it, against the real test Dovecot: configuration, runs,
the standard rules, the mail they know, and fixed moments of the cycle."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from inboxwarden.config import load_settings
from inboxwarden.demo.localserver import LocalDovecot
from inboxwarden.demo.mail import EXAMPLE_RULES
from inboxwarden.directory.files import load_directory
from inboxwarden.mailbox.runner import MailboxRunner
from inboxwarden.mailbox.scan_job import RunSummary, run_scan
from inboxwarden.state import StateStore
from tests.kit.seeding import make_message

STOCKHOLM = ZoneInfo("Europe/Stockholm")
#: After the November enforcement date (2026-11-09): everything before 2026-11-01 is overdue.
ENFORCING = datetime(2026, 11, 20, 3, 0, tzinfo=STOCKHOLM)
#: In November's grace period: due, not yet overdue (except mail due in October's cycle).
GRACE = datetime(2026, 11, 3, 3, 0, tzinfo=STOCKHOLM)
OLD = datetime(2026, 10, 12, 10, 0, tzinfo=STOCKHOLM)
NEW = datetime(2026, 11, 15, 10, 0, tzinfo=STOCKHOLM)

RULES = EXAMPLE_RULES


def write_config(
    tmp_path: Path,
    server: LocalDovecot,
    emails: list[str] | dict[str, str],
    *,
    mode: str = "enforce",
    rules: str = RULES,
    port: int | None = None,
    imap_extra: str = "",
    directory_rows: str | None = None,
    retries: int = 2,
    state_url: str | None = None,
) -> Path:
    """Write a configuration for *emails* on *server*; a dict maps address to CSV extras."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "master.secret").write_text(server.master_password)
    (tmp_path / "audit.key").write_text("test-key-" + secrets.token_hex(8))
    if directory_rows is None:
        extras = emails if isinstance(emails, dict) else dict.fromkeys(emails, "")
        lines = ["email,mode,legal_hold"] + [
            f"{e},{x}" if x else f"{e},," for e, x in extras.items()
        ]
        directory_rows = "\n".join(lines) + "\n"
    (tmp_path / "employees.csv").write_text(directory_rows)
    config = tmp_path / "inboxwarden.toml"
    config.write_text(
        f"""
[organisation]
domains = ["exempel.se"]
[mode]
default = "{mode}"
[imap]
host = "127.0.0.1"
port = {port or server.port}
security = "plain"
auth = "master"
master_user = "{server.master_user}"
password_file = "master.secret"
retries = {retries}
retry_backoff_seconds = 0
{imap_extra}
[directory]
path = "employees.csv"
[state]
url = "{state_url or f"sqlite:///{tmp_path}/state.db"}"
[audit]
hmac_key_file = "audit.key"
{rules}
""",
        encoding="utf-8",
    )
    return config


def runner_for(config: Path) -> MailboxRunner:
    """The runner as the CLI would build it from *config*."""
    settings = load_settings(config)
    return MailboxRunner.create(
        settings, load_directory(settings.directory.path), StateStore.open(settings.state.url)
    )


def scan(runner: MailboxRunner, now: datetime, *, dry: bool = False) -> RunSummary:
    """``run --once`` (or ``plan``, with *dry*) through *runner* as of *now*."""
    return run_scan(runner, runner.window(now), dry=dry)


def run(config: Path, now: datetime = ENFORCING, *, dry: bool = False) -> RunSummary:
    """One run (or a plan, with *dry*) of the runner built from *config*."""
    runner = runner_for(config)
    try:
        return scan(runner, now, dry=dry)
    finally:
        runner.state.close()


def mail(kind: str, n: int, when: datetime = OLD) -> list[tuple[bytes, datetime]]:
    """*n* messages of a kind the standard rules know, arriving at *when* (a minute apart)."""
    senders = {
        "invoice": ("Fortnox <faktura@fortnox.se>", "Faktura {i}", None),
        "newsletter": (
            "Nyheter <news@branschnytt.se>",
            "Veckans nyheter {i}",
            "<v.branschnytt.se>",
        ),
        "customer": ("Lena <lena@kund.se>", "Ärende {i}", None),
        "other": ("Per <per@annat.se>", "Hej {i}", None),
    }
    sender, subject, list_id = senders[kind]
    return [
        (
            make_message(
                subject=subject.format(i=i),
                from_=sender,
                to="me@exempel.se",
                list_id=list_id,
                message_id=f"<{kind}-{i}-{secrets.token_hex(4)}@test>",
            ),
            when + timedelta(minutes=i),
        )
        for i in range(n)
    ]
