"""Runs the monthly rule over every mailbox: connect, scan, plan, apply, remember.

The imperative shell around the pure policy code. One mailbox is one unit of work with
its own connection; a failing mailbox is retried with backoff and then reported, and
never stops the others (docs/behaviour.md §5.7). ``plan`` runs the very same path with
nothing applied.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from pydantic import SecretStr

from inboxwarden.config import Settings, password_file_for, read_secret
from inboxwarden.directory.entries import Directory
from inboxwarden.errors import (
    AuthenticationFailed,
    ConfigError,
    FolderError,
    Interrupted,
    MailboxError,
    PolicyError,
    TimeBudgetExceeded,
)
from inboxwarden.imap.providers import learned_limits, profile_for
from inboxwarden.imap.session import TOKEN_METHODS, Credentials, Endpoint, ImapSession
from inboxwarden.mailbox import retrying
from inboxwarden.mailbox.actions import Applied, SelectedFolder, apply_batches, apply_flags
from inboxwarden.mailbox.inbox_scan import scan_inbox
from inboxwarden.mailbox.recovery import recover_transfers
from inboxwarden.oauth.cache import TokenSource
from inboxwarden.policy.cycle import Cycle
from inboxwarden.policy.folder_naming import name_characters
from inboxwarden.policy.matching import RuleBook
from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.people import Employee, Mode
from inboxwarden.policy.planning import (
    MailboxFacts,
    MailboxPlan,
    plan_mailbox,
    recorded_target,
    withhold,
)
from inboxwarden.policy.references import Referencer
from inboxwarden.state import StateStore

log = structlog.get_logger(__name__)
INBOX = "INBOX"
#: How long a claim on a mailbox lasts without renewal: a holder that died (kill -9,
#: power cut) frees its mailboxes after this; a live one renews well before.
LEASE_TTL = timedelta(minutes=10)


@dataclass
class MailboxOutcome:
    """What happened in one mailbox during a run."""

    mailbox: str
    mode: Mode
    status: str = "ok"
    error: str | None = None
    plan: MailboxPlan | None = None
    applied: Applied = field(default_factory=Applied)
    skipped: int = 0
    attempts: int = 0
    commands: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        """Add the wall time spent in *phase* (connect, scan, plan, apply) to the timings."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[phase] = self.timings.get(phase, 0.0) + time.perf_counter() - start

    def counts(self) -> dict[str, int]:
        """The numbers stored per run and printed in the summary; no message details."""
        p, a = self.plan, self.applied
        return {
            "inbox": p.inbox if p else 0,
            "due": p.due if p else 0,
            "overdue": p.overdue if p else 0,
            "held": p.held if p else 0,
            "flagged": a.flagged,
            "unflagged": a.unflagged,
            "moved": a.moved,
            "deleted": a.deleted,
            "vanished": a.vanished,
            "refused": a.refused,
            "recovered": a.recovered,
            "given_back": a.given_back,
            "skipped": self.skipped,
            "imap_commands": self.commands,
            **{f"{phase}_ms": round(seconds * 1000) for phase, seconds in self.timings.items()},
        }


@dataclass
class RunSummary:
    """The outcome of one run over all chosen mailboxes."""

    run_id: str | None
    now: datetime
    boundary: datetime
    enforcement_date: datetime
    outcomes: list[MailboxOutcome]

    @property
    def failed(self) -> list[MailboxOutcome]:
        """The mailboxes that failed, or where the server refused part of the work."""
        return [o for o in self.outcomes if o.status in ("failed", "partial")]

    @property
    def busy(self) -> list[MailboxOutcome]:
        """The mailboxes skipped because another process was working on them."""
        return [o for o in self.outcomes if o.status == "busy"]


@dataclass(frozen=True)
class Engine:
    """Everything a run needs, loaded once and shared by the worker threads."""

    settings: Settings
    directory: Directory
    state: StateStore
    referencer: Referencer
    master_secret: SecretStr | None
    sleep: Callable[[float], None] = time.sleep
    #: Where XOAUTH2 / OAUTHBEARER logins get their tokens; None for password logins.
    tokens: TokenSource | None = None
    #: Set by ``serve`` on SIGTERM: no new mailbox starts, and the one in progress stops
    #: before its next journalled command (see :func:`_stoppable`).
    stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def create(cls, settings: Settings, directory: Directory, state: StateStore) -> Engine:
        """Read the secrets once, up front: a missing key stops the run before any mailbox."""
        audit = settings.audit
        key = read_secret(audit.hmac_key, audit.hmac_key_file, "audit.hmac_key_file")
        master = None
        if settings.imap.auth in ("master", "authzid"):
            master = read_secret(
                settings.imap.password, settings.imap.password_file, "imap.password_file"
            )
        tokens = None
        if settings.imap.auth in TOKEN_METHODS:
            from inboxwarden.oauth.sources import token_source  # loads msal or google-auth

            tokens = token_source(settings.oauth)
        return cls(
            settings,
            directory,
            state,
            Referencer(key.get_secret_value().encode()),
            master,
            tokens=tokens,
        )

    @property
    def cycle(self) -> Cycle:
        """The configured monthly cycle."""
        return self.settings.cycle_calendar

    def rulebook(self) -> RuleBook:
        """The configured rules, compiled."""
        return RuleBook.compile(self.settings.all_rules, self.settings.domain_groups)

    def chosen(self, only: str | None) -> list[Employee]:
        """The active employees, or the one named by ``--mailbox``."""
        active = list(self.directory.active())
        if only is None:
            return active
        wanted = only.strip().lower()
        found = [e for e in active if e.email.lower() == wanted]
        if not found:
            raise ConfigError(f"--mailbox: {only} is not an active mailbox in the directory")
        return found

    def run(self, now: datetime, *, only: str | None = None, dry: bool = False) -> RunSummary:
        """Process every chosen mailbox; *dry* (``plan``) writes nothing anywhere."""
        employees = self.chosen(only)
        rules = self.rulebook()
        run_id = None if dry else self.state.start_run("plan" if dry else "run", now)
        # Who holds a mailbox's lease: this process, this run.
        holder = lease_holder_name()
        boundary = self.cycle.boundary(now)
        log.info("run_started", run_id=run_id, mailboxes=len(employees), dry=dry)
        workers = max(1, min(self.settings.imap.max_connections, len(employees)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mailbox") as pool:
            outcomes = list(
                pool.map(lambda e: self._claimed(e, now, rules, run_id, dry, holder), employees)
            )
        summary = RunSummary(run_id, now, boundary, self.cycle.enforcement_date(boundary), outcomes)
        if run_id is not None:
            failed = len(summary.failed)
            self.state.finish_run(run_id, ok=len(outcomes) - failed, failed=failed)
        log.info(
            "run_finished",
            run_id=run_id,
            mailboxes=len(outcomes),
            failed=len(summary.failed),
            moved=sum(o.applied.moved for o in outcomes),
            deleted=sum(o.applied.deleted for o in outcomes),
        )
        return summary

    def mode_of(self, entry: Employee) -> Mode:
        """The employee's own mode if the directory sets one, else the default.

        See docs/behaviour.md §4.
        """
        return entry.mode or self.settings.mode.default

    def _claimed(
        self,
        entry: Employee,
        now: datetime,
        rules: RuleBook,
        run_id: str | None,
        dry: bool,
        holder: str,
    ) -> MailboxOutcome:
        """Work on *entry* only while holding its lease; ``busy`` when another process does.

        ``plan`` writes nothing and takes no lease. The lease is renewed between commands
        (see :class:`Heartbeat`) and released at the end; a holder that dies lets it expire.
        """
        if self.stop.is_set():
            return MailboxOutcome(entry.email, self.mode_of(entry), status="stopped")
        if dry or run_id is None:
            return self._with_retries(entry, now, rules, run_id, dry, lambda: None)
        if not self._claim(entry.email, holder):
            structlog.contextvars.bind_contextvars(run_id=run_id, mailbox=entry.email)
            outcome = MailboxOutcome(entry.email, self.mode_of(entry), status="busy")
            log.info("mailbox_busy")
            self.state.record_mailbox(
                run_id, entry.email, mode=outcome.mode, status="busy", counts=outcome.counts()
            )
            structlog.contextvars.clear_contextvars()
            return outcome
        heartbeat = Heartbeat(lambda: self.state.acquire_lease(entry.email, holder, LEASE_TTL))
        try:
            deadline = time.monotonic() + self.settings.imap.mailbox_budget_seconds
            beat = _stoppable(heartbeat, self.stop, deadline)
            return self._with_retries(entry, now, rules, run_id, dry, beat)
        finally:
            self.state.release_lease(entry.email, holder)

    def _claim(self, mailbox: str, holder: str) -> bool:
        if self.state.acquire_lease(mailbox, holder, LEASE_TTL):
            return True
        # A holder on this machine whose process is gone (kill -9, a crash) need not be
        # waited out for the lease's lifetime: its journal makes taking over safe.
        current = self.state.lease_holder(mailbox)
        if current is not None and _died_here(current):
            log.warning("lease_taken_over", reason="holder process is gone")
            return self.state.take_over_lease(mailbox, current, holder, LEASE_TTL)
        return False

    def _with_retries(
        self,
        entry: Employee,
        now: datetime,
        rules: RuleBook,
        run_id: str | None,
        dry: bool,
        heartbeat: Callable[[], None],
    ) -> MailboxOutcome:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(run_id=run_id, mailbox=entry.email)
        outcome = MailboxOutcome(entry.email, self.mode_of(entry))
        imap = self.settings.imap
        try:
            # Transient failures only (see inboxwarden.mailbox.retrying); the last one is re-raised.
            for attempt in retrying.attempts(
                tries=imap.retries,
                backoff_seconds=imap.retry_backoff_seconds,
                total_seconds=min(imap.retry_total_seconds, imap.mailbox_budget_seconds),
                sleep=self.sleep,
                on_retry=_log_retry,
            ):
                with attempt:
                    outcome.attempts = attempt.retry_state.attempt_number
                    self._process(entry, outcome, now, rules, run_id, dry, heartbeat)
            outcome.status, outcome.error = "ok", None
            if outcome.applied.refused:
                # The server refused part of the work: not a success (exit code 1).
                outcome.status, outcome.error = "partial", "refused"
        except Interrupted:
            outcome.status, outcome.error = "stopped", None
            log.info("mailbox_stopped")
        except (AuthenticationFailed, PolicyError, ConfigError) as exc:
            # Retrying the same credentials or policy cannot help.
            outcome.status, outcome.error = "failed", type(exc).__name__
            log.error("mailbox_failed", error=type(exc).__name__, reason=str(exc))
        except MailboxError as exc:
            outcome.status, outcome.error = "failed", type(exc).__name__
            log.warning(
                "mailbox_attempt_failed",
                attempt=outcome.attempts,
                error=type(exc).__name__,
                reason=str(exc),
            )
        except Exception as exc:  # a bug must not stop the other mailboxes (docs/behaviour.md §5.7)
            outcome.status, outcome.error = "failed", type(exc).__name__
            # The type only at ERROR: an exception's text may quote mailbox content.
            log.error("mailbox_crashed", error=type(exc).__name__)
            log.debug("mailbox_crashed_traceback", exc_info=True)
        if run_id is not None:
            self.state.record_mailbox(
                run_id,
                entry.email,
                mode=outcome.mode,
                status=outcome.status,
                counts=outcome.counts(),
                error=outcome.error,
            )
        log.info("mailbox_done", status=outcome.status, mode=outcome.mode, **outcome.counts())
        structlog.contextvars.clear_contextvars()
        return outcome

    def open_session(self, entry: Employee) -> ImapSession:
        """Log in to *entry*'s mailbox with the configured method."""
        imap = self.settings.imap
        endpoint = Endpoint(
            host=imap.host,
            port=imap.effective_port,
            security=imap.security,
            ca_file=str(imap.ca_file) if imap.ca_file else None,
            timeout=imap.timeout_seconds,
        )
        if self.tokens is not None:
            secret = self.tokens.token_for(entry.login)
        elif imap.auth == "password":
            if imap.passwords_dir is None:
                raise ConfigError("imap.passwords_dir: required for auth = 'password'")
            # The login is the directory's; password_file_for keeps it inside the dir.
            path = password_file_for(imap.passwords_dir, entry.login)
            secret = read_secret(None, path, "imap.passwords_dir")
        elif self.master_secret is not None:
            secret = self.master_secret
        else:
            raise ConfigError("imap.password_file: required for a master-user login")
        credentials = Credentials(entry.login, secret, imap.auth, imap.master_user)
        session = ImapSession.open(endpoint, credentials)
        # What the configuration sets wins; otherwise what the server says it accepts.
        limits = learned_limits(profile_for(self.settings.oauth.provider), session.server_id)
        line = imap.max_line_length or limits.max_line_length
        session.max_set_chars = line - 200  # room for the verb and folder
        session.batch_size = imap.batch_size or limits.batch_size
        log.debug("command_limits", source=limits.source, line=line, batch=session.batch_size)
        return session

    def _process(
        self,
        entry: Employee,
        outcome: MailboxOutcome,
        now: datetime,
        rules: RuleBook,
        run_id: str | None,
        dry: bool,
        heartbeat: Callable[[], None],
    ) -> None:
        settings = self.settings
        writes = not dry and outcome.mode != "observe"
        with outcome.timed("connect"):
            session = self.open_session(entry)
        with session:
            with outcome.timed("select"):
                trash, no_trash = find_trash(session, create=writes)
                folder = session.select(INBOX, readonly=not writes)
            if not dry and self.state.check_uidvalidity(entry.email, INBOX, folder.uidvalidity):
                log.warning("uidvalidity_changed", folder=INBOX)
            selected = SelectedFolder(
                session,
                self.state,
                run_id or "plan",
                entry.email,
                INBOX,
                folder.uidvalidity,
                self.referencer,
                heartbeat,
            )
            applied = Applied()
            if writes and run_id is not None:
                with outcome.timed("recover"):
                    applied = recover_transfers(selected)
                    if applied.recovered or applied.given_back:
                        folder = session.select(INBOX, readonly=False)
            records = self.state.flag_records(entry.email, INBOX, folder.uidvalidity)
            keyword = settings.flag.keyword
            with outcome.timed("scan"):
                scan = scan_inbox(
                    session,
                    now=now,
                    cycle=self.cycle,
                    rules=rules,
                    keyword=keyword if folder.keywords_allowed else None,
                    known_uids=records,
                    batch_size=session.batch_size,
                )
            with outcome.timed("plan"):
                namespace = session.namespace()
                facts = MailboxFacts(
                    namespace.separator,
                    folder.keywords_allowed,
                    trash,
                    prefix=namespace.prefix,
                    refused=session.refused_characters(name_characters(scan.messages, rules)),
                    no_trash_reason=no_trash,
                )
                plan = plan_mailbox(
                    entry,
                    scan.messages,
                    mode=outcome.mode,
                    records=records,
                    inbox_uids=scan.uids,
                    inbox_count=folder.exists,
                    now=now,
                    cycle=self.cycle,
                    rules=rules,
                    facts=facts,
                    keyword=keyword,
                    also_flagged=settings.flag.also_flagged,
                )
                withhold(plan, target_refusals(session, plan.targets))
            outcome.plan, outcome.skipped = plan, scan.skipped
            if writes and run_id is not None:
                self._apply(selected, plan, scan.messages, applied, outcome)
            outcome.applied = applied
            outcome.commands = session.commands

    def _apply(
        self,
        selected: SelectedFolder,
        plan: MailboxPlan,
        messages: list[MessageInfo],
        applied: Applied,
        outcome: MailboxOutcome,
    ) -> None:
        settings = self.settings
        keyword = settings.flag.keyword
        with outcome.timed("apply"):
            by_uid = {m.uid: m for m in messages}
            flagged = apply_flags(selected, plan, by_uid, keyword)
            applied.flagged, applied.unflagged = flagged.flagged, flagged.unflagged
            if plan.mode == "enforce":
                moved = apply_batches(
                    selected, plan, by_uid, keyword, batch_size=selected.session.batch_size
                )
                for name in ("moved", "deleted", "vanished", "refused", "given_back", "audited"):
                    setattr(applied, name, getattr(applied, name) + getattr(moved, name))
                applied.reasons += moved.reasons
                # What the plan already knew the server would refuse was not attempted.
                personal = {r.name for r in self.settings.all_rules if r.folder_names_are_personal}
                for withheld in plan.withheld:
                    applied.refused += len(withheld.uids)
                    shown = recorded_target(
                        withheld.target, withheld.rule in personal, self.referencer
                    )
                    applied.reasons.append(f"{shown or 'Trash'}: {withheld.reason}")


def find_trash(session: ImapSession, *, create: bool) -> tuple[str | None, str]:
    """The trash folder, and why there is none when there is none.

    A missing trash is created where this run may write (``notify`` and ``enforce``
    runs, before any delete is due); otherwise the name it would get is returned when
    the server would allow it, so ``plan`` shows what a run will do.
    """
    found = session.special_folder("\\Trash")
    if found is not None:
        return found, ""
    if create:
        try:
            return session.ensure_trash(), ""
        except FolderError as exc:
            log.warning("trash_not_created", reason=str(exc))
            return None, f"no Trash folder: {exc}"
    name = f"{session.namespace().prefix}Trash"
    code = session.refusal(name)
    if code is not None:
        return None, f"no Trash folder, and the server refuses to create one [{code}]"
    return name, ""


def target_refusals(session: ImapSession, targets: list[str]) -> dict[str, str]:
    """The target folders the server would refuse, each with the response code that says
    so; all of them where the server can neither MOVE nor COPY + UID EXPUNGE."""
    if not (session.has("MOVE") or session.has("UIDPLUS")):
        return dict.fromkeys(targets, "the server has neither MOVE nor UIDPLUS")
    refusals: dict[str, str] = {}
    for target in targets:
        code = session.refusal(target)
        if code is not None:
            refusals[target] = f"the server refuses this folder [{code}]"
    return refusals


def lease_holder_name() -> str:
    """This process's name in the leases: host, process id and a nonce for this run."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _died_here(holder: str) -> bool:
    """True when *holder* names a process on this host that no longer exists."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname()[:32] or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists, owned by someone else
    return False


def _stoppable(
    heartbeat: Callable[[], None], stop: threading.Event, deadline: float
) -> Callable[[], None]:
    """*heartbeat*, raising once *stop* is set or the monotonic *deadline* has passed.

    The heartbeat runs before each journalled command, so a stop lands between two
    commands: the batch in flight is complete and journalled, and recovery needs nothing.
    """

    def beat() -> None:
        if stop.is_set():
            raise Interrupted("the service is stopping")
        if time.monotonic() > deadline:
            raise TimeBudgetExceeded("imap.mailbox_budget_seconds reached; the next run goes on")
        heartbeat()

    return beat


def _log_retry(attempt: int, exc: BaseException) -> None:
    log.warning(
        "mailbox_attempt_failed", attempt=attempt, error=type(exc).__name__, reason=str(exc)
    )


class Heartbeat:
    """Renews a lease when called, at most once per a third of its lifetime."""

    def __init__(self, renew: Callable[[], bool], every: timedelta = LEASE_TTL / 3) -> None:
        self._renew = renew
        self._every = every.total_seconds()
        self._last = time.monotonic()

    def __call__(self) -> None:
        if time.monotonic() - self._last >= self._every:
            self._renew()
            self._last = time.monotonic()
