"""The one mailbox runner: every job that works mailbox by mailbox goes through it.

The scan (``run``, ``plan``), the digests, the fan-out scan and ``check`` each say what
to do in one mailbox (a :class:`MailboxJob`); the runner does the rest, the same way
for all of them: one thread pool bounded by ``imap.max_connections``, the login of
the configured method (:class:`~.login.Login`), the lease where the job writes
(:mod:`.leases`), retries of transient failures (:mod:`.retrying`), the time budget
per mailbox, the stop signal of ``serve``, the logging context, and an outcome for
every mailbox. A failing mailbox never stops the others (docs/behaviour.md §5.7).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal, Protocol, TypeVar

import structlog

from inboxwarden.config import Settings, read_secret
from inboxwarden.directory.entries import Directory
from inboxwarden.errors import (
    AuthenticationFailed,
    ConfigError,
    InboxWardenError,
    Interrupted,
    PolicyError,
    TimeBudgetExceeded,
)
from inboxwarden.imap.session import ImapSession
from inboxwarden.mailbox import retrying
from inboxwarden.mailbox.leases import LEASE_TTL, Heartbeat, claim, lease_holder_name
from inboxwarden.mailbox.login import Login
from inboxwarden.policy.cycle import Window
from inboxwarden.policy.people import Employee, Mode
from inboxwarden.policy.references import Referencer
from inboxwarden.state import StateStore

__all__ = ["Ending", "MailboxJob", "MailboxRunner", "Status", "Visit"]

log = structlog.get_logger(__name__)

Status = Literal["ok", "failed", "stopped", "busy"]
OutcomeT = TypeVar("OutcomeT")


@dataclass(frozen=True)
class Ending:
    """How the runner's turn at one mailbox ended."""

    status: Status
    error: BaseException | None = None
    """What made it fail, after the last attempt."""
    attempts: int = 0
    started: bool = True
    """False when the mailbox was never begun (stopped before its turn, or busy)."""

    @property
    def error_name(self) -> str | None:
        """The error's class name: all that is shown where its text may quote mail."""
        return type(self.error).__name__ if self.error is not None else None


@dataclass(frozen=True)
class Visit:
    """One mailbox's turn: who it is, its mode, and how to log in and to check in."""

    entry: Employee
    mode: Mode
    run_id: str | None
    login: Login
    checkpoint: Callable[[], None]
    """Call before each command that must not start once ``serve`` stops or the time
    budget is spent: it raises `Interrupted` or `TimeBudgetExceeded` then, and renews
    the mailbox's lease otherwise."""

    def open_session(self) -> ImapSession:
        """Log in to this mailbox with the configured method."""
        return self.login.open(self.entry)


class MailboxJob(Protocol[OutcomeT]):
    """What one job does in one mailbox; the runner calls these for each mailbox."""

    @property
    def event(self) -> str:
        """The prefix of its log events and thread names: ``mailbox``, ``digest``, …"""

    @property
    def retries(self) -> bool:
        """Whether a transient failure is retried: only where doing it twice is safe."""

    def start(self, entry: Employee, mode: Mode) -> OutcomeT:
        """The outcome before any work; what is reported when the work never runs."""

    def work(self, visit: Visit, outcome: OutcomeT) -> OutcomeT:
        """Do the job in one mailbox; may raise, and may be called again on a retry."""

    def finish(self, visit: Visit, outcome: OutcomeT, ending: Ending) -> OutcomeT:
        """Record and log how the mailbox ended; returns the outcome to report."""


@dataclass(frozen=True)
class MailboxRunner:
    """Everything a job needs to work mailboxes, loaded once and shared by the threads."""

    settings: Settings
    directory: Directory
    state: StateStore
    referencer: Referencer
    login: Login
    sleep: Callable[[float], None] = time.sleep
    #: Set by ``serve`` on SIGTERM: no new mailbox starts, and the one in progress stops
    #: at its next checkpoint (see :attr:`Visit.checkpoint`).
    stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def create(cls, settings: Settings, directory: Directory, state: StateStore) -> MailboxRunner:
        """Read the secrets once, up front: a missing key stops the run before any mailbox."""
        audit = settings.audit
        key = read_secret(audit.hmac_key, audit.hmac_key_file, "audit.hmac_key_file")
        referencer = Referencer(key.get_secret_value().encode())
        return cls(settings, directory, state, referencer, Login.create(settings))

    def window(self, now: datetime) -> Window:
        """The configured cycle as seen at *now*: computed once per job, then passed down."""
        return self.settings.cycle_calendar.window(now)

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

    def limited_to(self, entries: Iterable[Employee]) -> MailboxRunner:
        """This runner over *entries* only (``serve`` sends digests where they are due)."""
        return replace(self, directory=Directory(tuple(entries)))

    def mode_of(self, entry: Employee) -> Mode:
        """The employee's own mode if the directory sets one, else the default.

        See docs/behaviour.md §4.
        """
        return entry.mode or self.settings.mode.default

    def each(
        self,
        job: MailboxJob[OutcomeT],
        entries: Sequence[Employee],
        *,
        run_id: str | None = None,
        leases: bool = False,
    ) -> list[OutcomeT]:
        """Run *job* in each of *entries*, at most ``imap.max_connections`` at once.

        With *leases*, a mailbox is worked on only while this process holds its lease,
        and is ``busy`` when another process does. Outcomes come in the order of
        *entries*.
        """
        holder = lease_holder_name() if leases else None
        workers = max(1, min(self.settings.imap.max_connections, len(entries)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=job.event) as pool:
            return list(pool.map(lambda e: self._one(job, e, run_id, holder), entries))

    def _one(
        self,
        job: MailboxJob[OutcomeT],
        entry: Employee,
        run_id: str | None,
        holder: str | None,
    ) -> OutcomeT:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(run_id=run_id, mailbox=entry.email)
        try:
            mode = self.mode_of(entry)
            outcome = job.start(entry, mode)
            if self.stop.is_set():
                visit = Visit(entry, mode, run_id, self.login, _never)
                return job.finish(visit, outcome, Ending("stopped", started=False))
            if holder is None:
                return self._visit(job, entry, mode, run_id, outcome, lambda: None)
            if not claim(self.state, entry.email, holder):
                log.info(f"{job.event}_busy")
                visit = Visit(entry, mode, run_id, self.login, _never)
                return job.finish(visit, outcome, Ending("busy", started=False))
            try:
                renew = Heartbeat(lambda: self.state.acquire_lease(entry.email, holder, LEASE_TTL))
                return self._visit(job, entry, mode, run_id, outcome, renew)
            finally:
                self.state.release_lease(entry.email, holder)
        finally:
            structlog.contextvars.clear_contextvars()

    def _visit(
        self,
        job: MailboxJob[OutcomeT],
        entry: Employee,
        mode: Mode,
        run_id: str | None,
        outcome: OutcomeT,
        heartbeat: Callable[[], None],
    ) -> OutcomeT:
        imap = self.settings.imap
        deadline = time.monotonic() + imap.mailbox_budget_seconds
        visit = Visit(entry, mode, run_id, self.login, _stoppable(heartbeat, self.stop, deadline))
        tries, attempts = imap.retries if job.retries else 1, 0
        event = job.event

        def on_retry(attempt: int, exc: BaseException) -> None:
            log.warning(
                f"{event}_attempt_failed",
                attempt=attempt,
                error=type(exc).__name__,
                reason=str(exc),
            )

        try:
            # Transient failures only (see .retrying); the last one is re-raised.
            for attempt in retrying.attempts(
                tries=tries,
                backoff_seconds=imap.retry_backoff_seconds,
                total_seconds=min(imap.retry_total_seconds, imap.mailbox_budget_seconds),
                sleep=self.sleep,
                on_retry=on_retry,
            ):
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    outcome = job.work(visit, outcome)
            ending = Ending("ok", attempts=attempts)
        except Interrupted as exc:
            ending = Ending("stopped", exc, attempts)
            log.info(f"{event}_stopped")
        except (AuthenticationFailed, PolicyError, ConfigError) as exc:
            # Retrying the same credentials or policy cannot help.
            ending = Ending("failed", exc, attempts)
            log.error(f"{event}_failed", error=type(exc).__name__, reason=str(exc))
        except InboxWardenError as exc:
            ending = Ending("failed", exc, attempts)
            log.warning(
                f"{event}_failed", attempt=attempts, error=type(exc).__name__, reason=str(exc)
            )
        except Exception as exc:  # a bug must not stop the other mailboxes (docs/behaviour.md §5.7)
            ending = Ending("failed", exc, attempts)
            # The type only at ERROR: an exception's text may quote mailbox content.
            log.error(f"{event}_crashed", error=type(exc).__name__)
            log.debug(f"{event}_crashed_traceback", exc_info=True)
        return job.finish(visit, outcome, ending)


def _stoppable(
    heartbeat: Callable[[], None], stop: threading.Event, deadline: float
) -> Callable[[], None]:
    """*heartbeat*, raising once *stop* is set or the monotonic *deadline* has passed.

    The scan calls it before each journalled command, so a stop lands between two
    commands: the batch in flight is complete and journalled, and recovery needs nothing.
    """

    def beat() -> None:
        if stop.is_set():
            raise Interrupted("the service is stopping")
        if time.monotonic() > deadline:
            raise TimeBudgetExceeded("imap.mailbox_budget_seconds reached; the next run goes on")
        heartbeat()

    return beat


def _never() -> None:
    raise Interrupted("this mailbox was not begun")
