"""Secrets: read from files (or the environment) when needed, never kept in the configuration."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from inboxwarden.config.sections import StateSettings
from inboxwarden.errors import ConfigError, quoted
from inboxwarden.files import UnreadableFile, read_regular_file
from inboxwarden.policy.people import login_problem
from inboxwarden.state.urls import with_password

__all__ = ["MAX_SECRET_BYTES", "password_file_for", "read_secret", "state_url"]

#: A secret file is a line.
MAX_SECRET_BYTES = 64 * 1024


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
    return with_password(state.url, secret.get_secret_value())
