"""`inboxwarden demo`, the README's first command, runs the whole story end to end."""

from __future__ import annotations

import email
import email.policy

import pytest
from click.testing import CliRunner

from inboxwarden.cli import main

pytestmark = pytest.mark.imap


def test_demo_runs_plan_notify_enforce_and_writes_its_outputs(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for step in ("1. plan", "2. run --once in notify mode", "3. run --once in enforce mode"):
        assert step in result.stdout
    assert "FAILED" not in result.stdout
    assert (out / "register.md").read_text().startswith("# Record of processing")
    digests = sorted((out / "digests").glob("*.eml"))
    assert len(digests) == 3
    digest = email.message_from_bytes(digests[0].read_bytes(), policy=email.policy.default)
    assert digest["Auto-Submitted"] == "auto-generated"
    reports = sorted((out / "reports").glob("*.html"))
    assert len(reports) == 1
