"""The sections of the configuration file, each a pydantic model that checks its own fields."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from inboxwarden.errors import quoted
from inboxwarden.policy.cycle import Cycle
from inboxwarden.policy.people import Language, Mode
from inboxwarden.state.urls import parse_database_url
from inboxwarden.transport import AuthMethod, Security, is_loopback

__all__ = [
    "OAUTH_DEFAULT_SCOPES",
    "AuditSettings",
    "CycleSettings",
    "DigestSettings",
    "DirectorySettings",
    "FanoutSettings",
    "FlagSettings",
    "ImapSettings",
    "LdapAttributes",
    "ModeSettings",
    "OAuthSettings",
    "Organisation",
    "ReportSettings",
    "ScheduleSettings",
    "ServiceSettings",
    "SmtpSettings",
    "StateSettings",
]

#: SQLite files never belong in the kernel's virtual file systems.
_NO_DATABASE_UNDER = (Path("/proc"), Path("/sys"), Path("/dev"))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Organisation(_Section):
    """Who the company is; its domains decide what counts as internal."""

    name: str = "Organisation"
    domains: list[str] = Field(default_factory=list)
    timezone: str = "Europe/Stockholm"
    language: Language = "sv"
    policy_url: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {quoted(value)}") from exc
        return value

    @field_validator("domains")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [d.strip().lower().lstrip("@.") for d in value]

    @property
    def tz(self) -> ZoneInfo:
        """The organisation's time zone as a tzinfo."""
        return ZoneInfo(self.timezone)


class CycleSettings(_Section):
    """The monthly cycle (docs/behaviour.md §1)."""

    anchor_day: int = Field(default=1, ge=1, le=28)
    grace_business_days: int = Field(default=5, ge=0, le=60)
    holidays: str = "SE"
    min_age_days: int = Field(default=0, ge=0)

    @field_validator("holidays")
    @classmethod
    def _known_country(cls, value: str) -> str:
        Cycle(holidays=value)  # raises ValueError with a readable message
        return value


class ModeSettings(_Section):
    """The default mode; the directory may override it per employee (docs/behaviour.md §4)."""

    default: Mode = "notify"


class ImapSettings(_Section):
    """How to reach and log in to the mailboxes (docs/behaviour.md §10)."""

    host: str = "localhost"
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Security = "tls"
    allow_insecure: bool = False
    ca_file: Path | None = None
    auth: AuthMethod = "master"
    master_user: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    passwords_dir: Path | None = None
    max_connections: int = Field(default=8, ge=1, le=256)
    timeout_seconds: float = Field(default=60, gt=0)
    # None: learned from the server after login (providers.learned_limits): Dovecot's
    # own limits where it identifies itself in ID, RFC 7162's 8192 octets elsewhere.
    batch_size: int | None = Field(default=None, ge=1, le=100_000)
    max_line_length: int | None = Field(default=None, ge=1000, le=1_000_000)
    retries: int = Field(default=3, ge=1, le=10)
    retry_backoff_seconds: float = Field(default=2.0, ge=0)
    #: All attempts at one mailbox together stop retrying after this long.
    retry_total_seconds: float = Field(default=300, gt=0)
    #: One mailbox may take this long in a run; then it is left for the next run.
    mailbox_budget_seconds: float = Field(default=1800, gt=0)

    @property
    def effective_port(self) -> int:
        """The port, defaulting to 993 for implicit TLS and 143 otherwise."""
        if self.port is not None:
            return self.port
        return 993 if self.security == "tls" else 143

    @property
    def is_loopback(self) -> bool:
        """True when the server is this machine, where plain text exposes nothing."""
        return is_loopback(self.host)


#: What each provider's IMAP login wants as the token's scope (docs/behaviour.md §10).
OAUTH_DEFAULT_SCOPES = {
    "microsoft": "https://outlook.office365.com/.default",
    "google": "https://mail.google.com/",
}


class OAuthSettings(_Section):
    """Where XOAUTH2 / OAUTHBEARER tokens come from (docs/behaviour.md §10).

    See the README for each provider.
    """

    provider: Literal["microsoft", "google"] | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    client_secret_file: Path | None = None
    certificate_file: Path | None = None
    thumbprint: str | None = Field(default=None, pattern=r"^[0-9A-Fa-f:]{40,59}$")
    authority_host: str = Field(
        default="https://login.microsoftonline.com", pattern=r"^https://[^/\s]+/?$"
    )
    scope: str | None = None
    service_account_file: Path | None = None
    ca_file: Path | None = None

    @property
    def effective_scope(self) -> str:
        """The configured scope, else the provider's IMAP scope."""
        return self.scope or OAUTH_DEFAULT_SCOPES.get(self.provider or "", "")


class FlagSettings(_Section):
    """How due messages are marked (docs/behaviour.md §2)."""

    keyword: str = Field(default="$InboxWardenDue", pattern=r"^[^\s()\{%*\"\\\]]+$")
    also_flagged: bool = True


class LdapAttributes(_Section):
    """Which LDAP attribute holds each directory field; the defaults are Active Directory's."""

    email: str = Field(default="mail", min_length=1)
    login: str | None = None
    """The IMAP login (e.g. ``userPrincipalName``); unset: the address, as for the file."""
    manager: str | None = "manager"
    team: str | None = "department"
    language: str | None = "preferredLanguage"
    account_control: str | None = "userAccountControl"
    """AD's flags; an account with the disabled bit (0x2) is listed but excluded."""


class DirectorySettings(_Section):
    """Where the list of employees comes from (docs/behaviour.md §8): a file, or LDAP / AD."""

    source: Literal["file", "ldap"] = "file"
    path: Path = Path("employees.csv")
    # source = "ldap" (see directory_ldap.py); the password only from a file or the environment.
    url: str | None = None
    ca_file: Path | None = None
    bind_dn: str | None = None
    bind_password: SecretStr | None = None
    bind_password_file: Path | None = None
    base_dn: str | None = None
    filter: str = Field(default="(&(objectClass=person)(mail=*))", pattern=r"^\(.*\)$")
    page_size: int = Field(default=500, ge=1, le=1000)  # AD returns at most 1,000 a page
    timeout_seconds: float = Field(default=30, gt=0)
    group_depth: int = Field(default=8, ge=1, le=64)
    legal_hold_group: str | None = None
    excluded_group: str | None = None
    observe_group: str | None = None
    notify_group: str | None = None
    enforce_group: str | None = None
    attributes: LdapAttributes = LdapAttributes()

    @field_validator("url")
    @classmethod
    def _ldap_url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"(?i)ldaps?://[^/?#\s]+/?", value):
            raise ValueError(
                f"{value!r}: expected ldaps://host[:port], or ldap://host[:port] (StartTLS)"
            )
        return value


class StateSettings(_Section):
    """Where inboxwarden keeps what it did (SQLite by default, PostgreSQL for several).

    The URL's password is a secret: it comes from ``password_file`` or
    ``INBOXWARDEN_STATE__PASSWORD`` (or a whole ``INBOXWARDEN_STATE__URL``), never from
    the configuration file; :func:`state_url` puts it in.
    """

    # Not in repr: a URL from the environment may carry its password.
    url: str = Field(default="sqlite:///var/lib/inboxwarden/state.db", repr=False)
    password: SecretStr | None = None
    password_file: Path | None = None

    @field_validator("url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            url = parse_database_url(value)
        except ValueError:
            raise ValueError(
                "not a database URL (sqlite:///path or postgresql+psycopg://user@host/db)"
            ) from None
        if url.backend == "sqlite" and url.database not in (None, "", ":memory:"):
            place = Path(url.database or "").absolute()
            if any(place.is_relative_to(forbidden) for forbidden in _NO_DATABASE_UNDER):
                raise ValueError(f"{place} is in a virtual file system, not a place for a database")
        return value

    @property
    def is_sqlite(self) -> bool:
        """True for a SQLite file, whose problems are the configuration's, not a server's."""
        return self.url.startswith("sqlite")


class AuditSettings(_Section):
    """The audit trail's key and retention (docs/behaviour.md §9)."""

    hmac_key: SecretStr | None = None
    hmac_key_file: Path | None = None
    retention_days: int = Field(default=400, ge=1)


class FanoutSettings(_Section):
    """Thresholds of the CC fan-out analysis (docs/behaviour.md §6)."""

    max_cc: int = Field(default=3, ge=0)
    max_recipients: int = Field(default=10, ge=1)
    window_days: int = Field(default=7, ge=1)
    folders: list[str] = Field(default_factory=lambda: ["\\Sent", "INBOX"])


class DigestSettings(_Section):
    """How the employee digest is delivered (docs/behaviour.md §7)."""

    delivery: Literal["imap", "smtp"] = "imap"
    from_: str = Field(default="InboxWarden <inboxwarden@localhost>", alias="from")
    templates_dir: Path | None = None


class ReportSettings(_Section):
    """Where the manager reports go (docs/behaviour.md §7)."""

    from_: str = Field(default="InboxWarden <inboxwarden@localhost>", alias="from")
    directory: Path = Path("/var/lib/inboxwarden/reports")


class SmtpSettings(_Section):
    """The SMTP relay for reports (and digests when delivery is smtp)."""

    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    security: Security = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    allow_insecure: bool = False

    @property
    def is_loopback(self) -> bool:
        """True when the relay is this machine, where plain text exposes nothing."""
        return is_loopback(self.host)


class ScheduleSettings(_Section):
    """When ``serve`` runs each job, as cron lines in the organisation's time zone.

    Five crontab fields, or six with a leading seconds field (for trials and tests).
    """

    scan: str = "0 2 * * *"
    report: str = "0 7 * * mon"
    fanout: str = "30 2 * * *"
    retention: str = "30 3 * * *"
    #: A job whose time passed while the service was down still runs, once, this late.
    misfire_grace_seconds: int = Field(default=6 * 3600, ge=1)

    @field_validator("scan", "report", "fanout", "retention")
    @classmethod
    def _cron(cls, value: str) -> str:
        # The scheduler module owns apscheduler; it parses here so a typo stops the load.
        from inboxwarden.service.scheduler import check_cron

        check_cron(value)
        return value


class ServiceSettings(_Section):
    """The ``serve`` process: where it answers ``/healthz`` and ``/metrics``."""

    #: host:port; loopback by default, empty disables the endpoint.
    listen: str = "127.0.0.1:9464"

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if value:
            host, sep, port = value.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
                raise ValueError(f"{value!r} is not host:port (empty disables it)")
        return value
