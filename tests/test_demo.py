"""`inboxwarden demo`, the README's first command, runs the whole story end to end."""

from __future__ import annotations

import email
import email.policy

import pytest
from click.testing import CliRunner

from inboxwarden.cli.commands import main

pytestmark = pytest.mark.imap


def test_demo_runs_plan_notify_enforce_and_writes_its_outputs(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for step in ("1. plan", "2. run --once in notify mode", "3. run --once in enforce mode"):
        assert step in result.stdout
    assert "FAILED" not in result.stdout
    assert (out / "register.md").read_text().startswith("# Register över behandling")
    digests = sorted((out / "digests").glob("*.eml"))
    assert len(digests) == 3
    digest = email.message_from_bytes(digests[0].read_bytes(), policy=email.policy.default)
    assert digest["Auto-Submitted"] == "auto-generated"
    reports = sorted((out / "reports").glob("*.html"))
    assert len(reports) == 1


def test_the_demos_configuration_outlives_the_demo_and_signs_as_the_organisation(tmp_path):
    """Its CA file is a copy beside it, not the server's (deleted); its sender is exempel.se."""
    out = tmp_path / "demo"
    assert CliRunner().invoke(main, ["demo", "--out", str(out)]).exit_code == 0
    config = out / "inboxwarden.toml"
    assert 'ca_file = "ca.pem"' in config.read_text() and (out / "ca.pem").is_file()
    # The server is gone, so each mailbox fails to connect (exit 1): not a CA-file error (2).
    result = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert result.exit_code == 1, result.output
    assert "ca_file" not in result.output and "FileNotFoundError" not in result.output
    digest = email.message_from_bytes(
        sorted((out / "digests").glob("*.eml"))[0].read_bytes(), policy=email.policy.default
    )
    assert digest["From"].addresses[0].domain == "exempel.se"
    assert digest["Message-ID"].rstrip(">").endswith("@exempel.se")
