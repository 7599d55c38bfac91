"""The house's layout holds: the policy is pure, and each room points only where it may."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "inboxwarden"

#: What the policy may import from inboxwarden: itself, the detectors (pure text
#: functions) and the error tree.
POLICY_MAY_IMPORT = ("inboxwarden.policy", "inboxwarden.detectors", "inboxwarden.errors")

#: Standard-library and third-party modules that do I/O: none may be imported by policy.
IO_MODULES = (
    "socket", "ssl", "imaplib", "smtplib", "http", "urllib", "subprocess", "sqlite3",
    "shutil", "tempfile", "imapclient", "sqlalchemy", "alembic", "psycopg", "ldap3", "msal",
    "google", "requests", "aiosmtpd", "apscheduler", "prometheus_client", "yaml", "tomllib",
    "structlog", "jinja2", "matplotlib",
)  # fmt: skip


def _policy_files() -> list[Path]:
    return sorted((SRC / "policy").glob("*.py"))


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("path", _policy_files(), ids=lambda p: p.name)
def test_a_policy_module_imports_no_io_and_nothing_of_the_shell(path: Path) -> None:
    wrong = [
        name
        for name in _imports(path)
        if _within(name, IO_MODULES)
        or (name.startswith("inboxwarden") and not _within(name, POLICY_MAY_IMPORT))
    ]
    assert not wrong, f"{path.name} imports {wrong}: the policy must stay pure"


def test_importing_the_whole_policy_loads_no_io_module_nor_the_shell() -> None:
    """The same, transitively: what the policy's own imports pull in counts too."""
    modules = [f"inboxwarden.policy.{p.stem}" for p in _policy_files() if p.stem != "__init__"]
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )
    # The standard library's email package imports socket for make_msgid; that is not I/O
    # the policy does, so only the project's shell and the I/O libraries are checked here.
    third_party_io = tuple(m for m in IO_MODULES if m not in {"socket", "ssl", "http", "urllib",
                                                               "subprocess", "shutil", "tempfile"})  # fmt: skip
    wrong = [
        m
        for m in loaded
        if _within(m, third_party_io)
        or (m.startswith("inboxwarden.") and not _within(m, POLICY_MAY_IMPORT))
    ]
    assert not wrong, f"importing the policy loads {wrong}"


def test_the_layout_test_sees_every_policy_module() -> None:
    """Guards the guard: an empty glob would make the tests above pass vacuously."""
    names = {p.stem for p in _policy_files()}
    assert {"cycle", "rules", "matching", "planning", "message"} <= names
