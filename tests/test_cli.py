"""The command line: output shapes, exit codes (docs/behaviour.md §11, §13), against the real Dovecot."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from inboxwarden.cli.commands import main
from tests.kit.engine import mail, write_config
from tests.kit.seeding import seed
from tests.kit.servers import new_user

NOW = "2026-11-20T03:00"  # no offset: read in Europe/Stockholm


def invoke(*args: str):
    return CliRunner().invoke(main, ["--log-format", "json", *args])


@pytest.fixture(name="config")
def _config(dovecot, tmp_path):
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("invoice", 2) + mail("newsletter", 1) + mail("other", 1))
    return write_config(tmp_path, dovecot, [email])


@pytest.mark.imap
def test_plan_json_has_the_documented_shape_and_writes_nothing(config, tmp_path):
    result = invoke("--config", str(config), "plan", "--now", NOW, "--format", "json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert set(plan) == {"now", "boundary", "enforcement_date", "mailboxes"}
    assert plan["now"] == "2026-11-20T03:00:00+01:00"
    assert plan["boundary"] == "2026-11-01T00:00:00+01:00"
    assert plan["enforcement_date"] == "2026-11-09T00:00:00+01:00"
    [box] = plan["mailboxes"]
    assert {"mailbox", "mode", "inbox", "due", "overdue", "actions"} <= set(box)
    assert (box["inbox"], box["due"], box["overdue"]) == (4, 4, 4)
    actions = {(a["rule"], a["action"], a["target"]): a["count"] for a in box["actions"]}
    assert actions == {
        ("invoices", "move", "Bokföring/2026"): 2,
        ("newsletters", "delete", "Trash"): 1,
        ("default", "report", None): 1,
    }
    with sqlite3.connect(tmp_path / "state.db") as db:
        assert db.execute("SELECT count(*) FROM runs").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM audit_events").fetchone() == (0,)


@pytest.mark.imap
def test_plan_detail_lists_messages_without_subjects(config):
    result = invoke("--config", str(config), "plan", "--now", NOW, "--detail")
    assert result.exit_code == 0
    assert "Faktura" not in result.stdout
    assert result.stdout.count("invoices → move Bokföring/2026") == 2


@pytest.mark.imap
def test_run_once_enforces_and_prints_a_summary(config):
    result = invoke("--config", str(config), "run", "--once", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert "moved" in result.stdout
    second = invoke("--config", str(config), "plan", "--now", NOW, "--format", "json")
    assert json.loads(second.stdout)["mailboxes"][0]["inbox"] == 1


def test_run_without_once_is_a_usage_error(tmp_path):
    result = invoke("--config", str(tmp_path / "none.toml"), "run")
    assert result.exit_code == 2
    assert "--once" in result.output


def test_bad_configuration_exits_2_naming_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rules]]\nname = "x"\naction = "move"\ntarget = "A"\n')
    result = invoke("--config", str(bad), "plan")
    assert result.exit_code == 2
    assert f"{bad}: rule 'x' (rules[0]), field 'basis'" in result.output


@pytest.mark.imap
def test_a_failing_mailbox_makes_the_exit_code_1(dovecot, tmp_path):
    good = new_user(dovecot)
    config = write_config(tmp_path, dovecot, [good, "missing@exempel.se"])
    result = invoke("--config", str(config), "run", "--once", "--now", NOW)
    assert result.exit_code == 1
    assert "FAILED" in result.stdout


@pytest.mark.imap
def test_check_logs_in_and_reports_capabilities(config):
    result = invoke("--config", str(config), "check")
    assert result.exit_code == 0, result.output
    assert "trash=Trash" in result.stdout
    assert "MOVE UIDPLUS" in result.stdout


@pytest.mark.imap
def test_check_with_a_wrong_master_password_exits_1(config, tmp_path):
    (tmp_path / "master.secret").write_text("Zq9-not-the-password")
    result = invoke("--config", str(config), "check")
    assert result.exit_code == 1
    assert "AuthenticationFailed" in result.stdout
    assert "Zq9-not-the-password" not in result.output


def test_register_lists_every_rule_with_its_basis(tmp_path, dovecot):
    config = write_config(tmp_path, dovecot, ["a@exempel.se"])
    md = invoke("--config", str(config), "register")
    assert md.exit_code == 0
    assert (
        "| invoices | flytta | Bokföring/{year} | Bokföringslagen (1999:1078) 7 kap." in md.stdout
    )
    data = json.loads(invoke("--config", str(config), "register", "--format", "json").stdout)
    assert [r["rule"] for r in data["rules"]] == ["invoices", "newsletters", "customers", "default"]
