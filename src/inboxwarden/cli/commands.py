"""The ``inboxwarden`` command line (docs/behaviour.md §13).

Exit codes (docs/behaviour.md §11): 0 success, 1 some mailboxes failed, 2 bad configuration
or usage. A state database that cannot be reached (PostgreSQL down) is not a configuration
error: it exits 1 with a one-line reason, as a failed mailbox does; a SQLite file that
cannot be created is the configuration's, and exits 2 naming ``state.url``.
Output for people goes to stdout; logs go to stderr, so ``--format json`` stays parseable.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any, NoReturn

import click
import structlog
from click.core import ParameterSource

from inboxwarden import logs
from inboxwarden.cli.check import CheckJob
from inboxwarden.cli.tables import plan_json, plan_table, run_table
from inboxwarden.config import (
    Settings,
    SmtpSettings,
    find_config_path,
    load_settings,
    state_url,
)
from inboxwarden.directory.mapping import EntryProblem
from inboxwarden.directory.source import load_configured_directory
from inboxwarden.errors import ConfigError, DeliveryError, InboxWardenError, StateError
from inboxwarden.imap.providers import profile_for
from inboxwarden.mailbox.runner import MailboxRunner
from inboxwarden.mailbox.scan_job import RunSummary, run_scan
from inboxwarden.state import StateStore

__all__ = [
    "EXIT_CONFIG",
    "EXIT_FAILED_MAILBOXES",
    "Context",
    "check",
    "demo",
    "digest",
    "fanout",
    "mailbox_option",
    "main",
    "now_option",
    "pass_context",
    "plan",
    "register",
    "report",
    "run",
    "serve",
]

log = structlog.get_logger(__name__)
EXIT_FAILED_MAILBOXES = 1
EXIT_CONFIG = 2


def _fail(message: str, code: int = EXIT_CONFIG) -> NoReturn:
    click.echo(f"inboxwarden: {message}", err=True)
    sys.exit(code)


@contextmanager
def _errors_exit() -> Iterator[None]:
    """Configuration problems exit 2 with their message, other known failures exit 1.

    Either way the administrator reads one message, never a traceback.
    """
    try:
        yield
    except ConfigError as exc:
        _fail(str(exc))
    except StateError as exc:
        _fail(f"the state database is unavailable: {exc}", EXIT_FAILED_MAILBOXES)
    except InboxWardenError as exc:
        _fail(f"{type(exc).__name__}: {exc}", EXIT_FAILED_MAILBOXES)


class Context:
    """What the subcommands share: the configuration path, loaded lazily."""

    def __init__(self, config: Path | None) -> None:
        self.config_path = find_config_path(config)
        self._settings: Settings | None = None
        self.directory_problems: tuple[EntryProblem, ...] = ()

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path)
        return self._settings

    def parse_now(self, value: str | None, option: str = "--now") -> datetime:
        """``--now``: an ISO time; without an offset it is read in the organisation's zone."""
        tz = self.settings.organisation.tz
        if value is None:
            return datetime.now(tz)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            _fail(f"{option}: {value!r} is not an ISO 8601 date or time (e.g. 2026-11-01)")
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)

    def runner(self) -> MailboxRunner:
        settings = self.settings
        loaded = load_configured_directory(settings)
        directory, self.directory_problems = loaded.directory, loaded.problems
        state = self.open_state()
        return MailboxRunner.create(settings, directory, state)

    def open_state(self) -> StateStore:
        """The state database; a SQLite file that cannot be made is a `ConfigError`."""
        state = self.settings.state
        where = f"{self.config_path}: field 'state.url'"
        try:
            return StateStore.open(state_url(state))
        except OSError as exc:  # the SQLite file's directory could not be created
            raise ConfigError(f"{where}: cannot create the database: {exc.strerror}") from None
        except StateError as exc:
            if state.is_sqlite:
                raise ConfigError(f"{where}: {exc}") from None
            raise

    def check_templates(self) -> int:
        """Render every digest and report template against the samples (see `Templates`)."""
        from inboxwarden.reports.templating import Templates  # Jinja2 only when needed

        settings = self.settings
        return Templates(settings.digest.templates_dir).check(settings.organisation.tz)


pass_context = click.make_pass_decorator(Context)
now_option = click.option("--now", "now", metavar="ISO", help="Run as if at this time.")
mailbox_option = click.option("--mailbox", metavar="ADDR", help="Only this mailbox.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Configuration file [default: $INBOXWARDEN_CONFIG, else /etc/inboxwarden/].",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default="INFO",
    show_default=True,
)
@click.option(
    "--log-format",
    type=click.Choice(["auto", "json", "console"]),
    default="auto",
    show_default=True,
    help="auto: readable on a terminal, JSON otherwise.",
)
@click.version_option(package_name="inboxwarden")
@click.pass_context
def main(ctx: click.Context, config: Path | None, log_level: str, log_format: Any) -> None:
    """Keep employees' mailboxes in line with the monthly inbox rule."""
    logs.configure(log_level, log_format)
    ctx.obj = Context(config)


@main.command()
@pass_context
def check(ctx: Context) -> None:
    """Validate the configuration and directory, log in to every mailbox."""
    with _errors_exit():
        runner = ctx.runner()
        employees = runner.chosen(None)
        rendered = ctx.check_templates()
        click.echo(f"configuration ok: {ctx.config_path}")
        click.echo(f"directory ok: {len(employees)} active mailboxes")
        click.echo(f"templates ok: {rendered} rendered against sample data")
        for problem in ctx.directory_problems:  # LDAP entries, by DN: for the admin's eyes only
            click.echo(f"  directory entry {problem}")
        settings = runner.settings
        profile = profile_for(settings.oauth.provider)
        click.echo(f"provider profile: {profile.title}")
        job = CheckJob(settings, runner.login.description, profile)
        failed = 0
        for checked in runner.each(job, employees):
            failed += not checked.ok
            for line in checked.lines:
                click.echo(line)
        failed += not _check_delivery(settings)
    sys.exit(EXIT_FAILED_MAILBOXES if failed else 0)


def _check_delivery(settings: Settings) -> bool:
    """Warn about senders outside the organisation's domains; test the SMTP relay if set.

    The relay is tested (connect, TLS, login; nothing is sent) when ``[smtp]`` is
    configured or digests go by SMTP. Returns False when the relay fails.
    """
    from inboxwarden.reports.smtp import SmtpEndpoint, probe

    domains = settings.organisation.domains
    for key, sender in (
        ("digest.from", settings.digest.from_),
        ("report.from", settings.report.from_),
    ):
        domain = parseaddr(sender)[1].rpartition("@")[2].lower()
        if not any(domain == d or domain.endswith("." + d) for d in domains):  # subdomains too
            click.echo(
                f"warning: {key} {sender!r} is not in organisation.domains; "
                "receiving filters may reject it"
            )
    smtp = settings.smtp
    if smtp == SmtpSettings() and settings.digest.delivery != "smtp":
        click.echo(
            f"smtp: not configured; `report` would send through {smtp.host}:{smtp.port} "
            "(use `report --dry-run` to only write the reports)"
        )
        return True
    where = f"{smtp.host}:{smtp.port} ({smtp.security})"
    try:
        probe(SmtpEndpoint.from_settings(smtp))
    except (DeliveryError, ConfigError) as exc:
        click.echo(f"smtp: {where} FAILED ({type(exc).__name__}: {exc})")
        return False
    click.echo(f"smtp: ok, {where}" + (f", logged in as {smtp.username}" if smtp.username else ""))
    return True


@main.command()
@mailbox_option
@now_option
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option("--detail", is_flag=True, help="List each due message by date, size and reference.")
@pass_context
def plan(ctx: Context, mailbox: str | None, now: str | None, fmt: str, detail: bool) -> None:
    """Show what a run would do, writing nothing."""
    with _errors_exit():
        runner = ctx.runner()
        summary = run_scan(runner, runner.window(ctx.parse_now(now)), only=mailbox, dry=True)
        if fmt == "json":
            click.echo(
                json.dumps(
                    plan_json(summary, runner.referencer, detail), ensure_ascii=False, indent=2
                )
            )
        else:
            click.echo(plan_table(summary, runner.referencer, detail))
    _exit_for(summary)


@main.command()
@click.option("--once", is_flag=True, help="One pass, then exit (the daemon is `serve`).")
@mailbox_option
@now_option
@pass_context
def run(ctx: Context, once: bool, mailbox: str | None, now: str | None) -> None:
    """One scan, flag and enforce pass in each mailbox's mode."""
    if not once:
        _fail("run needs --once; the scheduled daemon is a separate command")
    with _errors_exit():
        runner = ctx.runner()
        summary = run_scan(runner, runner.window(ctx.parse_now(now)), only=mailbox)
        click.echo(run_table(summary))
    _exit_for(summary)


@main.command()
@pass_context
def serve(ctx: Context) -> None:
    """Run the schedules in the foreground until SIGTERM or SIGINT (the service)."""
    from inboxwarden.service.daemon import serve as run_service  # apscheduler, HTTP

    with _errors_exit():
        try:
            code = run_service(ctx.settings)
        except ConfigError:
            raise
        except InboxWardenError as exc:  # the state cannot be opened: let the supervisor retry
            _fail(str(exc), EXIT_FAILED_MAILBOXES)
    sys.exit(code)


@main.command()
@mailbox_option
@now_option
@pass_context
def digest(ctx: Context, mailbox: str | None, now: str | None) -> None:
    """Send the employee digests now."""
    from inboxwarden.reports import digest_table, send_digests

    with _errors_exit():
        ctx.check_templates()  # a broken template stops before the first digest goes out
        runner = ctx.runner()
        outcomes = send_digests(runner, runner.window(ctx.parse_now(now)), only=mailbox)
        click.echo(digest_table(outcomes))
    sys.exit(EXIT_FAILED_MAILBOXES if any(o.status == "failed" for o in outcomes) else 0)


@main.command()
@click.option("--week", metavar="YYYY-Www", help="ISO week [default: the last whole week].")
@click.option("--manager", metavar="ADDR", help="Only this manager's report.")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write the reports here [default: report.directory].",
)
@click.option("--dry-run", is_flag=True, help="Write the reports; send nothing.")
@now_option
@pass_context
def report(
    ctx: Context,
    week: str | None,
    manager: str | None,
    out: Path | None,
    dry_run: bool,
    now: str | None,
) -> None:
    """Build the weekly manager reports, write them, and send them by SMTP."""
    from inboxwarden.reports import build_reports, report_table, send_reports

    with _errors_exit():
        settings = ctx.settings
        ctx.check_templates()  # a broken template stops before the first report goes out
        state = ctx.open_state()
        try:
            reports = build_reports(
                settings,
                state,
                load_configured_directory(settings).directory,
                now=ctx.parse_now(now),
                week=week,
                manager=manager,
            )
            outcomes = send_reports(reports, settings, out_dir=out, dry_run=dry_run)
        finally:
            state.close()
        click.echo(report_table(outcomes))
    sys.exit(EXIT_FAILED_MAILBOXES if any(o.status == "failed" for o in outcomes) else 0)


@main.command()
@mailbox_option
@click.option(
    "--since", metavar="DATE", help="Scan from this date [default: fanout.window_days ago]."
)
@now_option
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@pass_context
def fanout(ctx: Context, mailbox: str | None, since: str | None, now: str | None, fmt: str) -> None:
    """Scan for and list CC fan-out findings (personal data sent to too many people)."""
    from inboxwarden.fanout.job import fanout_json, fanout_table, run_fanout

    with _errors_exit():
        when = ctx.parse_now(now)
        start = ctx.parse_now(since, "--since") if since else None
        outcomes = run_fanout(ctx.runner(), when, only=mailbox, since=start)
        if fmt == "json":
            click.echo(json.dumps(fanout_json(outcomes), ensure_ascii=False, indent=2))
        else:
            click.echo(fanout_table(outcomes), nl=False)
    sys.exit(EXIT_FAILED_MAILBOXES if any(o.status != "ok" for o in outcomes) else 0)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@pass_context
def register(ctx: Context, fmt: str) -> None:
    """Print the record of processing the rules imply."""
    # Here, not at the top: the reports package loads Jinja2 and the detectors, which
    # every other command (run --once above all) would pay for at start-up.
    from inboxwarden.reports.register import register_entries, render_markdown

    with _errors_exit():
        settings = ctx.settings
        if fmt == "json":
            click.echo(
                json.dumps({"rules": register_entries(settings)}, ensure_ascii=False, indent=2)
            )
        else:
            click.echo(render_markdown(settings))


@main.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("demo-output"),
    show_default=True,
    help="Where the demo writes its configuration, state and outputs.",
)
@click.pass_context
def demo(ctx: click.Context, out: Path) -> None:
    """The whole cycle against a disposable local IMAP server with sample mailboxes."""
    from inboxwarden.demo.command import run_demo  # the demo pulls in the local server tooling

    parent = ctx.parent
    if parent is not None and parent.get_parameter_source("log_level") is ParameterSource.DEFAULT:
        # The demo tells its own story; per-mailbox log lines would drown it.
        logs.configure("WARNING", parent.params["log_format"])

    try:
        run_demo(out.resolve())
    except InboxWardenError as exc:
        _fail(str(exc), EXIT_FAILED_MAILBOXES)


def _exit_for(summary: RunSummary) -> None:
    sys.exit(EXIT_FAILED_MAILBOXES if summary.failed else 0)
