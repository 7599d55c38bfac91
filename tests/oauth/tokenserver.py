"""A small identity provider over HTTPS for the OAuth2 tests: Microsoft's and Google's
token endpoints for the real ``msal`` and ``google-auth`` clients, and the grant endpoint
the test Dovecot's ``oauth2`` passdb asks whether a token may open a mailbox.

- ``GET /{tenant}/v2.0/.well-known/openid-configuration``: msal's OIDC discovery.
- ``POST /{tenant}/oauth2/v2.0/token``: the client-credentials grant (secret, or a
  certificate's signed client assertion), answering one app token.
- ``POST /google/token``: the JWT-bearer grant (RFC 7523); the assertion's signature is
  checked with the service account's public key, and its ``sub`` and ``scope``.
- ``POST /dovecot/grant``: Dovecot's password grant with the login name and the token.

Every request is recorded (path and, for Google, the subject) but never the secret.
"""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

TENANT = "4a7b1e0c-5f3d-4c2a-9e8b-1d2c3b4a5f60"
CLIENT_ID = "8c1e2d3f-1111-2222-3333-444455556666"
GOOGLE_AUDIENCE = "https://oauth2.googleapis.com/token"
SA_EMAIL = "inboxwarden@exempel-se.iam.gserviceaccount.com"


@dataclass
class Issued:
    """A token the server handed out: for the app (Microsoft) or one subject (Google)."""

    provider: str
    subject: str | None
    expires_at: float


@dataclass
class TokenServer:
    """The identity provider; start() it, then read its URLs and records."""

    directory: Path
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    expires_in: int = 3600
    google_scope: str = "https://mail.google.com/"
    #: Seconds the Dovecot grant endpoint waits before it answers (a slow login).
    grant_delay: float = 0.0
    #: Mailboxes a valid token may open (Add-MailboxPermission, IMAP enabled); None: all.
    permitted: set[str] | None = None
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    issued: dict[str, Issued] = field(default_factory=dict)
    refused_grants: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ca = trustme.CA()
        self.ca_file = self.directory / "token-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.sa_private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self.sa_public_key = key.public_key()
        # The app's "uploaded certificate": its key pair and the thumbprint Azure shows.
        app_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.app_private_pem = app_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self.app_public_key = app_key.public_key()
        self.app_thumbprint = secrets.token_hex(20).upper()
        self.assertions_accepted = 0
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------

    def reset(self) -> None:
        """Forget what happened and restore the defaults; the CA and keys stay."""
        with self._lock:
            self.requests.clear()
            self.issued.clear()
            self.refused_grants.clear()
        self.expires_in = 3600
        self.grant_delay = 0.0
        self.permitted = None
        self.google_scope = "https://mail.google.com/"
        self.assertions_accepted = 0

    def start(self) -> None:
        server = self

        class Handler(_Handler):
            owner = server

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        self._httpd = httpd
        threading.Thread(target=httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        return f"https://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def grant_url(self) -> str:
        return f"{self.base_url}/dovecot/grant"

    def write_service_account(self, path: Path) -> Path:
        """A Google service account key file whose token_uri points here."""
        path.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": "exempel-se",
                    "private_key_id": "k1",
                    "private_key": self.sa_private_pem,
                    "client_email": SA_EMAIL,
                    "client_id": "1234567890",
                    "token_uri": f"{self.base_url}/google/token",
                }
            )
        )
        return path

    # -- what happened -----------------------------------------------------------------

    def token_requests(self, provider: str) -> list[str | None]:
        """The subjects (None for the app) of the token requests to *provider*."""
        with self._lock:
            return [subject for p, subject in self.requests if p == provider]

    def tokens(self) -> set[str]:
        with self._lock:
            return set(self.issued)

    # -- the endpoints -------------------------------------------------------------------

    def _issue(self, provider: str, subject: str | None) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self.requests.append((provider, subject))
            self.issued[token] = Issued(provider, subject, time.time() + self.expires_in)
        return {"token_type": "Bearer", "expires_in": self.expires_in, "access_token": token}

    def microsoft_token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type") != "client_credentials" or form.get("client_id") != CLIENT_ID:
            return 400, {"error": "unauthorized_client", "error_description": "AADSTS700016"}
        if form.get("scope") != "https://outlook.office365.com/.default":
            return 400, {"error": "invalid_scope", "error_description": "AADSTS70011: bad scope"}
        if "client_assertion" in form:
            return self._microsoft_assertion(form)
        if form.get("client_secret") != self.client_secret:
            with self._lock:
                self.requests.append(("microsoft-refused", None))
            return 401, {
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided.\r\n"
                "Trace ID: 0000\r\nCorrelation ID: 1111",
            }
        return 200, self._issue("microsoft", None)

    def _microsoft_assertion(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """A certificate credential: a JWT signed with the app's key (RFC 7523 §2.2)."""
        assertion = form["client_assertion"]
        token_endpoint = f"{self.base_url}/{TENANT}/oauth2/v2.0/token"
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(
                assertion,
                self.app_public_key,
                algorithms=["RS256", "PS256"],
                audience=token_endpoint,
                issuer=CLIENT_ID,
            )
        except jwt.PyJWTError as exc:
            return 401, {"error": "invalid_client", "error_description": f"AADSTS700027: {exc}"}
        expected = base64.urlsafe_b64encode(bytes.fromhex(self.app_thumbprint)).rstrip(b"=")
        x5t = header.get("x5t", "").encode().rstrip(b"=")
        if x5t != expected or claims.get("sub") != CLIENT_ID:
            return 401, {"error": "invalid_client", "error_description": "AADSTS700027: key"}
        self.assertions_accepted += 1
        return 200, self._issue("microsoft", None)

    def google_token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type"}
        try:
            claims = jwt.decode(
                form.get("assertion", ""),
                self.sa_public_key,
                algorithms=["RS256"],
                audience=GOOGLE_AUDIENCE,
                issuer=SA_EMAIL,
            )
        except jwt.PyJWTError as exc:
            with self._lock:
                self.requests.append(("google-refused", None))
            return 400, {"error": "invalid_grant", "error_description": f"Invalid JWT: {exc}"}
        if claims.get("scope") != self.google_scope:
            return 400, {"error": "invalid_scope", "error_description": "Bad scope."}
        subject = claims.get("sub")
        if not subject:
            return 400, {"error": "invalid_grant", "error_description": "No subject."}
        return 200, self._issue("google", str(subject))

    def dovecot_grant(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        login = form.get("username", "").lower()
        token = form.get("password", "")
        with self._lock:
            issued = self.issued.get(token)
        ok = issued is not None and issued.expires_at > time.time()
        if ok and issued is not None and issued.provider == "google":
            ok = issued.subject == login
        if ok and self.permitted is not None:
            ok = login in self.permitted
        if not ok:
            with self._lock:
                self.refused_grants.append(login)
            return 400, {"error": "invalid_grant"}
        # Checked first, then slow: time passes between logins, not within one.
        time.sleep(self.grant_delay)
        return 200, {
            "access_token": token,
            "token_type": "Bearer",
            "email": login,
            "active": "true",
        }


class _Handler(BaseHTTPRequestHandler):
    owner: TokenServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the test output stays readable

    def do_GET(self) -> None:
        prefix = f"/{TENANT}/v2.0/.well-known/openid-configuration"
        if self.path.split("?")[0] != prefix:
            self._answer(404, {"error": "not_found"})
            return
        base = f"{self.owner.base_url}/{TENANT}"
        self._answer(
            200,
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
            },
        )

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        path = self.path.split("?")[0]
        if path == f"/{TENANT}/oauth2/v2.0/token":
            status, answer = self.owner.microsoft_token(form)
        elif path == "/google/token":
            status, answer = self.owner.google_token(form)
        elif path == "/dovecot/grant":
            status, answer = self.owner.dovecot_grant(form)
        else:
            status, answer = 404, {"error": "not_found"}
        self._answer(status, answer)

    def _answer(self, status: int, answer: dict[str, Any]) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
