"""``inboxwarden serve``: the scheduler, the health endpoint and the signals, in the foreground.

systemd, a container runtime or Kubernetes supervises the process; it does not fork.
The first SIGTERM or SIGINT sets the stop signal: no new mailbox starts, each mailbox in
progress stops before its next journalled command, connections close, and the process
exits 0 (well within 30 s). A second signal exits at once: the transfer journal makes
even that safe, and the next start recovers it.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType
from typing import Any

import structlog

from inboxwarden.config import Settings
from inboxwarden.errors import ConfigError
from inboxwarden.service.health import HealthCheck, HealthServer
from inboxwarden.service.jobs import Jobs, job_kind
from inboxwarden.service.metrics import JOBS, Metrics
from inboxwarden.service.scheduler import Scheduler, missed_time
from inboxwarden.state import StateStore

__all__ = ["EXIT_FORCED", "serve"]

log = structlog.get_logger(__name__)

#: Exit status after a second signal: the process did not finish its work.
EXIT_FORCED = 1


def serve(settings: Settings) -> int:
    """Run the schedules until a signal; returns the exit status."""
    state = StateStore.open(settings.state.url)
    stop = threading.Event()
    metrics = Metrics()
    jobs = Jobs(settings, state, metrics, stop)
    scheduler = Scheduler(settings.organisation.tz, settings.schedule.misfire_grace_seconds)
    for name in JOBS:
        job = jobs.guarded(name, getattr(jobs, name))
        expression = getattr(settings.schedule, name)
        missed = missed_time(
            expression,
            settings.organisation.tz,
            jobs.now(),
            settings.schedule.misfire_grace_seconds,
            state.last_run_started(job_kind(name)),
        )
        if missed is not None:
            log.info("job_missed", job=name, scheduled=missed.isoformat())
        scheduler.add(name, expression, job, now=missed is not None)

    def health() -> tuple[bool, dict[str, Any]]:
        running, reachable = scheduler.running and not stop.is_set(), state.reachable()
        body = {"status": "ok" if running and reachable else "unavailable"}
        return running and reachable, {**body, "scheduler": running, "state": reachable}

    try:
        server = _health_server(settings.service.listen, health, metrics)
    except ConfigError:
        state.close()
        raise
    _on_signals(stop)
    scheduler.start()
    if server is not None:
        server.start()
    log.info(
        "service_started",
        next_runs={k: v.isoformat() if v else None for k, v in scheduler.next_runs().items()},
    )
    try:
        while not stop.wait(1.0):
            pass
        log.info("service_stopping")
        scheduler.shutdown()  # waits for the jobs in progress, which stop between commands
    finally:
        if server is not None:
            server.close()
        state.close()
    log.info("service_stopped")
    return 0


def _health_server(listen: str, health: HealthCheck, metrics: Metrics) -> HealthServer | None:
    if not listen:
        return None
    try:
        return HealthServer(listen, health, metrics.exposition)
    except OSError as exc:  # the port is taken, or the address is not this host's
        raise ConfigError(f"service.listen: cannot listen on {listen}: {exc.strerror}") from exc


def _on_signals(stop: threading.Event) -> None:
    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            log.warning("service_killed", signal=signal.Signals(signum).name)
            os._exit(EXIT_FORCED)
        log.info("service_signal", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
