"""``/healthz`` and ``/metrics``: status codes, the metric names, no address in a label."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime

import pytest

from inboxwarden.mailbox.enforcement import MailboxOutcome
from inboxwarden.mailbox.scan_job import RunSummary
from inboxwarden.mailbox.selected import Applied
from inboxwarden.policy.cycle import Cycle
from inboxwarden.service.health import HealthServer
from inboxwarden.service.jobs import Jobs
from inboxwarden.service.metrics import Metrics
from tests.kit.engine import GRACE


def get(port: int, path: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.headers["Content-Type"], r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


@pytest.fixture(name="served")
def _served():
    state = {"healthy": True}
    metrics = Metrics()
    server = HealthServer(
        "127.0.0.1:0", lambda: (state["healthy"], {"status": "x"}), metrics.exposition
    )
    server.start()
    yield server, state, metrics
    server.close()


def test_healthz_is_200_while_healthy_and_503_otherwise(served):
    server, state, _ = served
    status, content_type, body = get(server.port, "/healthz")
    assert (status, content_type, json.loads(body)) == (200, "application/json", {"status": "x"})
    state["healthy"] = False
    assert get(server.port, "/healthz")[0] == 503


def test_metrics_are_prometheus_text_with_the_names_of_the_issue(served):
    server, _, metrics = served
    metrics.job_finished("scan", True, 1.5, 1_700_000_000)
    metrics.count_digest("boundary")
    metrics.count_finding("high")
    status, content_type, body = get(server.port, "/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    for line in (
        'inboxwarden_job_runs_total{job="scan",outcome="ok"} 1.0',
        'inboxwarden_job_runs_total{job="scan",outcome="failed"} 0.0',
        'inboxwarden_job_duration_seconds_count{job="scan"} 1.0',
        'inboxwarden_job_last_success_timestamp_seconds{job="scan"} 1.7e+09',
        'inboxwarden_mailboxes_total{status="failed"} 0.0',
        'inboxwarden_messages_total{action="moved"} 0.0',
        'inboxwarden_fanout_findings_total{severity="high"} 1.0',
        'inboxwarden_digests_sent_total{kind="boundary"} 1.0',
    ):
        assert line in body, line


def test_an_unknown_path_is_404(served):
    assert get(served[0].port, "/")[0] == 404


def test_a_run_is_counted_by_status_and_action_and_no_label_names_a_mailbox():
    metrics = Metrics()
    ok = MailboxOutcome("anna@exempel.se", "enforce", skipped=2)
    ok.applied = Applied(flagged=3, moved=4, deleted=5)
    failed = MailboxOutcome("bo@exempel.se", "enforce", status="failed", error="ConnectionLost")
    now = datetime(2026, 11, 3, tzinfo=GRACE.tzinfo)
    Jobs(None, None, metrics)._count_run(RunSummary("r", Cycle().window(now), [ok, failed]))  # type: ignore[arg-type]
    body = metrics.exposition()[0].decode()
    for line in (
        'inboxwarden_mailboxes_total{status="ok"} 1.0',
        'inboxwarden_mailboxes_total{status="failed"} 1.0',
        'inboxwarden_messages_total{action="flagged"} 3.0',
        'inboxwarden_messages_total{action="moved"} 4.0',
        'inboxwarden_messages_total{action="deleted"} 5.0',
        'inboxwarden_messages_total{action="skipped"} 2.0',
    ):
        assert line in body, line
    assert "@" not in body
