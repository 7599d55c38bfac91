"""LDAP / Active Directory entries to directory employees: the pure half of the LDAP source.

No socket here: `directory_ldap` reads the entries, the steering groups' members and
the managers that lie outside the search, and hands them over as plain data, so the
mapping is tested with literal entries. An entry that cannot be used (no or a bad
address, a bad login, an unreadable ``userAccountControl``, an address listed twice)
is skipped and named by its DN in an `EntryProblem`; one whose optional field is
unusable (a manager DN that names nobody with an address, a language we have no
texts for) is kept without that field and named the same way. The DNs go to
``inboxwarden check``'s output for the administrator, never to the logs: a DN holds
a person's name.

Group semantics: membership is transitive (nested groups count). ``legal_hold_group``
sets `legal_hold`; ``excluded_group``, like a disabled AD account, sets `excluded`;
of the mode groups the most cautious one wins (observe, then notify, then enforce),
so an account put in two rollout waves by mistake is never treated harder than
either says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from email_validator import EmailNotValidError

from inboxwarden.config import LdapAttributes
from inboxwarden.directory.entries import Directory, validate_address
from inboxwarden.errors import ConfigError, quoted
from inboxwarden.policy.people import Employee, Language, Mode, login_problem

__all__ = [
    "ACCOUNTDISABLE",
    "EntryProblem",
    "LdapEntry",
    "Mapped",
    "Memberships",
    "dn_clean",
    "dn_key",
    "map_entries",
    "outside_managers",
]

ACCOUNTDISABLE = 0x2
"""The ``userAccountControl`` bit of a disabled Active Directory account (MS-ADTS 2.2.16)."""

_LANGUAGES: dict[str, Language] = {"sv": "sv", "en": "en"}
_MODES_CAUTIOUS_FIRST: tuple[Mode, ...] = ("observe", "notify", "enforce")


@dataclass(frozen=True, slots=True)
class LdapEntry:
    """One entry as the server returned it: its DN and its attributes' text values.

    Attribute names are matched case-insensitively, as LDAP does (RFC 4512 §2.5).
    """

    dn: str
    attributes: Mapping[str, Sequence[str]]
    _folded: dict[str, Sequence[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        folded = {name.casefold(): values for name, values in self.attributes.items()}
        object.__setattr__(self, "_folded", folded)

    def values(self, name: str) -> Sequence[str]:
        """Every value of attribute `name` (none: empty)."""
        return self._folded.get(name.casefold(), ())

    def first(self, name: str | None) -> str | None:
        """The first non-blank value of attribute `name`, stripped; ``None`` if it has none."""
        if name is None:
            return None
        for value in self._folded.get(name.casefold(), ()):
            if value.strip():
                return value.strip()
        return None

    @property
    def key(self) -> str:
        """The DN in the form used for comparing it with other DNs (see `dn_key`)."""
        return dn_key(self.dn)


@dataclass(frozen=True, slots=True)
class Memberships:
    """The DN keys (`dn_key`) of everyone in each steering group, nested groups included."""

    legal_hold: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()
    observe: frozenset[str] = frozenset()
    notify: frozenset[str] = frozenset()
    enforce: frozenset[str] = frozenset()

    def mode_of(self, key: str) -> Mode | None:
        """The most cautious mode whose group holds `key`; ``None`` leaves the default."""
        for mode in _MODES_CAUTIOUS_FIRST:
            if key in getattr(self, mode):
                return mode
        return None


@dataclass(frozen=True, slots=True)
class EntryProblem:
    """An entry that was skipped (`skipped`) or kept without one field, and why."""

    dn: str
    reason: str
    skipped: bool = True

    def __str__(self) -> str:
        verdict = "skipped" if self.skipped else "kept"
        return f"{self.dn}: {verdict}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Mapped:
    """The directory built from the entries, and what was wrong with some of them."""

    directory: Directory
    problems: tuple[EntryProblem, ...] = ()

    @property
    def skipped(self) -> int:
        """How many entries could not be used at all."""
        return sum(1 for problem in self.problems if problem.skipped)


class _Unusable(Exception):
    """The entry cannot become an employee; the message says why."""


def dn_key(dn: str) -> str:
    """`dn` in a form two spellings of the same DN share: case and spaces around ``,`` ``=``.

    LDAP compares the attribute types and (for the usual directory string syntax) the
    values of a DN case-insensitively (RFC 4514, RFC 4517 §4.2.15), and servers differ
    in the spaces they keep; AD writes ``CN=Anna,OU=Staff`` where OpenLDAP writes
    ``cn=Anna,ou=Staff``. Escaped commas (``\\,``) stay inside their RDN.
    """
    return dn_clean(dn).casefold()


def dn_clean(dn: str) -> str:
    """`dn` without the spaces around its ``,`` and ``=`` that older tools write.

    RFC 4514 has no such spaces, and a client that checks DNs (ldap3 does) refuses
    ``uid=anna, ou=people`` as a search base, while servers store it in ``member``.
    """
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in dn:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    rdns = []
    for part in parts:
        name, _, value = part.partition("=")
        rdns.append(f"{name.strip()}={value.strip()}")
    return ",".join(rdns)


def outside_managers(entries: Iterable[LdapEntry], attributes: LdapAttributes) -> dict[str, str]:
    """The manager DNs (key → DN as written) that name no entry of the search.

    A manager may sit outside the base or the filter (a director not under the inbox
    rule); the LDAP source reads these few entries by DN to learn their addresses.
    """
    entries = list(entries)
    listed = {entry.key for entry in entries}
    wanted: dict[str, str] = {}
    for entry in entries:
        manager = entry.first(attributes.manager)
        if manager is not None and dn_key(manager) not in listed:
            wanted.setdefault(dn_key(manager), manager)
    return wanted


def map_entries(
    entries: Iterable[LdapEntry],
    attributes: LdapAttributes,
    memberships: Memberships | None = None,
    *,
    managers: Iterable[LdapEntry] = (),
    allow_test_domains: bool = False,
) -> Mapped:
    """Build the directory from the search's `entries`, in their order.

    `managers` are the entries read by DN for `outside_managers`; they only lend their
    addresses, they are not employees.
    """
    entries = list(entries)
    memberships = memberships or Memberships()
    problems: list[EntryProblem] = []
    addresses = _addresses([*entries, *managers], attributes, allow_test_domains)
    employees: list[Employee] = []
    seen: dict[str, str] = {}
    for entry in entries:
        try:
            employee = _employee(entry, attributes, memberships, addresses, problems)
        except (_Unusable, ConfigError) as exc:  # ConfigError: Employee refused the login
            problems.append(EntryProblem(entry.dn, str(exc)))
            continue
        email_key = employee.email.casefold()
        if email_key in seen:
            problems.append(
                EntryProblem(entry.dn, f"{employee.email!r} is already listed by {seen[email_key]}")
            )
            continue
        seen[email_key] = entry.dn
        employees.append(employee)
    return Mapped(Directory(tuple(employees)), tuple(problems))


def _addresses(
    entries: Iterable[LdapEntry], attributes: LdapAttributes, allow_test_domains: bool
) -> dict[str, str | _Unusable]:
    """Each entry's DN key → its validated address, or why it has none."""
    found: dict[str, str | _Unusable] = {}
    for entry in entries:
        value = entry.first(attributes.email)
        if value is None:
            found[entry.key] = _Unusable(f"no {attributes.email!r} attribute")
            continue
        try:
            found[entry.key] = validate_address(value, allow_test_domains=allow_test_domains)
        except EmailNotValidError as exc:
            found[entry.key] = _Unusable(
                f"attribute {attributes.email!r}: {value!r} is not a valid e-mail address ({exc})"
            )
    return found


def _employee(
    entry: LdapEntry,
    attributes: LdapAttributes,
    memberships: Memberships,
    addresses: Mapping[str, str | _Unusable],
    problems: list[EntryProblem],
) -> Employee:
    key = entry.key
    email = addresses[key]
    if isinstance(email, _Unusable):
        raise email
    disabled = _disabled(entry, attributes)
    return Employee(
        email=email,
        login=_login(entry, attributes) or email,
        manager=_manager(entry, attributes, addresses, email, problems),
        team=entry.first(attributes.team),
        language=_language(entry, attributes, problems),
        mode=memberships.mode_of(key),
        legal_hold=key in memberships.legal_hold,
        excluded=disabled or key in memberships.excluded,
    )


def _disabled(entry: LdapEntry, attributes: LdapAttributes) -> bool:
    value = entry.first(attributes.account_control)
    if value is None:
        return False
    try:
        flags = int(value)
    except ValueError:
        raise _Unusable(
            f"attribute {attributes.account_control!r}: {value!r} is not a number"
        ) from None
    return bool(flags & ACCOUNTDISABLE)


def _login(entry: LdapEntry, attributes: LdapAttributes) -> str | None:
    """The IMAP login, which must not reach a path or a protocol line unchecked."""
    value = entry.first(attributes.login)
    if value is None:
        return None
    problem = login_problem(value)  # the same rule as the file directory's
    if problem is not None:
        raise _Unusable(f"attribute {attributes.login!r}: {quoted(value)} {problem}")
    return value


def _manager(
    entry: LdapEntry,
    attributes: LdapAttributes,
    addresses: Mapping[str, str | _Unusable],
    email: str,
    problems: list[EntryProblem],
) -> str | None:
    dn = entry.first(attributes.manager)
    if dn is None:
        return None
    address = addresses.get(dn_key(dn))
    if address is None:
        reason = f"manager {dn!r} is not in the directory"
    elif isinstance(address, _Unusable):
        reason = f"manager {dn!r} has no usable address ({address})"
    elif address.casefold() == email.casefold():
        reason = "an employee cannot be their own manager"
    else:
        return address
    problems.append(EntryProblem(entry.dn, f"{reason}; no manager", skipped=False))
    return None


def _language(
    entry: LdapEntry, attributes: LdapAttributes, problems: list[EntryProblem]
) -> Language | None:
    """``sv``, ``sv-SE`` and ``sv_FI`` all mean Swedish: only the primary subtag counts."""
    value = entry.first(attributes.language)
    if value is None:
        return None
    primary = value.replace("_", "-").split("-")[0].split(",")[0].strip().lower()
    language = _LANGUAGES.get(primary)
    if language is None:
        problems.append(
            EntryProblem(
                entry.dn,
                f"language {value!r} has no texts (sv, en); the organisation's default is used",
                skipped=False,
            )
        )
    return language
