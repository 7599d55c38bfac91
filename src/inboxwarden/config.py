"""The configuration: one TOML file, ``INBOXWARDEN_…`` environment overrides, secret files.

This is the only module that reads the configuration file and the environment
(docs/behaviour.md §12). :func:`load_settings` turns every problem into a :class:`ConfigError` that
names the file, the rule and the field, so an administrator can fix it in one go.
"""

from __future__ import annotations

import contextvars
import ipaddress
import os
import re
import ssl
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from inboxwarden.directory.entries import login_problem
from inboxwarden.errors import ConfigError, quoted
from inboxwarden.files import UnreadableFile, line_of, read_regular_file
from inboxwarden.imap.providers import profile_for
from inboxwarden.policy.cycle import Cycle
from inboxwarden.policy.rules import DefaultRule, Rule

Mode = Literal["observe", "notify", "enforce"]
DEFAULT_CONFIG_PATH = Path("/etc/inboxwarden/inboxwarden.toml")

#: A configuration file is a few kilobytes; a secret file a line.
MAX_CONFIG_BYTES = 1_000_000
MAX_SECRET_BYTES = 64 * 1024
#: SQLite files never belong in the kernel's virtual file systems.
_NO_DATABASE_UNDER = (Path("/proc"), Path("/sys"), Path("/dev"))

#: The longest one problem's text may be in an error message.
_MAX_PROBLEM = 300

_config_data: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "inboxwarden_config_data", default=None
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Organisation(_Section):
    """Who the company is; its domains decide what counts as internal."""

    name: str = "Organisation"
    domains: list[str] = Field(default_factory=list)
    timezone: str = "Europe/Stockholm"
    language: Literal["sv", "en"] = "sv"
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
    security: Literal["tls", "starttls", "plain"] = "tls"
    allow_insecure: bool = False
    ca_file: Path | None = None
    auth: Literal["password", "master", "authzid", "xoauth2", "oauthbearer"] = "master"
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
        return _is_loopback(self.host)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
            url = make_url(value)
        except (ArgumentError, ValueError):
            raise ValueError(
                "not a database URL (sqlite:///path or postgresql+psycopg://user@host/db)"
            ) from None
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
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
    security: Literal["tls", "starttls", "plain"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    allow_insecure: bool = False

    @property
    def is_loopback(self) -> bool:
        """True when the relay is this machine, where plain text exposes nothing."""
        return _is_loopback(self.host)


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


class Settings(BaseSettings):
    """Everything inboxwarden is configured with."""

    model_config = SettingsConfigDict(
        env_prefix="INBOXWARDEN_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    organisation: Organisation = Organisation()
    cycle: CycleSettings = CycleSettings()
    mode: ModeSettings = ModeSettings()
    imap: ImapSettings = ImapSettings()
    oauth: OAuthSettings = OAuthSettings()
    flag: FlagSettings = FlagSettings()
    directory: DirectorySettings = DirectorySettings()
    state: StateSettings = StateSettings()
    audit: AuditSettings = AuditSettings()
    domain_groups: dict[str, list[str]] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    default_rule: DefaultRule = DefaultRule()
    fanout: FanoutSettings = FanoutSettings()
    digest: DigestSettings = DigestSettings()
    report: ReportSettings = ReportSettings()
    smtp: SmtpSettings = SmtpSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    service: ServiceSettings = ServiceSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the file, as docs/behaviour.md §12 promises administrators.
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        data = _config_data.get()
        if data is not None:
            # The file as load_settings read and checked it: read once, never re-opened.
            sources.append(InitSettingsSource(settings_cls, init_kwargs=data))
        return tuple(sources)

    @property
    def cycle_calendar(self) -> Cycle:
        """The cycle as the pure calendar object the policy code works with."""
        return Cycle(
            anchor_day=self.cycle.anchor_day,
            timezone=self.organisation.tz,
            grace_business_days=self.cycle.grace_business_days,
            holidays=self.cycle.holidays,
            min_age_days=self.cycle.min_age_days,
        )

    @property
    def all_rules(self) -> tuple[Rule, ...]:
        """The configured rules followed by the default rule, in the order they are tried."""
        return (*self.rules, self.default_rule.as_rule())


def find_config_path(explicit: Path | None) -> Path:
    """The configuration file: ``--config``, else ``$INBOXWARDEN_CONFIG``, else /etc."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get("INBOXWARDEN_CONFIG")
    return Path(from_env) if from_env else DEFAULT_CONFIG_PATH


@contextmanager
def _reading(raw: dict[str, Any]) -> Iterator[None]:
    token = _config_data.set(raw)
    try:
        yield
    finally:
        _config_data.reset(token)


def load_settings(path: Path) -> Settings:
    """Load and validate the configuration in *path*, with environment overrides."""
    raw = _read_toml(path)
    _refuse_inline_secrets(path, raw)
    try:
        with _reading(raw):
            settings = Settings()
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(path, exc, raw)) from exc
    except RecursionError as exc:  # a value nested thousands deep
        raise ConfigError(f"{path}: a value is nested too deeply") from exc
    return _resolve(settings, path)


def _read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML as a dict; every way a file can be wrong is a `ConfigError`."""
    try:
        data = read_regular_file(path, MAX_CONFIG_BYTES)
    except UnreadableFile as exc:
        if exc.reason == "not found":
            raise ConfigError(f"{path}: configuration file not found") from None
        raise ConfigError(f"{path}: cannot read the configuration: {exc.reason}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}:{line_of(data, exc.start)}: not UTF-8 (byte {data[exc.start]:#04x}); "
            "save the configuration as UTF-8"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses once per level of nested arrays
        raise ConfigError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None


_SECRET_KEYS = (
    ("imap", "password"),
    ("smtp", "password"),
    ("audit", "hmac_key"),
    ("state", "password"),
    ("directory", "bind_password"),
    ("oauth", "client_secret"),
)


def _refuse_inline_secrets(path: Path, raw: dict[str, Any]) -> None:
    """Secrets live in files or the environment (docs/behaviour.md §10), never in the main file."""
    for section, key in _SECRET_KEYS:
        table = raw.get(section)
        if isinstance(table, dict) and key in table:
            raise ConfigError(
                f"{path}: field '{section}.{key}': secrets do not belong in the configuration "
                f"file; use {section}.{key}_file or INBOXWARDEN_{section.upper()}__{key.upper()}"
            )
    state = raw.get("state")
    url = state.get("url") if isinstance(state, dict) else None
    if isinstance(url, str) and _url_password(url) is not None:
        raise ConfigError(
            f"{path}: field 'state.url': the database password is a secret and does not "
            "belong in the configuration file; write the URL without it and use "
            "state.password_file or INBOXWARDEN_STATE__PASSWORD (or INBOXWARDEN_STATE__URL)"
        )


def _url_password(url: str) -> str | None:
    try:
        return make_url(url).password
    except (ArgumentError, ValueError):
        return None  # not a URL at all: the field's own validation says so


def describe_validation_error(path: Path, exc: ValidationError, raw: dict[str, Any]) -> str:
    """One line per problem: file, rule (by name) and field, as an administrator reads it."""
    lines = []
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        where = _describe_location(loc, raw)[:_MAX_PROBLEM]  # a key can be any length
        message = error["msg"].removeprefix("Value error, ")
        if len(message) > _MAX_PROBLEM:  # a validator may have quoted the whole value
            message = message[: _MAX_PROBLEM - 1] + "…"
        if error["type"] == "extra_forbidden":
            message = "unknown setting (check the spelling; see config/inboxwarden.toml)"
        elif error["type"] == "missing":
            message = "required"
        # Model-level checks name their field in the message: "rule 'a', field 'basis': …".
        joiner = ", " if message.startswith("field '") else ": "
        lines.append(f"{path}: {where}{joiner}{message}")
    return "\n".join(lines)


def _describe_location(loc: list[int | str], raw: dict[str, Any]) -> str:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        index = loc[1]
        rules = raw.get("rules")
        name = None
        if isinstance(rules, list) and index < len(rules) and isinstance(rules[index], dict):
            name = rules[index].get("name")
        rule = f"rule {quoted(name)} (rules[{index}])" if name else f"rules[{index}]"
        # Pydantic puts model-level errors on the rule itself; their text names the field.
        fields = [str(p) for p in loc[2:] if not str(p).startswith("function-")]
        return f"{rule}, field '{'.'.join(fields)}'" if fields else rule
    dotted = ".".join(str(p) for p in loc)
    return f"field '{dotted}'" if dotted else "top level"


def _resolve(settings: Settings, config_path: Path) -> Settings:
    """Resolve paths relative to the configuration file, and check cross-field rules."""
    base = config_path.parent
    directory_path = _relative_to(settings.directory.path, base)
    groups = settings.domain_groups
    for rule in settings.rules:
        for domain in (rule.match.from_domain or []) + (rule.match.to_domain or []):
            if domain.startswith("@") and domain[1:] not in groups:
                raise ConfigError(
                    f"{config_path}: rule {quoted(rule.name)}, field 'match': unknown domain "
                    f"group {quoted(domain)} (define it under [domain_groups])"
                )
    names = [rule.name for rule in settings.rules]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{config_path}: rule {quoted(duplicates[0])}: two rules have this name")
    imap = settings.imap
    if imap.security == "plain" and not (imap.is_loopback or imap.allow_insecure):
        raise ConfigError(
            f"{config_path}: field 'imap.security': plain text is only allowed to loopback; "
            "use tls or starttls, or set imap.allow_insecure = true"
        )
    smtp = settings.smtp
    if smtp.security == "plain" and not (smtp.is_loopback or smtp.allow_insecure):
        raise ConfigError(
            f"{config_path}: field 'smtp.security': plain text is only allowed to loopback "
            "(it would send the relay password and every report unencrypted); use tls or "
            "starttls, or set smtp.allow_insecure = true"
        )
    if imap.auth in ("master", "authzid") and not imap.master_user:
        raise ConfigError(
            f"{config_path}: field 'imap.master_user': required for auth = {imap.auth!r}"
        )
    if imap.auth == "password" and imap.passwords_dir is None:
        raise ConfigError(
            f"{config_path}: field 'imap.passwords_dir': required for auth = 'password'"
        )
    _check_ldap(settings.directory, config_path)
    oauth = _check_oauth(settings, config_path)
    imap = _provider_connection_limit(imap, oauth)
    _check_ca_file("imap.ca_file", imap.ca_file, base, config_path)
    _check_ca_file("smtp.ca_file", settings.smtp.ca_file, base, config_path)
    resolved = settings.model_copy(
        update={
            "oauth": oauth,
            "directory": settings.directory.model_copy(
                update={
                    "path": directory_path,
                    "ca_file": _maybe_relative(settings.directory.ca_file, base),
                    "bind_password_file": _maybe_relative(
                        settings.directory.bind_password_file, base
                    ),
                }
            ),
            "imap": imap.model_copy(
                update={
                    "ca_file": _relative_to(imap.ca_file, base) if imap.ca_file else None,
                    "password_file": _relative_to(imap.password_file, base)
                    if imap.password_file
                    else None,
                    "passwords_dir": _relative_to(imap.passwords_dir, base)
                    if imap.passwords_dir
                    else None,
                }
            ),
            "smtp": settings.smtp.model_copy(
                update={
                    "password_file": _maybe_relative(settings.smtp.password_file, base),
                    "ca_file": _maybe_relative(settings.smtp.ca_file, base),
                }
            ),
            "digest": settings.digest.model_copy(
                update={"templates_dir": _maybe_relative(settings.digest.templates_dir, base)}
            ),
            "report": settings.report.model_copy(
                update={"directory": _relative_to(settings.report.directory, base)}
            ),
            "state": settings.state.model_copy(
                update={"password_file": _maybe_relative(settings.state.password_file, base)}
            ),
            "audit": settings.audit.model_copy(
                update={
                    "hmac_key_file": _relative_to(settings.audit.hmac_key_file, base)
                    if settings.audit.hmac_key_file
                    else None
                }
            ),
        }
    )
    return resolved.model_copy(update=_default_senders(resolved))


def _check_ca_file(key: str, path: Path | None, base: Path, config_path: Path) -> None:
    """A CA file that is missing or holds no certificate is a configuration error, not a
    traceback at the first connection: name the key and the path the file was looked for at.
    """
    if path is None:
        return
    where = _relative_to(path, base)
    if not where.is_file():
        raise ConfigError(f"{config_path}: field {key!r}: {where}: no such file")
    try:
        ssl.create_default_context(cafile=str(where))
    except (ssl.SSLError, OSError) as exc:
        reason = getattr(exc, "strerror", None) or "not a PEM certificate file"
        raise ConfigError(f"{config_path}: field {key!r}: {where}: {reason}") from exc


def _default_senders(settings: Settings) -> dict[str, Any]:
    """Digest and report senders default to the organisation's first domain.

    ``inboxwarden@localhost`` is rejected by receiving filters, and the sender's domain
    also names the Message-ID, so an unset ``from`` takes ``organisation.domains[0]``.
    """
    domains = settings.organisation.domains
    if not domains:
        return {}
    sender = f"InboxWarden <inboxwarden@{domains[0]}>"
    return {
        name: section.model_copy(update={"from_": sender})
        for name, section in (("digest", settings.digest), ("report", settings.report))
        if "from_" not in section.model_fields_set
    }


def _check_ldap(directory: DirectorySettings, config_path: Path) -> None:
    """An LDAP directory needs a server and a base; a bind DN needs its password."""
    if directory.source != "ldap":
        return
    for name in ("url", "base_dn"):
        if not getattr(directory, name):
            raise ConfigError(
                f"{config_path}: field 'directory.{name}': required for source = 'ldap'"
            )
    if directory.bind_dn and not (directory.bind_password or directory.bind_password_file):
        raise ConfigError(
            f"{config_path}: field 'directory.bind_password_file': required with bind_dn "
            "(or set INBOXWARDEN_DIRECTORY__BIND_PASSWORD)"
        )


def _check_oauth(settings: Settings, config_path: Path) -> OAuthSettings:
    """Check the [oauth] keys the chosen provider needs, naming the missing one."""
    imap, oauth = settings.imap, settings.oauth
    base = config_path.parent

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(f"{config_path}: field 'oauth.{key}': {message}")

    if imap.auth not in ("xoauth2", "oauthbearer"):
        return oauth
    if oauth.provider is None:
        raise fail("provider", f"required for imap.auth = {imap.auth!r} (microsoft or google)")
    if imap.security == "plain" and not imap.is_loopback:
        # allow_insecure covers passwords in a lab, never a bearer token (docs/behaviour.md §10).
        raise ConfigError(
            f"{config_path}: field 'imap.security': a token is only sent over TLS; "
            "use tls or starttls"
        )
    if oauth.provider == "microsoft":
        for key in ("tenant_id", "client_id"):
            if not getattr(oauth, key):
                raise fail(key, "required for provider = 'microsoft'")
        has_secret = oauth.client_secret is not None or oauth.client_secret_file is not None
        has_certificate = oauth.certificate_file is not None
        if has_secret and has_certificate:
            raise fail("certificate_file", "give either client_secret_file or a certificate")
        if not (has_secret or has_certificate):
            raise fail(
                "client_secret_file",
                "required for provider = 'microsoft' (or certificate_file and thumbprint)",
            )
        if has_certificate and not oauth.thumbprint:
            raise fail("thumbprint", "required with certificate_file")
    elif oauth.service_account_file is None:
        raise fail("service_account_file", "required for provider = 'google'")
    return oauth.model_copy(
        update={
            key: _maybe_relative(getattr(oauth, key), base)
            for key in ("client_secret_file", "certificate_file", "service_account_file", "ca_file")
        }
    )


def _provider_connection_limit(imap: ImapSettings, oauth: OAuthSettings) -> ImapSettings:
    """The provider's connection limit applies unless the administrator set max_connections."""
    if oauth.provider is None or "max_connections" in imap.model_fields_set:
        return imap
    limit = profile_for(oauth.provider).max_connections
    return imap if limit is None else imap.model_copy(update={"max_connections": limit})


def _maybe_relative(path: Path | None, base: Path) -> Path | None:
    return None if path is None else _relative_to(path, base)


def _relative_to(path: Path, base: Path) -> Path:
    """A relative path means: next to the configuration file, else the working directory.

    The example configuration says ``config/employees.csv`` and is run from the
    repository root, while a deployed one sits beside its directory file in /etc.
    """
    if path.is_absolute():
        return path
    beside = base / path
    return beside if beside.exists() or not path.exists() else path


def read_secret(value: SecretStr | None, file: Path | None, what: str) -> SecretStr:
    """A secret from the environment (``value``) or from its file, never from the TOML."""
    if value is not None:
        return value
    if file is None:
        raise ConfigError(f"{what}: no secret configured (set the *_file setting)")
    try:
        data = read_regular_file(file, MAX_SECRET_BYTES)
    except UnreadableFile as exc:
        raise ConfigError(f"{what}: cannot read secret file {file}: {exc.reason}") from None
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        # Neither the byte nor its line: the message must not hint at the secret.
        raise ConfigError(f"{what}: secret file {file} is not UTF-8 text") from None
    if not text:
        raise ConfigError(f"{what}: secret file {file} is empty")
    return SecretStr(text)


def password_file_for(passwords_dir: Path, login: str) -> Path:
    """The file under *passwords_dir* that holds *login*'s password (``auth = "password"``).

    The login comes from the directory, which is not trusted to choose files: a login
    such as ``/etc/inboxwarden/audit.key`` or ``../x`` would otherwise send that file's
    content to the IMAP server as a password. The login must be a plain name, and the
    path, with symbolic links resolved, must stay inside *passwords_dir*.
    """
    problem = login_problem(login)
    if problem is not None:
        raise ConfigError(f"imap.passwords_dir: login {quoted(login)} {problem}")
    base = passwords_dir.resolve()
    candidate = (base / login).resolve()
    if candidate.parent != base:
        raise ConfigError(
            f"imap.passwords_dir: the password file of login {quoted(login)} leads outside "
            f"{base} (a symbolic link?); refused"
        )
    return candidate


def state_url(state: StateSettings) -> str:
    """``state.url`` with its password from ``state.password_file`` or the environment."""
    if state.password is None and state.password_file is None:
        return state.url
    secret = read_secret(state.password, state.password_file, "state.password_file")
    url: URL = make_url(state.url).set(password=secret.get_secret_value())
    return str(url.render_as_string(hide_password=False))
