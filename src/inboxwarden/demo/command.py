"""``inboxwarden demo``: the whole monthly cycle against a disposable local Dovecot.

It starts a private Dovecot on loopback, fills three employees' mailboxes with three
months of realistic mail, and runs plan → notify → enforce at simulated dates, through
the same engine and configuration loading as production, over STARTTLS with a verified
(throwaway) certificate and a Dovecot master-user login.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections import Counter
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from pydantic import SecretStr

from inboxwarden.cli.tables import plan_table, run_table
from inboxwarden.config import load_settings
from inboxwarden.demo.localserver import LocalDovecot
from inboxwarden.demo.mail import EXAMPLE_RULES, inbox_messages
from inboxwarden.directory.files import load_directory
from inboxwarden.imap.connect import Credentials, Endpoint
from inboxwarden.imap.session import ImapSession
from inboxwarden.mailbox.runner import MailboxRunner
from inboxwarden.mailbox.scan_job import run_scan
from inboxwarden.reports import demo_digests, demo_report
from inboxwarden.reports.register import render_markdown
from inboxwarden.state import StateStore

__all__ = [
    "CONFIG",
    "EMPLOYEES",
    "ENFORCE_AT",
    "MANAGER",
    "MASTER",
    "NOTIFY_AT",
    "REPORT_AT",
    "SEED_FROM",
    "STOCKHOLM",
    "run_demo",
]

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MASTER = "inboxwarden"
EMPLOYEES = (
    # email, team, language, mode, legal_hold
    ("anna.lind@exempel.se", "Support", "sv", "", "false"),
    ("bjorn.ek@exempel.se", "Support", "en", "", "false"),
    ("carin.berg@exempel.se", "Ekonomi", "sv", "", "true"),
)
MANAGER = "maria.chef@exempel.se"
SEED_FROM = datetime(2026, 8, 20, tzinfo=STOCKHOLM)
NOTIFY_AT = datetime(2026, 11, 2, 8, 0, tzinfo=STOCKHOLM)
ENFORCE_AT = datetime(2026, 11, 10, 2, 0, tzinfo=STOCKHOLM)
REPORT_AT = datetime(2026, 11, 16, 7, 0, tzinfo=STOCKHOLM)  # the Monday after: week 46

CONFIG = """\
# Written by `inboxwarden demo`: the example configuration, pointed at the demo server.
[organisation]
name = "Exempel AB"
domains = ["exempel.se"]
timezone = "Europe/Stockholm"
language = "sv"
policy_url = "https://intranet.exempel.se/integritetspolicy"

[cycle]
anchor_day = 1
grace_business_days = 5
holidays = "SE"

[mode]
default = "notify"

[imap]
host = "127.0.0.1"
port = {port}
security = "starttls"
ca_file = "ca.pem"
auth = "master"
master_user = "{master}"
password_file = "secrets/imap-master"
max_connections = 3
retry_backoff_seconds = 0.5

[directory]
path = "employees.csv"

[state]
url = "sqlite:///{state}"

[audit]
hmac_key_file = "secrets/audit-key"

{rules}
[default_rule]
action = "report"

[report]
directory = "reports"
"""


def _say(text: str = "", *, bold: bool = False) -> None:
    click.secho(text, bold=bold)


def _write_setup(out: Path, server: LocalDovecot, master_password: str) -> Path:
    (out / "secrets").mkdir(parents=True, exist_ok=True)
    (out / "secrets" / "imap-master").write_text(master_password + "\n", encoding="utf-8")
    (out / "secrets" / "audit-key").write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
    for secret in (out / "secrets").iterdir():
        secret.chmod(0o600)
    rows = ["email,login,manager,team,language,mode,legal_hold,excluded"]
    rows += [
        f"{e},{e},{MANAGER},{team},{lang},{mode},{hold},false"
        for e, team, lang, mode, hold in EMPLOYEES
    ]
    rows.append(f"{MANAGER},{MANAGER},,Ledning,sv,,false,true")
    (out / "employees.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    # The server's files go when the demo ends; the configuration keeps its own CA copy.
    shutil.copyfile(server.ca_cert_pem, out / "ca.pem")
    state = out / "state.db"
    state.unlink(missing_ok=True)
    config = out / "inboxwarden.toml"
    config.write_text(
        CONFIG.format(
            port=server.port,
            master=MASTER,
            state=state,
            rules=EXAMPLE_RULES,
        ),
        encoding="utf-8",
    )
    return config


def _seed(
    server: LocalDovecot, master_password: str, start: datetime, end: datetime
) -> dict[str, int]:
    """APPEND each employee's mail that arrived between *start* and *end*."""
    seeded: dict[str, int] = {}
    for email, *_ in EMPLOYEES:
        endpoint = Endpoint(server.host, server.port, "starttls", str(server.ca_cert_pem))
        creds = Credentials(email, SecretStr(master_password), "master", MASTER)
        with ImapSession.open(endpoint, creds) as session:
            count = 0
            for raw, when in inbox_messages(
                email, start=SEED_FROM, end=end, per_day=4.5, seed=2026
            ):
                if when >= start:
                    session.append("INBOX", raw, (), when)
                    count += 1
        seeded[email] = count
    return seeded


def _folders(server: LocalDovecot, master_password: str, email: str) -> Counter[str]:
    endpoint = Endpoint(server.host, server.port, "starttls", str(server.ca_cert_pem))
    with ImapSession.open(
        endpoint, Credentials(email, SecretStr(master_password), "master", MASTER)
    ) as s:
        counts: Counter[str] = Counter()
        for entry in s.folders():
            if "\\Noselect" in entry.flags:
                continue
            counts[entry.name] = s.select(entry.name, readonly=True).exists
        return counts


def run_demo(out: Path) -> None:
    """Run the demo, writing its configuration, state and outputs under *out*."""
    out.mkdir(parents=True, exist_ok=True)
    master_password = secrets.token_urlsafe(16)
    # Dovecot's socket paths must stay short, so the server lives in /tmp, not in *out*.
    base = Path(tempfile.mkdtemp(prefix="iw-demo-"))
    try:
        with LocalDovecot(base, master_user=MASTER, master_password=master_password) as server:
            _story(out, server, master_password)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _story(out: Path, server: LocalDovecot, master_password: str) -> None:
    _say(
        f"Started a private Dovecot on 127.0.0.1:{server.port} (STARTTLS, master user).", bold=True
    )
    config = _write_setup(out, server, master_password)
    for email, *_ in EMPLOYEES:
        server.add_user(email, secrets.token_urlsafe(12))
    seeded = _seed(server, master_password, SEED_FROM, NOTIFY_AT)
    for email, count in seeded.items():
        _say(f"  seeded {email}: {count} messages, {SEED_FROM:%Y-%m-%d} … {NOTIFY_AT:%Y-%m-%d}")

    settings = load_settings(config)
    directory = load_directory(settings.directory.path)
    state = StateStore.open(settings.state.url)
    runner = MailboxRunner.create(settings, directory, state)
    notify_window = runner.window(NOTIFY_AT)

    _say()
    _say(
        f"1. plan, as of {NOTIFY_AT:%Y-%m-%d %H:%M}, just after the boundary (writes nothing)",
        bold=True,
    )
    _say(plan_table(run_scan(runner, notify_window, dry=True), runner.referencer))

    _say(
        f"2. run --once in notify mode, {NOTIFY_AT:%Y-%m-%d %H:%M}: due mail is flagged", bold=True
    )
    _say(run_table(run_scan(runner, notify_window)))
    digests = demo_digests(runner, out, NOTIFY_AT)
    sent = sum(1 for path in digests if path.suffix == ".eml")
    _say(f"   {sent} digests appended to the employees' INBOXes; copies in {out / 'digests'}")

    more = _seed(server, master_password, NOTIFY_AT, ENFORCE_AT)
    _say(
        f"   … a week passes: {sum(more.values())} new messages arrive, nobody files the old ones."
    )
    _say()

    enforcing = replace(
        runner,
        settings=settings.model_copy(
            update={"mode": settings.mode.model_copy(update={"default": "enforce"})}
        ),
    )
    _say(
        f"3. run --once in enforce mode after the grace period, {ENFORCE_AT:%Y-%m-%d %H:%M}",
        bold=True,
    )
    _say(run_table(run_scan(enforcing, enforcing.window(ENFORCE_AT))))
    _say("   (carin.berg is on legal hold: her newsletters are held, not deleted)")

    _say()
    _say("Folders afterwards:", bold=True)
    for email, *_ in EMPLOYEES:
        counts = _folders(server, master_password, email)
        listing = ", ".join(f"{name} {n}" for name, n in sorted(counts.items()) if n)
        _say(f"  {email}: {listing}")

    report_files = demo_report(runner, out, REPORT_AT)
    register = out / "register.md"
    register.write_text(render_markdown(settings), encoding="utf-8")
    events = len(state.audit_trail())
    state.close()
    _say()
    _say("Outputs:", bold=True)
    _say(f"  configuration   {config}")
    _say(
        f"  state + audit   {settings.state.url.removeprefix('sqlite:///')} ({events} audit events)"
    )
    _say(f"  register        {register}")
    _say(f"  digests         {out / 'digests'}")
    for path in report_files:
        _say(f"  manager report  {path}")
    _say(f"Try: inboxwarden --config {config} register")
