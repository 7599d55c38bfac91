"""Reads the configuration file and the environment into :class:`Settings`, or says exactly
what is wrong: every problem becomes a :class:`ConfigError` naming the file, the rule and the
field (docs/behaviour.md §12)."""

from __future__ import annotations

import os
import ssl
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from inboxwarden.config.sections import (
    DirectorySettings,
    ImapSettings,
    OAuthSettings,
)
from inboxwarden.config.settings import Settings, reading_file
from inboxwarden.errors import ConfigError, quoted
from inboxwarden.files import UnreadableFile, line_of, read_regular_file
from inboxwarden.imap.providers import profile_for
from inboxwarden.state.urls import parse_database_url

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "MAX_CONFIG_BYTES",
    "describe_validation_error",
    "find_config_path",
    "load_settings",
]

DEFAULT_CONFIG_PATH = Path("/etc/inboxwarden/inboxwarden.toml")

#: A configuration file is a few kilobytes.
MAX_CONFIG_BYTES = 1_000_000

#: The longest one problem's text may be in an error message.
_MAX_PROBLEM = 300


def find_config_path(explicit: Path | None) -> Path:
    """The configuration file: ``--config``, else ``$INBOXWARDEN_CONFIG``, else /etc."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get("INBOXWARDEN_CONFIG")
    return Path(from_env) if from_env else DEFAULT_CONFIG_PATH


def load_settings(path: Path) -> Settings:
    """Load and validate the configuration in *path*, with environment overrides."""
    raw = _read_toml(path)
    _refuse_inline_secrets(path, raw)
    try:
        with reading_file(raw):
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
        return parse_database_url(url).password
    except ValueError:
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
