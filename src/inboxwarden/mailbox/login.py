"""Logging in to one mailbox with the configured method: a per-user password, a master
user, or an OAuth2 token; then the command limits the server allows.

The secrets are read once, when the `Login` is made, so that a missing file stops a
run before any mailbox; per-user password files are read at each login, as they are
one per mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog
from pydantic import SecretStr

from inboxwarden.config import Settings, password_file_for, read_secret
from inboxwarden.errors import ConfigError
from inboxwarden.imap.connect import TOKEN_METHODS, Credentials, Endpoint
from inboxwarden.imap.providers import learned_limits, profile_for
from inboxwarden.imap.session import ImapSession
from inboxwarden.oauth.cache import TokenSource
from inboxwarden.policy.people import Employee

__all__ = ["Login"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Login:
    """How every mailbox of one run is logged in to."""

    settings: Settings
    master_secret: SecretStr | None
    #: Where XOAUTH2 / OAUTHBEARER logins get their tokens; None for password logins.
    tokens: TokenSource | None = None
    #: What the server answered to folder-name character probes, shared by the sessions
    #: (see ImapSession.refused_characters): one STATUS per run instead of per mailbox.
    probed: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def create(cls, settings: Settings) -> Login:
        """Read the master password or set up the token source, once, up front."""
        imap = settings.imap
        master = None
        if imap.auth in ("master", "authzid"):
            master = read_secret(imap.password, imap.password_file, "imap.password_file")
        tokens = None
        if imap.auth in TOKEN_METHODS:
            from inboxwarden.oauth.sources import token_source  # loads msal or google-auth

            tokens = token_source(settings.oauth)
        return cls(settings, master, tokens)

    @property
    def description(self) -> str:
        """The method, as ``check`` shows it: ``xoauth2 with a microsoft token``."""
        method: str = self.settings.imap.auth
        if self.tokens is not None:
            method += f" with a {self.tokens.provider} token"
        return method

    def open(self, entry: Employee) -> ImapSession:
        """Log in to *entry*'s mailbox with the configured method."""
        imap = self.settings.imap
        endpoint = Endpoint(
            host=imap.host,
            port=imap.effective_port,
            security=imap.security,
            ca_file=str(imap.ca_file) if imap.ca_file else None,
            timeout=imap.timeout_seconds,
        )
        if self.tokens is not None:
            secret = self.tokens.token_for(entry.login)
        elif imap.auth == "password":
            if imap.passwords_dir is None:
                raise ConfigError("imap.passwords_dir: required for auth = 'password'")
            # The login is the directory's; password_file_for keeps it inside the dir.
            path = password_file_for(imap.passwords_dir, entry.login)
            secret = read_secret(None, path, "imap.passwords_dir")
        elif self.master_secret is not None:
            secret = self.master_secret
        else:
            raise ConfigError("imap.password_file: required for a master-user login")
        credentials = Credentials(entry.login, secret, imap.auth, imap.master_user)
        session = ImapSession.open(endpoint, credentials)
        session.probed = self.probed
        # What the configuration sets wins; otherwise what the server says it accepts.
        limits = learned_limits(profile_for(self.settings.oauth.provider), session.server_id)
        line = imap.max_line_length or limits.max_line_length
        session.max_set_chars = line - 200  # room for the verb and folder
        session.batch_size = imap.batch_size or limits.batch_size
        log.debug("command_limits", source=limits.source, line=line, batch=session.batch_size)
        return session
