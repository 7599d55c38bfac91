"""Override templates cannot run code, and a failing one stops with exit 2 (issue 8).

Whoever writes ``digest.templates_dir`` must not get the service's powers; a template
that fails names itself and its line, and never quotes the data it was rendering.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from inboxwarden.demo.samples import STOCKHOLM, sample_digest
from inboxwarden.errors import ConfigError
from inboxwarden.reports.templating import Templates

#: A subject of the sample digest: no error message may quote it.
SAMPLE_SUBJECT = "Faktura 10234"


def override(tmp_path: Path, text: str, name: str = "digest.sv.txt.j2") -> Templates:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return Templates(folder)


def check_error(templates: Templates) -> str:
    with pytest.raises(ConfigError) as caught:
        templates.check(STOCKHOLM)
    return str(caught.value)


def test_the_sample_digest_has_the_subject_the_tests_look_for():
    subjects = [i.subject for g in sample_digest("sv").groups for i in g.items]
    assert any(SAMPLE_SUBJECT in s for s in subjects)


def test_the_cycler_globals_os_system_payload_does_not_run(tmp_path):
    marker = tmp_path / "pwned"
    payload = f"{{{{ cycler.__init__.__globals__.os.system('touch {marker}') }}}}"
    message = check_error(override(tmp_path, "Hej\n" + payload))
    assert not marker.exists()
    assert message.startswith("template digest.sv.txt.j2:2: refused by the sandbox")


@pytest.mark.parametrize(
    "payload",
    [
        "{{ self.__init__.__globals__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{% set seen = [] %}{{ seen.append(1) }}",  # the immutable sandbox: no mutation
        "{{ fmt.__class__ }}",
    ],
)
def test_escapes_from_the_sandbox_are_refused(tmp_path, payload):
    assert "refused by the sandbox" in check_error(override(tmp_path, payload))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hej\n\n{{ digest.nosuch }}", "template digest.sv.txt.j2:3: 'nosuch' is undefined"),
        ("{{ nosuchvar }}", "template digest.sv.txt.j2:1: 'nosuchvar' is undefined"),
        ("Hej\n{{ x }\n", "template digest.sv.txt.j2:2: syntax error"),
        ("{% if %}", "template digest.sv.txt.j2:1: syntax error"),
        ("a\nb\n{{ 1 / 0 }}", "template digest.sv.txt.j2:3: ZeroDivisionError while rendering"),
    ],
)
def test_a_broken_override_names_the_template_and_the_line(tmp_path, text, expected):
    assert check_error(override(tmp_path, text)).startswith(expected)


@pytest.mark.parametrize(
    "text",
    [
        # A key looked up by a subject: Jinja's own message would quote the subject.
        "{% for g in digest.groups %}{% for i in g.items %}{{ digest[i.subject] }}"
        "{% endfor %}{% endfor %}",
        # Python's message quotes the value: "invalid literal for int() …: 'Faktura …'".
        "{% for g in digest.groups %}{% for i in g.items %}{{ fmt.number(i.subject) }}"
        "{% endfor %}{% endfor %}",
        "{% for g in digest.groups %}{% for i in g.items %}{{ i.subject.encode('ascii') }}"
        "{% endfor %}{% endfor %}",
    ],
)
def test_an_error_message_never_quotes_the_data_being_rendered(tmp_path, text):
    message = check_error(override(tmp_path, text))
    assert message.startswith("template digest.sv.txt.j2:1:")
    assert SAMPLE_SUBJECT not in message
    assert "anna" not in message.lower()


def test_a_symlink_out_of_the_templates_dir_is_refused(tmp_path):
    """A link to a secret file would otherwise mail the secret to every employee."""
    secret = tmp_path / "imap.secret"
    secret.write_text("Hemligt-master-42")
    templates = override(tmp_path, "Hej")
    (tmp_path / "templates" / "digest.sv.txt.j2").unlink()
    (tmp_path / "templates" / "digest.sv.txt.j2").symlink_to(secret)
    message = check_error(templates)
    assert message.startswith("template digest.sv.txt.j2: refused by the sandbox")
    assert "Hemligt" not in message


def test_a_broken_report_template_is_found_too(tmp_path):
    templates = override(tmp_path, "{{ report.nosuch }}", "report.en.html.j2")
    assert check_error(templates).startswith("template report.en.html.j2:1:")


def test_the_shipped_templates_pass_the_check():
    assert Templates().check(STOCKHOLM) == 12


def _config_with_templates(tmp_path: Path, text: str) -> Path:
    (tmp_path / "master.secret").write_text("m")
    (tmp_path / "audit.key").write_text("k")
    (tmp_path / "employees.csv").write_text("email\nanna@exempel.se\n")
    override(tmp_path, text)
    config = tmp_path / "inboxwarden.toml"
    config.write_text(
        f"""
[imap]
host = "127.0.0.1"
port = 9
security = "plain"
auth = "master"
master_user = "inboxwarden"
password_file = "master.secret"
[directory]
path = "employees.csv"
[state]
url = "sqlite:///{tmp_path}/state.db"
[audit]
hmac_key_file = "audit.key"
[digest]
templates_dir = "templates"
"""
    )
    return config


@pytest.mark.parametrize("command", ["check", "digest", "report"])
def test_a_broken_template_stops_check_digest_and_report_with_exit_2(tmp_path, command):
    """Up front: ``check`` reports it, and nothing is sent with half a template."""
    config = _config_with_templates(tmp_path, "Hej\n{{ 1 / 0 }}")
    args = [command] if command == "check" else [command, "--now", "2026-11-02T07:00"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "inboxwarden",
            "--log-format",
            "json",
            "--config",
            str(config),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    assert "template digest.sv.txt.j2:2: ZeroDivisionError" in result.stderr
