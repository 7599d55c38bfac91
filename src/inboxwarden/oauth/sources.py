"""Builds the configured token source, reading its secret once, up front."""

from __future__ import annotations

from inboxwarden.config import OAuthSettings, read_secret
from inboxwarden.errors import ConfigError
from inboxwarden.oauth.cache import TokenSource

__all__ = ["token_source"]


def token_source(oauth: OAuthSettings) -> TokenSource:
    """The token source for *oauth*; a missing or unreadable secret is a ConfigError."""
    if oauth.provider == "microsoft":
        from inboxwarden.oauth.microsoft import Certificate, MicrosoftTokens

        if not (oauth.tenant_id and oauth.client_id):
            raise ConfigError("oauth.tenant_id, oauth.client_id: required for microsoft")
        credential: Certificate | None = None
        if oauth.certificate_file is not None:
            key = read_secret(None, oauth.certificate_file, "oauth.certificate_file")
            credential = Certificate(key, (oauth.thumbprint or "").replace(":", ""))
        return MicrosoftTokens(
            tenant_id=oauth.tenant_id,
            client_id=oauth.client_id,
            credential=credential
            or read_secret(
                oauth.client_secret, oauth.client_secret_file, "oauth.client_secret_file"
            ),
            authority_host=oauth.authority_host,
            scope=oauth.effective_scope,
            ca_file=oauth.ca_file,
        )
    if oauth.provider == "google":
        from inboxwarden.oauth.google import GoogleTokens

        key_json = read_secret(None, oauth.service_account_file, "oauth.service_account_file")
        return GoogleTokens(
            service_account_json=key_json, scope=oauth.effective_scope, ca_file=oauth.ca_file
        )
    raise ConfigError("oauth.provider: required for an OAuth2 login (microsoft or google)")
