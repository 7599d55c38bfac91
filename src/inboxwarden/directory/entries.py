"""The directory of mailboxes: who the employees are and how each is treated (docs/behaviour.md §8).

This module reads a CSV or YAML file with the columns
``email,login,manager,team,language,mode,legal_hold,excluded,groups``; only ``email``
is required. LDAP and Active Directory are another `DirectorySource`
(:mod:`inboxwarden.directory.ldap`). Each row becomes a
:class:`~inboxwarden.policy.people.Employee`, the one type the plan, the jobs and the
reports read.

Every address is validated (and normalised) with ``email-validator`` at load, without
DNS, so a typo is found by ``inboxwarden check`` rather than by a failed login at 02:00.
Every error is a `ConfigError` that names the file, the line (for YAML also the entry)
and the field, e.g. ``config/employees.csv:7: field 'manager': 'bob@' is not a valid
e-mail address (There must be something after the @-sign.)``.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, cast, get_args

import yaml
from email_validator import EmailNotValidError, validate_email

from inboxwarden.errors import ConfigError, quoted
from inboxwarden.files import UnreadableFile, line_of, read_regular_file
from inboxwarden.policy.people import Employee, Language, Mode, login_problem

__all__ = [
    "FIELDS",
    "Directory",
    "DirectorySource",
    "FileDirectorySource",
    "load_directory",
    "parse_csv",
    "parse_yaml",
]

FIELDS = (
    "email",
    "login",
    "manager",
    "team",
    "language",
    "mode",
    "legal_hold",
    "excluded",
    "groups",
)
"""The directory's fields, in the order the example CSV lists them."""

_MODES: tuple[str, ...] = get_args(Mode)
_LANGUAGES: tuple[str, ...] = get_args(Language)
_TRUE = frozenset({"true", "yes", "1", "ja"})
_FALSE = frozenset({"false", "no", "0", "nej", ""})
# Special-use names (RFC 6761) that email-validator refuses even in its test mode.
_SPECIAL_USE = ("localhost", "local", "test", "invalid", "example")
#: A directory of ten thousand employees is about a megabyte.
MAX_DIRECTORY_BYTES = 50_000_000


@dataclass(frozen=True, slots=True)
class Directory:
    """The employees, in source order, with lookups by address and by manager.

    Addresses are compared case-insensitively: every mail system we meet treats the
    local part that way, and a directory listing ``Anna@`` and ``anna@`` is a mistake.
    """

    employees: tuple[Employee, ...]
    _index: dict[str, Employee] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Index the employees by address; reject an address listed twice."""
        index: dict[str, Employee] = {}
        for employee in self.employees:
            key = _key(employee.email)
            if key in index:
                raise ValueError(f"{employee.email!r} is listed twice")
            index[key] = employee
        object.__setattr__(self, "_index", index)

    def __len__(self) -> int:
        return len(self.employees)

    def __iter__(self) -> Iterator[Employee]:
        return iter(self.employees)

    def by_email(self, address: str) -> Employee | None:
        """Return the employee with `address`, or ``None`` if no one has it."""
        found = self._index.get(_key(address))
        if found is None:
            # The address may be written differently but mean the same (IDNA, NFC).
            try:
                normalised = _validate_address(address, allow_test_domains=True)
            except EmailNotValidError:
                return None
            found = self._index.get(_key(normalised))
        return found

    def active(self) -> tuple[Employee, ...]:
        """Return the employees whose mailboxes are processed (not `excluded`)."""
        return tuple(employee for employee in self.employees if not employee.excluded)

    def managers(self) -> Mapping[str, tuple[Employee, ...]]:
        """Map each manager's address to the active employees who report to them.

        The manager need not be an employee in the directory (a manager who is not
        under the inbox rule still gets the weekly report); when they are, the key is
        their address as the directory spells it.
        """
        teams: dict[str, list[Employee]] = {}
        for employee in self.active():
            if employee.manager is None:
                continue
            listed = self._index.get(_key(employee.manager))
            manager = listed.email if listed is not None else employee.manager
            teams.setdefault(manager, []).append(employee)
        return {manager: tuple(members) for manager, members in teams.items()}


class DirectorySource(Protocol):
    """Where the directory comes from: a file here, LDAP or Active Directory in
    :mod:`inboxwarden.directory.ldap`; :mod:`inboxwarden.directory.source` picks one."""

    def load(self) -> Directory:
        """Return the current directory, or raise `ConfigError` saying what is wrong."""
        ...


@dataclass(frozen=True, slots=True)
class FileDirectorySource:
    """The directory in a CSV or YAML file (``directory.path``)."""

    path: Path
    allow_test_domains: bool = False

    def load(self) -> Directory:
        """Read and validate the file; see `load_directory`."""
        return load_directory(self.path, allow_test_domains=self.allow_test_domains)


def load_directory(path: Path, *, allow_test_domains: bool = False) -> Directory:
    """Read the directory from a ``.csv`` or ``.yaml``/``.yml`` file.

    `allow_test_domains` admits the special-use domains ``.test``, ``localhost`` and
    the like (RFC 6761), which a production directory must not contain; the tests and
    the demo's disposable server use them.
    """
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".yaml", ".yml"}:
        raise ConfigError(f"{path}: a directory file must end in .csv, .yaml or .yml")
    try:
        data = read_regular_file(path, MAX_DIRECTORY_BYTES)
    except UnreadableFile as exc:
        raise ConfigError(f"{path}: cannot read the directory: {exc.reason}") from None
    try:
        text = data.decode("utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError as exc:
        line = line_of(data, exc.start)
        byte = data[exc.start]
        raise ConfigError(f"{path}:{line}: not UTF-8 (byte {byte:#04x}); save it as UTF-8") from exc
    if suffix == ".csv":
        return parse_csv(text, str(path), allow_test_domains=allow_test_domains)
    return parse_yaml(text, str(path), allow_test_domains=allow_test_domains)


# -- CSV ---------------------------------------------------------------------------------


def parse_csv(text: str, source: str, *, allow_test_domains: bool = False) -> Directory:
    """Parse a directory CSV; `source` names it in error messages.

    The delimiter is ``,``, or ``;`` when the header line has only semicolons (what a
    spreadsheet in a Swedish locale saves). Blank lines and rows of empty cells are
    skipped; every other row must have exactly as many cells as the header.
    """
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)

    header: list[str] | None = None
    rows: list[tuple[_Location, dict[str, str]]] = []
    line = 1
    try:
        for cells in reader:
            location = _Location(source, line)
            line = reader.line_num + 1  # where the next row starts
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = _csv_header(cells, location)
                continue
            if len(cells) != len(header):
                raise location.error(
                    f"expected {len(header)} fields ({delimiter.join(header)}), found {len(cells)}"
                )
            rows.append((location, dict(zip(header, cells, strict=True))))
    except csv.Error as exc:
        raise ConfigError(f"{source}:{reader.line_num}: invalid CSV: {exc}") from exc
    if header is None:
        raise ConfigError(f"{source}:1: the file is empty; expected a header line with 'email'")
    return _build(rows, allow_test_domains=allow_test_domains)


def _csv_header(cells: list[str], location: _Location) -> list[str]:
    header = [cell.strip().lower() for cell in cells]
    seen: set[str] = set()
    for name in header:
        if not name:
            raise location.error("the header has an empty column name")
        if name not in FIELDS:
            raise location.error(f"unknown column {quoted(name)}; known: {', '.join(FIELDS)}")
        if name in seen:
            raise location.error(f"column {quoted(name)} appears twice")
        seen.add(name)
    if "email" not in seen:
        raise location.error("the header has no 'email' column")
    return header


# -- YAML --------------------------------------------------------------------------------


def parse_yaml(text: str, source: str, *, allow_test_domains: bool = False) -> Directory:
    """Parse a directory YAML file; `source` names it in error messages.

    The document is a list of mappings with the CSV's fields, or a mapping with one key
    ``employees`` holding that list. ``groups`` may be a list or a ``;``-separated
    string. Entries are numbered from 1 in error messages.

    Anchors and aliases (``&a`` / ``*a``) are refused: a directory has no use for them,
    and a few hundred bytes of nested aliases expand to gigabytes (a "billion laughs").
    """
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        root = loader.get_single_node()
        _refuse_aliases(root, source)
        data: object = None if root is None else loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = source if mark is None else f"{source}:{mark.line + 1}"
        problem = getattr(exc, "problem", None) or type(exc).__name__
        # The problem only, not str(exc): that quotes the offending input.
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{source}: invalid YAML: nested too deeply") from None
    finally:
        loader.dispose()

    entries, nodes = _yaml_entries(data, root, source)
    rows: list[tuple[_Location, dict[str, object]]] = []
    for number, entry in enumerate(entries, start=1):
        node = nodes[number - 1] if number <= len(nodes) else None
        location = _Location(source, entry=number, node=node)
        if not isinstance(entry, dict):
            raise location.error("an entry must be a mapping of field: value")
        for key in entry:
            if key not in FIELDS:
                raise location.error(f"unknown field {quoted(key)}; known: {', '.join(FIELDS)}")
        rows.append((location, entry))
    return _build(rows, allow_test_domains=allow_test_domains)


def _refuse_aliases(root: yaml.Node | None, source: str) -> None:
    """Raise `ConfigError` if any node is reached twice, which only an alias does.

    The composed graph shares one node per anchor, so this walk visits each node once
    and stops at the first repeat: it is linear in the file, whatever the aliases expand to.
    """
    seen: set[int] = set()
    stack = [] if root is None else [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            line = int(node.start_mark.line) + 1
            raise ConfigError(
                f"{source}:{line}: YAML anchors and aliases (&name, *name) are not allowed "
                "in the directory; write each entry out"
            )
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                stack.extend((key_node, value_node))


def _yaml_entries(
    data: object, root: yaml.Node | None, source: str
) -> tuple[list[object], list[yaml.Node]]:
    """Return the list of entries and, in parallel, their nodes (for line numbers)."""
    node = root
    if isinstance(data, dict):
        if set(data) != {"employees"}:
            raise ConfigError(
                f"{source}:1: expected a list of employees, or a mapping with only the"
                f" key 'employees'; found keys {quoted(', '.join(map(str, data)))}"
            )
        data = data["employees"]
        node = _yaml_value_node(root, "employees")
    if not isinstance(data, list):
        found = "nothing" if data is None else type(data).__name__
        raise ConfigError(f"{source}:1: expected a list of employees, found {found}")
    nodes = node.value if isinstance(node, yaml.SequenceNode) else []
    return data, [item for item in nodes if isinstance(item, yaml.Node)]


def _yaml_value_node(mapping: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(mapping, yaml.MappingNode):
        return None
    for key_node, value_node in mapping.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return cast(yaml.Node, value_node)
    return None


# -- shared: one record to one Employee ------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Location:
    """Where a record is, for error messages: file, line, and the YAML entry number.

    A YAML record keeps its node and looks its lines up only for an error message:
    reading the marks of every node costs more than parsing a large file.
    """

    source: str
    line: int | None = None
    entry: int | None = None
    node: yaml.Node | None = None

    def line_of(self, name: str | None = None) -> int | None:
        """Return the line of field `name` if known, else the record's line."""
        if self.node is None:
            return self.line
        if name is not None and isinstance(self.node, yaml.MappingNode):
            for key_node, value_node in self.node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == name:
                    return int(value_node.start_mark.line) + 1
        return int(self.node.start_mark.line) + 1

    def prefix(self, name: str | None = None) -> str:
        line = self.line_of(name)
        where = self.source if line is None else f"{self.source}:{line}"
        return where if self.entry is None else f"{where}: entry {self.entry}"

    def describe(self) -> str:
        """Name this record for another record's error message."""
        line = self.line_of()
        if self.entry is None:
            return f"on line {line}"
        return f"in entry {self.entry}" + ("" if line is None else f" (line {line})")

    def error(self, message: str, name: str | None = None) -> ConfigError:
        subject = "" if name is None else f" field {name!r}:"
        return ConfigError(f"{self.prefix(name)}:{subject} {message}")


class _FieldError(Exception):
    """One field of one record is invalid; the loader adds where."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def _build(
    rows: Sequence[tuple[_Location, Mapping[str, object]]], *, allow_test_domains: bool
) -> Directory:
    employees: list[Employee] = []
    seen: dict[str, _Location] = {}
    for location, record in rows:
        try:
            employee = _employee(record, allow_test_domains=allow_test_domains)
        except _FieldError as exc:
            raise location.error(exc.message, exc.name) from None
        key = _key(employee.email)
        if key in seen:
            raise location.error(
                f"{quoted(employee.email)} is already listed {seen[key].describe()}", "email"
            )
        seen[key] = location
        employees.append(employee)
    return Directory(tuple(employees))


def _employee(record: Mapping[str, object], *, allow_test_domains: bool) -> Employee:
    email = _address(record, "email", allow_test_domains)
    if email is None:
        raise _FieldError("email", "is required")
    manager = _address(record, "manager", allow_test_domains)
    if manager is not None and _key(manager) == _key(email):
        raise _FieldError("manager", "an employee cannot be their own manager")
    # Without a login the address is the login, so it must be as plain a name.
    login = _text(record, "login")
    problem = login_problem(login or email)
    if problem is not None:
        raise _FieldError("login" if login else "email", f"{quoted(login or email)} {problem}")
    return Employee(
        email=email,
        login=login or email,
        manager=manager,
        team=_text(record, "team"),
        language=cast("Language | None", _choice(record, "language", _LANGUAGES)),
        mode=cast("Mode | None", _choice(record, "mode", _MODES)),
        legal_hold=_flag(record, "legal_hold"),
        excluded=_flag(record, "excluded"),
        groups=_groups(record),
    )


def _text(record: Mapping[str, object], name: str) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        # YAML turns an unquoted `no`, `off` or `yes` into a boolean.
        raise _FieldError(name, f"expected text, found {quoted(value)} (quote it in YAML)")
    return str(value).strip() or None


def _address(record: Mapping[str, object], name: str, allow_test_domains: bool) -> str | None:
    value = _text(record, name)
    if value is None:
        return None
    try:
        return _validate_address(value, allow_test_domains=allow_test_domains)
    except EmailNotValidError as exc:
        raise _FieldError(name, f"{quoted(value)} is not a valid e-mail address ({exc})") from None


def _choice(record: Mapping[str, object], name: str, allowed: tuple[str, ...]) -> str | None:
    value = _text(record, name)
    if value is None:
        return None
    if value.lower() not in allowed:
        raise _FieldError(name, f"{quoted(value)} is not one of {', '.join(allowed)} (or empty)")
    return value.lower()


def _flag(record: Mapping[str, object], name: str) -> bool:
    value = record.get(name)
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower() if isinstance(value, str | int) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _FieldError(
        name, f"{quoted(value)} is not a yes/no value (true/false, yes/no, 1/0, ja/nej)"
    )


def _groups(record: Mapping[str, object]) -> tuple[str, ...]:
    value = record.get("groups")
    if value is None:
        return ()
    if isinstance(value, str):
        names: list[object] = list(value.split(";"))
    elif isinstance(value, list):
        names = value
    else:
        raise _FieldError(
            "groups", f"expected names separated by ';' or a list, found {quoted(value)}"
        )
    groups: dict[str, None] = {}  # ordered and de-duplicated
    for name in names:
        if not isinstance(name, str):
            raise _FieldError("groups", f"a group name must be text, found {quoted(name)}")
        if name.strip():
            groups[name.strip()] = None
    return tuple(groups)


@functools.lru_cache(maxsize=4096)  # managers repeat; validation is ~30 µs an address
def _validate_address(value: str, *, allow_test_domains: bool) -> str:
    """Return `value` normalised by email-validator (syntax only, no DNS).

    email-validator refuses special-use domains such as ``localhost`` even in its test
    mode; with `allow_test_domains` such a domain is checked as if it ended in
    ``.test`` and kept as written (lower-cased).
    """
    if allow_test_domains:
        local, at, domain = value.rpartition("@")
        labels = domain.lower().rstrip(".").split(".")
        if at and labels[-1] in _SPECIAL_USE:
            stand_in = ".".join([*labels[:-1], "test"])
            checked = validate_email(
                f"{local}@{stand_in}", check_deliverability=False, test_environment=True
            )
            return f"{checked.local_part}@{'.'.join(labels)}"
    checked = validate_email(
        value,
        check_deliverability=False,
        test_environment=allow_test_domains,
        globally_deliverable=not allow_test_domains,
    )
    return checked.normalized


def _key(address: str) -> str:
    return address.strip().casefold()
