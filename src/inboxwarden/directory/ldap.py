"""The directory from LDAP / AD (``[directory] source = "ldap"``, docs/behaviour.md §8).

The only module that imports the LDAP client, ldap3: pure Python, so the service and
its container image need no C toolchain or libldap headers, with typeshed's stubs.
One load is one connection: connect (``ldaps://``, or ``ldap://`` and StartTLS, the
certificate and host name always verified), bind, a paged subtree search for the
people (RFC 2696 Simple Paged Results: AD returns at most 1,000 entries a page and
OpenLDAP what its ``sizelimit`` says), a read by DN for each manager outside the search,
and the steering groups' ``member`` lists read recursively (depth ``group_depth``).

Nested groups are resolved by reading ``member`` lists rather than by AD's
``LDAP_MATCHING_RULE_IN_CHAIN`` (1.2.840.113556.1.4.1941) or ``memberOf``: it works the
same on Active Directory and on an OpenLDAP without the memberof overlay. AD returns
a ``member`` list longer than 1,500 values in ranges (``member;range=0-1499``);
ldap3's ``auto_range`` fetches the rest. Referrals are not chased: AD answers a search
from the domain root with references to its DNS partitions, which hold no people.

The pure mapping of entries to employees is in `directory_mapping`. Every failure of
the server or the network becomes a `DirectoryUnavailable` that names the setting to
look at; the bind password never appears in a message or a log event.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import structlog
from ldap3 import BASE, NONE, SUBTREE, Connection, Server, Tls
from ldap3.core import exceptions as ldap_errors
from pydantic import SecretStr

from inboxwarden.config import DirectorySettings, read_secret
from inboxwarden.directory.entries import Directory
from inboxwarden.directory.mapping import (
    EntryProblem,
    LdapEntry,
    Mapped,
    Memberships,
    dn_clean,
    dn_key,
    map_entries,
    outside_managers,
)
from inboxwarden.errors import ConfigError

__all__ = ["DirectoryUnavailable", "LdapDirectorySource", "LdapLoad", "translate_error"]

log = structlog.get_logger(__name__)

PAGED_RESULTS = "1.2.840.113556.1.4.319"
"""The Simple Paged Results control (RFC 2696), under Microsoft's OID as the RFC gives it."""

_GROUP_FIELDS = ("legal_hold", "excluded", "observe", "notify", "enforce")


class DirectoryUnavailable(ConfigError):
    """The LDAP directory could not be read: unreachable, TLS refused, bind or search failed.

    A `ConfigError`, because without its directory inboxwarden cannot start a run, and
    the command line treats it as the configuration problem it most often is (wrong
    URL, CA, bind DN or password): exit code 2 with the message, no traceback.
    """


@dataclass(frozen=True, slots=True)
class LdapLoad:
    """One load of the directory, with what an administrator may want to know about it."""

    directory: Directory
    problems: tuple[EntryProblem, ...]
    entries: int
    """How many entries the search returned, usable or not."""
    pages: int
    """How many pages the paged search took."""


class _VerifiedTls(Tls):
    """ldap3's `Tls`, with verification done by Python's `ssl` as for the IMAP connection.

    ldap3 2.9 switches the context's own host-name check off and calls the deprecated
    ``ssl.match_hostname`` afterwards (gone in Python 3.12); here the handshake itself
    verifies the chain against `ca_file` (or the system store) and the host name.
    """

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(validate=ssl.CERT_REQUIRED)
        self._context = context

    def wrap_socket(self, connection: Any, do_handshake: bool = False) -> None:
        connection.socket = self._context.wrap_socket(
            connection.socket,
            server_hostname=connection.server.host,
            do_handshake_on_connect=do_handshake,
        )


@dataclass(frozen=True)
class LdapDirectorySource:
    """The employees in LDAP / Active Directory, as ``[directory]`` describes them."""

    settings: DirectorySettings
    password: SecretStr | None = None
    allow_test_domains: bool = False

    def __repr__(self) -> str:
        return f"LdapDirectorySource(url={self.settings.url!r}, base_dn={self.settings.base_dn!r})"

    @classmethod
    def from_settings(
        cls, settings: DirectorySettings, *, allow_test_domains: bool = False
    ) -> LdapDirectorySource:
        """Read the bind password once, up front; a missing file stops before connecting."""
        password = None
        if settings.bind_dn:
            password = read_secret(
                settings.bind_password, settings.bind_password_file, "directory.bind_password_file"
            )
        return cls(settings, password, allow_test_domains)

    def load(self) -> Directory:
        """Read the directory; see `fetch` for the problems that came with it."""
        return self.fetch().directory

    def fetch(self) -> LdapLoad:
        """Read the people, their managers and the groups, and map them to employees."""
        settings = self.settings
        with self._connection() as connection:
            entries, pages = self._people(connection)
            wanted = outside_managers(entries, settings.attributes)
            managers = [m for dn in wanted.values() if (m := self._read(connection, dn))]
            memberships = self._memberships(connection, {entry.key for entry in entries})
        mapped: Mapped = map_entries(
            entries,
            settings.attributes,
            memberships,
            managers=managers,
            allow_test_domains=self.allow_test_domains,
        )
        # Counts only: a DN names a person, so the DNs go to `check`'s output instead.
        log.info(
            "directory_loaded",
            source="ldap",
            entries=len(entries),
            pages=pages,
            employees=len(mapped.directory),
            skipped=mapped.skipped,
            kept_with_problems=len(mapped.problems) - mapped.skipped,
        )
        if mapped.skipped:
            log.warning("directory_entries_skipped", skipped=mapped.skipped)
        return LdapLoad(mapped.directory, mapped.problems, len(entries), pages)

    # -- the connection --------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        settings = self.settings
        url = settings.url or ""
        parts = urlsplit(url)
        implicit_tls = parts.scheme.lower() == "ldaps"
        try:
            port = parts.port or (636 if implicit_tls else 389)
        except ValueError as exc:
            raise ConfigError(f"field 'directory.url': {url!r}: {exc}") from None
        server = Server(
            parts.hostname or "",
            port=port,
            use_ssl=implicit_tls,
            tls=_VerifiedTls(self._tls_context()),
            get_info=NONE,
            connect_timeout=settings.timeout_seconds,
        )
        connection = Connection(
            server,
            user=settings.bind_dn,
            password=self.password.get_secret_value() if self.password else None,
            read_only=True,
            raise_exceptions=True,
            auto_referrals=False,
            receive_timeout=settings.timeout_seconds,
        )
        try:
            with self._translated("connect to"):
                connection.open()
                if not implicit_tls:
                    connection.start_tls()
            with self._translated("bind to"):
                connection.bind()
            with self._translated("search"):
                yield connection
        finally:
            _close(connection)

    def _tls_context(self) -> ssl.SSLContext:
        ca_file = self.settings.ca_file
        try:
            return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        except (OSError, ssl.SSLError) as exc:
            reason = exc.strerror or str(exc)
            raise ConfigError(f"field 'directory.ca_file': cannot use {ca_file}: {reason}") from exc

    @contextmanager
    def _translated(self, doing: str) -> Iterator[None]:
        try:
            yield
        except (ldap_errors.LDAPException, OSError) as exc:
            raise translate_error(exc, doing, self.settings) from exc

    # -- reading -------------------------------------------------------------------------

    def _attributes(self) -> list[str]:
        names = self.settings.attributes.model_dump().values()
        return sorted({name for name in names if name})

    def _people(self, connection: Connection) -> tuple[list[LdapEntry], int]:
        """The paged subtree search; returns the entries and the number of pages."""
        settings = self.settings
        entries: list[LdapEntry] = []
        cookie: bytes | None = None
        pages = 0
        while True:
            connection.search(
                dn_clean(settings.base_dn or ""),
                settings.filter,
                search_scope=SUBTREE,
                attributes=self._attributes(),
                paged_size=settings.page_size,
                paged_cookie=cookie,
            )
            pages += 1
            entries += _entries(connection.response)
            control = connection.result.get("controls", {}).get(PAGED_RESULTS, {})
            cookie = control.get("value", {}).get("cookie") or None
            if not cookie:
                return entries, pages

    def _read(
        self, connection: Connection, dn: str, attributes: Sequence[str] | None = None
    ) -> LdapEntry | None:
        """The entry at `dn`, or ``None`` if there is none."""
        try:
            connection.search(
                dn_clean(dn),
                "(objectClass=*)",
                search_scope=BASE,
                attributes=list(attributes or self._attributes()),
            )
        except (ldap_errors.LDAPNoSuchObjectResult, ldap_errors.LDAPInvalidDNSyntaxResult):
            return None
        found = _entries(connection.response)
        return found[0] if found else None

    def _memberships(self, connection: Connection, people: set[str]) -> Memberships:
        groups: dict[str, frozenset[str]] = {}
        for name in _GROUP_FIELDS:
            dn = getattr(self.settings, f"{name}_group")
            if dn:
                groups[name] = self._members(connection, name, dn, people)
        return Memberships(**groups)

    def _members(
        self, connection: Connection, name: str, group: str, people: set[str]
    ) -> frozenset[str]:
        """The people in `group` and, down to ``group_depth`` levels, in its nested groups.

        A member that is not one of the search's people is read to see whether it is a
        group; each DN is read at most once, so a cycle of groups ends.
        """
        found: set[str] = set()
        seen: set[str] = set()
        level = [group]
        for _depth in range(self.settings.group_depth + 1):
            next_level: list[str] = []
            for dn in level:
                if dn_key(dn) in seen:
                    continue
                seen.add(dn_key(dn))
                entry = self._read(connection, dn, ["member"])
                if entry is None and dn is group:
                    # A misspelt legal-hold group must not quietly hold nobody.
                    raise ConfigError(
                        f"field 'directory.{name}_group': no entry {group!r} in {self.settings.url}"
                    )
                for member in () if entry is None else entry.values("member"):
                    if dn_key(member) in people:
                        found.add(dn_key(member))
                    elif dn_key(member) not in seen:
                        next_level.append(member)
            level = next_level
            if not level:
                break
        if level:
            log.warning("directory_group_too_deep", group=name, depth=self.settings.group_depth)
        return frozenset(found)


def _close(connection: Connection) -> None:
    """Unbind, and close the socket even when it never connected (ldap3 leaves it open)."""
    with suppress(ldap_errors.LDAPException, OSError):
        connection.unbind()
    sock = getattr(connection, "socket", None)
    if sock is not None:
        sock.close()


def _entries(response: Sequence[dict[str, Any]] | None) -> list[LdapEntry]:
    """The search result entries of an ldap3 response, values decoded as UTF-8 (RFC 4517)."""
    entries = []
    for item in response or ():
        if item.get("type") != "searchResEntry":
            continue  # references (AD's DNS partitions) and intermediate responses
        raw: dict[str, list[bytes]] = item.get("raw_attributes", {})
        attributes = {
            name: [value.decode("utf-8", errors="replace") for value in values]
            for name, values in raw.items()
        }
        entries.append(LdapEntry(str(item["dn"]), attributes))
    return entries


def translate_error(
    exc: BaseException, doing: str, settings: DirectorySettings
) -> DirectoryUnavailable:
    """One message per failure, naming the setting to check; never the password."""
    url = settings.url
    if isinstance(exc, ldap_errors.LDAPInvalidCredentialsResult | ldap_errors.LDAPBindError):
        return DirectoryUnavailable(
            f"field 'directory.bind_dn': {url} refused the bind as {settings.bind_dn!r}: "
            "wrong DN or password (directory.bind_password_file)"
        )
    if isinstance(exc, ldap_errors.LDAPNoSuchObjectResult):
        return DirectoryUnavailable(
            f"field 'directory.base_dn': {url} has no entry {settings.base_dn!r}"
        )
    if isinstance(exc, ldap_errors.LDAPAdminLimitExceededResult):
        return DirectoryUnavailable(
            f"field 'directory.page_size': {url} refuses pages of {settings.page_size} entries; "
            "lower page_size to the server's limit (OpenLDAP: size.pr)"
        )
    if isinstance(exc, ldap_errors.LDAPSizeLimitExceededResult):
        return DirectoryUnavailable(
            f"field 'directory.page_size': {url} stopped the search at its size limit; "
            f"lower page_size (now {settings.page_size}) below the server's limit"
        )
    if isinstance(exc, ldap_errors.LDAPInvalidDnError):
        return DirectoryUnavailable(
            f"field 'directory.bind_dn': {settings.bind_dn!r} is not a valid DN ({exc})"
        )
    if isinstance(exc, ldap_errors.LDAPInvalidFilterError):
        return DirectoryUnavailable(f"field 'directory.filter': {settings.filter!r}: {exc}")
    if isinstance(exc, ldap_errors.LDAPInsufficientAccessRightsResult):
        return DirectoryUnavailable(
            f"field 'directory.bind_dn': {settings.bind_dn!r} may not read {settings.base_dn!r}"
        )
    if _is_tls_failure(exc):
        return DirectoryUnavailable(
            f"field 'directory.ca_file': TLS with {url} failed: {_reason(exc)} "
            "(is the server's certificate issued by directory.ca_file, for this host name?)"
        )
    if isinstance(exc, ldap_errors.LDAPOperationResult) and doing == "bind to":
        return DirectoryUnavailable(
            f"field 'directory.bind_dn': {url} refused the bind as {settings.bind_dn!r}: "
            f"{exc.description}"
        )
    if isinstance(exc, ldap_errors.LDAPOperationResult):
        return DirectoryUnavailable(
            f"field 'directory.url': {url}: {exc.description}: {exc.message}"
        )
    return DirectoryUnavailable(f"field 'directory.url': cannot {doing} {url}: {_reason(exc)}")


def _is_tls_failure(exc: BaseException) -> bool:
    if isinstance(exc, ssl.SSLError | ssl.CertificateError | ldap_errors.LDAPStartTLSError):
        return True
    text = str(exc)
    return "SSL" in text or "certificate" in text.lower()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    # ldap3 wraps socket errors in lists of (address, exception) tuples; keep it short.
    return text if len(text) <= 300 else text[:300] + "…"
