"""The directory of mailboxes: who the employees are, looked up by address or manager.

A :class:`Directory` comes from a `DirectorySource`: a CSV or YAML file
(:mod:`inboxwarden.directory.files`), or LDAP and Active Directory
(:mod:`inboxwarden.directory.ldap`). Each entry is a
:class:`~inboxwarden.policy.people.Employee`, the one type the plan, the jobs and the
reports read (docs/behaviour.md §8).

Every address is validated and normalised with ``email-validator`` when the directory
is loaded (`validate_address`, without DNS), so a typo is found by ``inboxwarden
check`` rather than by a failed login at 02:00.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from email_validator import EmailNotValidError, validate_email

from inboxwarden.policy.people import Employee

__all__ = ["Directory", "DirectorySource", "address_key", "validate_address"]

# Special-use names (RFC 6761) that email-validator refuses even in its test mode.
_SPECIAL_USE = ("localhost", "local", "test", "invalid", "example")


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
            key = address_key(employee.email)
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
        found = self._index.get(address_key(address))
        if found is None:
            # The address may be written differently but mean the same (IDNA, NFC).
            try:
                normalised = validate_address(address, allow_test_domains=True)
            except EmailNotValidError:
                return None
            found = self._index.get(address_key(normalised))
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
            listed = self._index.get(address_key(employee.manager))
            manager = listed.email if listed is not None else employee.manager
            teams.setdefault(manager, []).append(employee)
        return {manager: tuple(members) for manager, members in teams.items()}


class DirectorySource(Protocol):
    """Where the directory comes from: a file (:mod:`inboxwarden.directory.files`), LDAP
    or Active Directory (:mod:`inboxwarden.directory.ldap`);
    :mod:`inboxwarden.directory.source` picks one."""

    def load(self) -> Directory:
        """Return the current directory, or raise `ConfigError` saying what is wrong."""
        ...


@functools.lru_cache(maxsize=4096)  # managers repeat; validation is ~30 µs an address
def validate_address(value: str, *, allow_test_domains: bool) -> str:
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


def address_key(address: str) -> str:
    """The form in which two addresses name the same entry: trimmed and case-folded."""
    return address.strip().casefold()
