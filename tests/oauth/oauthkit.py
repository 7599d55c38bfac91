"""Configurations for runs that log in with OAuth2 tokens from the test token server."""

from __future__ import annotations

import secrets
from pathlib import Path

from inboxwarden.demo.localserver import LocalDovecot
from tests.kit.engine import RULES
from tests.oauth.tokenserver import CLIENT_ID, TENANT, TokenServer


def write_oauth_config(
    tmp_path: Path,
    server: LocalDovecot,
    idp: TokenServer,
    emails: list[str],
    *,
    provider: str,
    auth: str = "xoauth2",
    client_secret: str | None = None,
    service_account: Path | None = None,
    imap_extra: str = "",
    certificate: bool = False,
) -> Path:
    """A configuration for *emails* on *server* over STARTTLS, tokens from *idp*."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "audit.key").write_text("test-key-" + secrets.token_hex(8))
    (tmp_path / "employees.csv").write_text("email\n" + "".join(f"{e}\n" for e in emails))
    if provider == "microsoft":
        if certificate:
            (tmp_path / "client.pem").write_text(idp.app_private_pem)
            credential = f'certificate_file = "client.pem"\nthumbprint = "{idp.app_thumbprint}"'
        else:
            (tmp_path / "client.secret").write_text(client_secret or idp.client_secret)
            credential = 'client_secret_file = "client.secret"'
        oauth = f"""
provider = "microsoft"
tenant_id = "{TENANT}"
client_id = "{CLIENT_ID}"
{credential}
authority_host = "{idp.base_url}"
"""
    else:
        key = service_account or idp.write_service_account(tmp_path / "sa.json")
        oauth = f"""
provider = "google"
service_account_file = "{key}"
"""
    config = tmp_path / "inboxwarden.toml"
    config.write_text(
        f"""
[organisation]
domains = ["exempel.se"]
[mode]
default = "enforce"
[imap]
host = "127.0.0.1"
port = {server.port}
security = "starttls"
ca_file = "{server.ca_cert_pem}"
auth = "{auth}"
retries = 2
retry_backoff_seconds = 0
{imap_extra}
[oauth]
{oauth}
ca_file = "{idp.ca_file}"
[directory]
path = "employees.csv"
[state]
url = "sqlite:///{tmp_path}/state.db"
[audit]
hmac_key_file = "audit.key"
{RULES}
""",
        encoding="utf-8",
    )
    return config
