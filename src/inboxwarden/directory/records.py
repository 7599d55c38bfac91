"""One directory record (a CSV row, a YAML entry) to one Employee, or an error saying where.

Every error is a `ConfigError` that names the file, the line (for YAML also the entry)
and the field, e.g. ``config/employees.csv:7: field 'manager': 'bob@' is not a valid
e-mail address (There must be something after the @-sign.)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast, get_args

import yaml
from email_validator import EmailNotValidError

from inboxwarden.directory.entries import Directory, address_key, validate_address
from inboxwarden.errors import ConfigError, quoted
from inboxwarden.policy.people import Employee, Language, Mode, login_problem

__all__ = [
    "FIELDS",
    "FieldError",
    "RecordLocation",
    "build_directory",
    "employee_from_record",
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


@dataclass(frozen=True, slots=True)
class RecordLocation:
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


class FieldError(Exception):
    """One field of one record is invalid; the loader adds where."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def build_directory(
    rows: Sequence[tuple[RecordLocation, Mapping[str, object]]], *, allow_test_domains: bool
) -> Directory:
    """The directory of *rows*; the first invalid field or repeated address is a
    `ConfigError` that says where."""
    employees: list[Employee] = []
    seen: dict[str, RecordLocation] = {}
    for location, record in rows:
        try:
            employee = employee_from_record(record, allow_test_domains=allow_test_domains)
        except FieldError as exc:
            raise location.error(exc.message, exc.name) from None
        key = address_key(employee.email)
        if key in seen:
            raise location.error(
                f"{quoted(employee.email)} is already listed {seen[key].describe()}", "email"
            )
        seen[key] = location
        employees.append(employee)
    return Directory(tuple(employees))


def employee_from_record(record: Mapping[str, object], *, allow_test_domains: bool) -> Employee:
    """The employee *record* describes; raises `FieldError` naming the first bad field."""
    email = _address(record, "email", allow_test_domains)
    if email is None:
        raise FieldError("email", "is required")
    manager = _address(record, "manager", allow_test_domains)
    if manager is not None and address_key(manager) == address_key(email):
        raise FieldError("manager", "an employee cannot be their own manager")
    # Without a login the address is the login, so it must be as plain a name.
    login = _text(record, "login")
    problem = login_problem(login or email)
    if problem is not None:
        raise FieldError("login" if login else "email", f"{quoted(login or email)} {problem}")
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
        raise FieldError(name, f"expected text, found {quoted(value)} (quote it in YAML)")
    return str(value).strip() or None


def _address(record: Mapping[str, object], name: str, allow_test_domains: bool) -> str | None:
    value = _text(record, name)
    if value is None:
        return None
    try:
        return validate_address(value, allow_test_domains=allow_test_domains)
    except EmailNotValidError as exc:
        raise FieldError(name, f"{quoted(value)} is not a valid e-mail address ({exc})") from None


def _choice(record: Mapping[str, object], name: str, allowed: tuple[str, ...]) -> str | None:
    value = _text(record, name)
    if value is None:
        return None
    if value.lower() not in allowed:
        raise FieldError(name, f"{quoted(value)} is not one of {', '.join(allowed)} (or empty)")
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
    raise FieldError(
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
        raise FieldError(
            "groups", f"expected names separated by ';' or a list, found {quoted(value)}"
        )
    groups: dict[str, None] = {}  # ordered and de-duplicated
    for name in names:
        if not isinstance(name, str):
            raise FieldError("groups", f"a group name must be text, found {quoted(name)}")
        if name.strip():
            groups[name.strip()] = None
    return tuple(groups)
