"""Per-mailbox tokens for Gmail from a service account with domain-wide delegation.

google-auth signs a JWT with the service account's key whose ``sub`` is the mailbox
(RFC 7523 JWT-bearer grant) and posts it to the key file's ``token_uri``. Gmail wants a
token minted for the very user who logs in, so each mailbox has its own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from google.auth import exceptions as google_exc
from google.auth.transport.requests import Request
from google.oauth2 import service_account
from pydantic import SecretStr

from inboxwarden.errors import ConfigError, ConnectionLost, TokenUnavailable
from inboxwarden.oauth.cache import TokenCache
from inboxwarden.oauth.http import https_session
from inboxwarden.oauth.microsoft import describe_refusal

__all__ = ["GoogleTokens"]

_REQUIRED_KEYS = ("client_email", "private_key", "token_uri")


class GoogleTokens:
    """One token per mailbox, each cached until shortly before it expires."""

    provider = "google"

    def __init__(
        self,
        *,
        service_account_json: SecretStr,
        scope: str,
        ca_file: Path | None = None,
        where: str = "oauth.service_account_file",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        info = _service_account_info(service_account_json, where)
        try:
            build = service_account.Credentials.from_service_account_info
            self._base = build(info, scopes=[scope])  # type: ignore[no-untyped-call]
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{where}: not a usable service account key") from exc
        self._request = Request(https_session(ca_file))
        self.service_account = str(info["client_email"])
        self.cache = TokenCache(self._fetch, clock=clock)

    def __repr__(self) -> str:
        return f"<GoogleTokens {self.service_account}>"

    def token_for(self, login: str) -> SecretStr:
        """A token minted for *login* (the impersonated user, also XOAUTH2's ``user=``)."""
        return self.cache.get(login.strip().lower())

    def _fetch(self, login: str) -> tuple[SecretStr, float]:
        credentials = self._base.with_subject(login)
        try:
            credentials.refresh(self._request)
        except google_exc.RefreshError as exc:
            answer = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
            if not answer and exc.args:
                error, _, description = str(exc.args[0]).partition(": ")
                answer = {"error": error, "error_description": description}
            raise TokenUnavailable(describe_refusal("google", answer)) from exc
        except google_exc.TransportError as exc:
            raise ConnectionLost("google token endpoint unreachable") from exc
        token = credentials.token
        if not token:
            raise TokenUnavailable(describe_refusal("google", {}))
        lifetime = 3600.0
        if credentials.expiry is not None:
            now = datetime.now(UTC).replace(tzinfo=None)  # google-auth keeps naive UTC
            lifetime = (credentials.expiry - now).total_seconds()
        return SecretStr(token), lifetime


def _service_account_info(text: SecretStr, where: str) -> dict[str, Any]:
    try:
        info = json.loads(text.get_secret_value())
    except ValueError as exc:
        raise ConfigError(f"{where}: not a JSON service account key") from exc
    if not isinstance(info, dict):
        raise ConfigError(f"{where}: not a JSON service account key")
    missing = [key for key in _REQUIRED_KEYS if not info.get(key)]
    if missing:
        raise ConfigError(f"{where}: the key file lacks {', '.join(missing)}")
    return info
