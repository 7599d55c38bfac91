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


#: The adapter that alone may touch imapclient's and imaplib's private names.
CLIENT_INTERNALS = SRC / "imap" / "client_internals.py"
#: Borrowed names too common to police by attribute name alone (``args.file``); the
#: adapter's own test checks them.
TOO_COMMON = frozenset({"file"})


def _borrowed_names() -> frozenset[str]:
    from inboxwarden.imap.client_internals import BORROWED

    return frozenset(b.name for b in BORROWED) - TOO_COMMON


def test_only_the_adapter_touches_imapclients_private_names() -> None:
    """``x._imap``, ``x._simple_command`` and the rest appear nowhere in src/ but in
    imap/client_internals.py, so an imapclient upgrade has one file to check."""
    borrowed = _borrowed_names()
    wrong = [
        f"{path.relative_to(SRC.parent)}:{node.lineno}: .{node.attr}"
        for path in sorted(SRC.rglob("*.py"))
        if path != CLIENT_INTERNALS
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Attribute) and node.attr in borrowed
    ]
    assert not wrong, (
        f"imapclient/imaplib internals used outside {CLIENT_INTERNALS.name}: {wrong}; "
        "add a function there (and its entry in BORROWED) instead"
    )


def test_the_layout_test_sees_the_borrowed_names() -> None:
    """Guards the guard: the list the check above uses is the adapter's, and not empty."""
    assert {"_imap", "_simple_command", "_command_and_check", "_new_tag"} <= _borrowed_names()
    assert CLIENT_INTERNALS.is_file()


#: Libraries that speak SQL: only the state package may import them.
SQL_MODULES = ("sqlalchemy", "alembic", "psycopg", "sqlite3")


def _files_outside_state() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if not p.is_relative_to(SRC / "state"))


@pytest.mark.parametrize("path", _files_outside_state(), ids=lambda p: str(p.relative_to(SRC)))
def test_only_the_state_package_speaks_sql(path: Path) -> None:
    """Every query lives in state/, behind a method that says what it answers."""
    wrong = [name for name in _imports(path) if _within(name, SQL_MODULES)]
    assert not wrong, f"{path.relative_to(SRC)} imports {wrong}: SQL belongs to state/"


def test_the_sql_guard_sees_the_whole_package() -> None:
    """Guards the guard: the files checked include the reports, the jobs and the CLI."""
    names = {str(p.relative_to(SRC)) for p in _files_outside_state()}
    assert {"config/loading.py", "reports/weekly_job.py", "cli/commands.py"} <= names
    assert not any(name.startswith("state/") for name in names)


#: The inner rooms and the outer ones they must never import: the arrows point inwards.
INNER_ROOMS = ("policy", "detectors", "imap", "state", "oauth", "directory", "config")
OUTER_ROOMS = tuple(
    f"inboxwarden.{room}" for room in ("mailbox", "reports", "fanout", "service", "cli", "demo")
)


#: The one arrow that points out, and why: a cron line in the configuration is parsed by
#: the scheduler's own parser (the only module that imports apscheduler) while the
#: configuration loads, so a typo stops the start with exit 2 instead of at midnight.
OUTWARD_BY_DESIGN = {("config/sections.py", "inboxwarden.service.scheduler")}


@pytest.mark.parametrize("room", INNER_ROOMS)
def test_an_inner_room_never_imports_an_outer_one(room: str) -> None:
    wrong = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in sorted((SRC / room).rglob("*.py"))
        for name in _imports(path)
        if _within(name, OUTER_ROOMS)
        and (str(path.relative_to(SRC)), name) not in OUTWARD_BY_DESIGN
    ]
    assert not wrong, f"an arrow points outwards: {wrong}"


def _modules_with_definitions() -> list[Path]:
    """Every module that defines something (packages that only document themselves and
    the Alembic migrations, which Alembic loads by path, aside)."""
    return sorted(
        path
        for path in SRC.rglob("*.py")
        if "migrations" not in path.parts
        and path.name != "__main__.py"
        and any(
            isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Assign | ast.AnnAssign)
            for node in ast.parse(path.read_text()).body
        )
    )


@pytest.mark.parametrize("path", _modules_with_definitions(), ids=lambda p: str(p.relative_to(SRC)))
def test_every_module_says_what_it_exports(path: Path) -> None:
    """An explicit ``__all__`` in each module: what is public is a decision, not an accident."""
    tree = ast.parse(path.read_text())
    declared = [
        node
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
    ]
    assert declared, f"{path.relative_to(SRC)} has no __all__"
