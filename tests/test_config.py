"""Loading the configuration: the shipped example, environment overrides, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from inboxwarden.config import find_config_path, load_settings
from inboxwarden.errors import ConfigError
from inboxwarden.policy.rules import Action

EXAMPLE = Path(__file__).parent.parent / "config" / "inboxwarden.toml"

MINIMAL = """
[organisation]
domains = ["exempel.se"]
[imap]
host = "127.0.0.1"
security = "plain"
auth = "master"
master_user = "inboxwarden"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inboxwarden.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_configuration_loads_with_every_section():
    settings = load_settings(EXAMPLE)
    assert settings.organisation.name == "Exempel AB"
    assert [r.name for r in settings.rules] == ["invoices", "newsletters", "customers"]
    assert settings.rules[0].action is Action.MOVE
    assert settings.rules[0].basis.startswith("Bokföringslagen")
    assert settings.default_rule.action is Action.REPORT
    assert settings.fanout.folders == ["\\Sent", "INBOX"]
    assert settings.directory.path == EXAMPLE.parent / "employees.csv"


def test_every_example_in_config_dir_loads():
    examples = sorted(EXAMPLE.parent.glob("*.toml"))
    assert examples, "config/ holds no example"
    for path in examples:
        load_settings(path)


def test_environment_overrides_the_file(tmp_path, monkeypatch):
    path = write(tmp_path, MINIMAL + '\n[mode]\ndefault = "notify"\n')
    monkeypatch.setenv("INBOXWARDEN_MODE__DEFAULT", "observe")
    monkeypatch.setenv("INBOXWARDEN_IMAP__PASSWORD", "s3cret")
    settings = load_settings(path)
    assert settings.mode.default == "observe"
    assert settings.imap.password is not None
    assert settings.imap.host == "127.0.0.1"  # the rest of [imap] still comes from the file
    assert "s3cret" not in repr(settings)


def test_config_path_comes_from_flag_then_environment_then_etc(monkeypatch, tmp_path):
    assert find_config_path(tmp_path / "x.toml") == tmp_path / "x.toml"
    monkeypatch.setenv("INBOXWARDEN_CONFIG", str(tmp_path / "env.toml"))
    assert find_config_path(None) == tmp_path / "env.toml"
    monkeypatch.delenv("INBOXWARDEN_CONFIG")
    assert find_config_path(None) == Path("/etc/inboxwarden/inboxwarden.toml")


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ('name = "a"\naction = "move"\ntarget = "X"', "rule 'a' (rules[0]), field 'basis'"),
        ('name = "b"\naction = "keep"', "rule 'b' (rules[0]), field 'basis'"),
        ('name = "c"\naction = "move"\nbasis = "x"', "field 'target'"),
        (
            'name = "d"\naction = "move"\nbasis = "x"\ntarget = "K/{sender}"',
            "unknown template field {sender}",
        ),
        (
            'name = "e"\naction = "delete"\nmatch.subject = "(unclosed"',
            "rule 'e' (rules[0]), field 'match.subject'",
        ),
        (
            'name = "f"\naction = "delete"\nmatch.colour = "red"',
            "rule 'f' (rules[0]), field 'match.colour'",
        ),
        ('name = "g"\naction = "explode"', "rule 'g' (rules[0]), field 'action'"),
        (
            'name = "h"\naction = "delete"\nmatch.from_domain = ["@nobody"]',
            "rule 'h', field 'match'",
        ),
    ],
)
def test_bad_rule_is_rejected_naming_file_rule_and_field(tmp_path, rule, expected):
    path = write(tmp_path, MINIMAL + "\n[[rules]]\n" + rule + "\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert str(path) in message
    assert expected in message


def test_secret_in_the_file_is_refused(tmp_path):
    path = write(tmp_path, MINIMAL.replace('auth = "master"', 'auth = "master"\npassword = "x"'))
    with pytest.raises(ConfigError, match=r"field 'imap.password': secrets do not belong"):
        load_settings(path)


def test_plain_text_to_a_remote_host_needs_the_insecure_switch(tmp_path):
    path = write(tmp_path, MINIMAL.replace('host = "127.0.0.1"', 'host = "imap.exempel.se"'))
    with pytest.raises(ConfigError, match="plain text is only allowed to loopback"):
        load_settings(path)
    allowed = MINIMAL.replace(
        'host = "127.0.0.1"', 'host = "imap.exempel.se"\nallow_insecure = true'
    )
    assert load_settings(write(tmp_path, allowed)).imap.allow_insecure


def test_unknown_section_key_and_bad_toml_are_reported(tmp_path):
    with pytest.raises(ConfigError, match=r"field 'cycle.anchor_dya': unknown setting"):
        load_settings(write(tmp_path, MINIMAL + "\n[cycle]\nanchor_dya = 3\n"))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[organisation\n"))
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_settings(tmp_path / "missing.toml")


def test_anchor_day_outside_1_to_28_is_rejected(tmp_path):
    with pytest.raises(ConfigError, match=r"field 'cycle.anchor_day'"):
        load_settings(write(tmp_path, MINIMAL + "\n[cycle]\nanchor_day = 31\n"))


def test_unknown_holiday_country_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"field 'cycle.holidays'"):
        load_settings(write(tmp_path, MINIMAL + '\n[cycle]\nholidays = "XX"\n'))
