"""App-only tokens from the Microsoft identity platform, through msal.

Exchange Online accepts an app token with the ``IMAP.AccessAsApp`` application
permission for every mailbox the app's service principal was given ``FullAccess`` to
(``Add-MailboxPermission``); the mailbox is named in XOAUTH2's ``user=``. So there is
one token for the whole run, fetched by the client-credentials grant (RFC 6749 §4.4).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msal
import requests
from pydantic import SecretStr

from inboxwarden.errors import ConnectionLost, TokenUnavailable
from inboxwarden.oauth.cache import TokenCache
from inboxwarden.oauth.http import https_session

__all__ = ["Certificate", "MicrosoftTokens", "describe_refusal"]

_APP_KEY = "app"
_DEFAULT_LIFETIME = 3600.0


@dataclass(frozen=True)
class Certificate:
    """A client certificate instead of a secret: its PEM private key and SHA-1 thumbprint."""

    private_key_pem: SecretStr
    thumbprint: str


class MicrosoftTokens:
    """One app token for all mailboxes, cached and refreshed shortly before it expires."""

    provider = "microsoft"

    def __init__(
        self,
        *,
        tenant_id: str,
        client_id: str,
        credential: SecretStr | Certificate,
        authority_host: str,
        scope: str,
        ca_file: Path | None = None,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._authority = f"{authority_host.rstrip('/')}/{tenant_id}"
        self._client_id = client_id
        self._credential = credential
        self._scope = scope
        self._session = https_session(ca_file, timeout)
        # msal wants one application per process: its own cache and throttling live there.
        self._app: msal.ConfidentialClientApplication | None = None
        self.cache = TokenCache(self._fetch, clock=clock)

    def __repr__(self) -> str:
        return f"<MicrosoftTokens {self._authority} client_id={self._client_id}>"

    def token_for(self, login: str) -> SecretStr:
        """The app token; *login* does not matter, the mailbox is chosen at login."""
        return self.cache.get(_APP_KEY)

    def _fetch(self, _key: str) -> tuple[SecretStr, float]:
        # Runs under the cache's lock for the app key, so the application is built once.
        try:
            if self._app is None:
                self._app = self._application()
            result: dict[str, Any] = self._app.acquire_token_for_client(scopes=[self._scope])
        except requests.RequestException as exc:
            raise ConnectionLost(
                f"microsoft token endpoint unreachable: {type(exc).__name__}"
            ) from exc
        except ValueError as exc:
            # msal's authority discovery refuses an unknown tenant or authority host.
            raise TokenUnavailable(f"microsoft: {_first_line(str(exc))}") from exc
        token = result.get("access_token")
        if not isinstance(token, str) or not token:
            raise TokenUnavailable(describe_refusal("microsoft", result))
        return SecretStr(token), float(result.get("expires_in") or _DEFAULT_LIFETIME)

    def _application(self) -> msal.ConfidentialClientApplication:
        credential: str | dict[str, str]
        if isinstance(self._credential, Certificate):
            credential = {
                "private_key": self._credential.private_key_pem.get_secret_value(),
                "thumbprint": self._credential.thumbprint,
            }
        else:
            credential = self._credential.get_secret_value()
        return msal.ConfidentialClientApplication(
            self._client_id,
            client_credential=credential,
            authority=self._authority,
            # Instance discovery asks login.microsoftonline.com whether the authority host
            # is Microsoft's; a tenant-specific authority is validated by OIDC discovery
            # anyway, and sovereign clouds and tests use other hosts.
            instance_discovery=False,
            http_client=self._session,
        )


def describe_refusal(provider: str, answer: dict[str, Any]) -> str:
    """The provider's ``error`` and the first line of its ``error_description``."""
    error = str(answer.get("error") or "no_token")
    description = _first_line(str(answer.get("error_description") or ""))
    return f"{provider} refused a token: {error}" + (f": {description}" if description else "")


def _first_line(text: str) -> str:
    # Azure appends "Trace ID: … Correlation ID: … Timestamp: …" on further lines.
    return text.strip().splitlines()[0][:300] if text.strip() else ""
