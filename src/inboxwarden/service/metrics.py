"""The Prometheus metrics of ``serve``; the only module that imports prometheus_client.

Every label value comes from a small fixed set (job names, statuses, actions, kinds,
severities): never an address, a subject or a folder name, which would both leak
personal data and grow the series without bound.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["JOBS", "MESSAGE_ACTIONS", "Metrics"]

JOBS = ("scan", "fanout", "report", "retention")
#: The message counts of a run, by the action label they are exported under.
MESSAGE_ACTIONS = ("flagged", "moved", "deleted", "held", "skipped")


class Metrics:
    """The service's counters, in a registry of their own (no process-global state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.job_runs = Counter(
            "inboxwarden_job_runs", "Scheduled job runs by outcome.", ["job", "outcome"], registry=r
        )
        self.job_duration = Histogram(
            "inboxwarden_job_duration_seconds",
            "Wall time of the scheduled jobs.",
            ["job"],
            buckets=(1, 5, 15, 60, 300, 900, 1800, 3600, 7200, float("inf")),
            registry=r,
        )
        self.job_last_success = Gauge(
            "inboxwarden_job_last_success_timestamp_seconds",
            "When each job last finished without error (Unix time).",
            ["job"],
            registry=r,
        )
        self.mailboxes = Counter(
            "inboxwarden_mailboxes",
            "Mailboxes worked on by the scan, by status.",
            ["status"],
            registry=r,
        )
        self.messages = Counter(
            "inboxwarden_messages",
            "Messages acted on by the scan, by action.",
            ["action"],
            registry=r,
        )
        self.findings = Counter(
            "inboxwarden_fanout_findings",
            # A message stays in the scan window for fanout.window_days, so each daily
            # scan counts it again; the state stores it once.
            "CC fan-out findings seen by the fan-out scans, by severity.",
            ["severity"],
            registry=r,
        )
        self.digests = Counter(
            "inboxwarden_digests_sent", "Employee digests sent, by kind.", ["kind"], registry=r
        )
        # Series that exist from the start, so a dashboard shows 0 rather than nothing.
        for job in JOBS:
            for outcome in ("ok", "failed"):
                self.job_runs.labels(job=job, outcome=outcome)
        for status in ("ok", "failed"):
            self.mailboxes.labels(status=status)
        for action in MESSAGE_ACTIONS:
            self.messages.labels(action=action)
        for kind in ("boundary", "reminder"):
            self.digests.labels(kind=kind)

    def job_finished(self, job: str, ok: bool, seconds: float, finished_at: float) -> None:
        """Count one run of *job*; a success also moves its last-success time."""
        self.job_runs.labels(job=job, outcome="ok" if ok else "failed").inc()
        self.job_duration.labels(job=job).observe(seconds)
        if ok:
            self.job_last_success.labels(job=job).set(finished_at)

    def count_mailbox(self, status: str) -> None:
        """One mailbox done with *status* (ok, failed, partial, busy, stopped)."""
        self.mailboxes.labels(status=status).inc()

    def count_messages(self, action: str, count: int) -> None:
        """*count* messages had *action*, one of :data:`MESSAGE_ACTIONS`."""
        if count:
            self.messages.labels(action=action).inc(count)

    def count_finding(self, severity: str) -> None:
        """One new fan-out finding."""
        self.findings.labels(severity=severity).inc()

    def count_digest(self, kind: str) -> None:
        """One digest sent."""
        self.digests.labels(kind=kind).inc()

    def exposition(self) -> tuple[bytes, str]:
        """The metrics in Prometheus text format, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
