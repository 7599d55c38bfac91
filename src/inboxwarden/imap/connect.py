"""Opening an IMAP connection: TCP and TLS, the login (password, master user, SASL PLAIN
with an authorisation identity, or an OAuth2 bearer token), then ENABLE and ID.

What comes out is a logged-in imapclient object and what the server said about itself;
:class:`~inboxwarden.imap.session.ImapSession` wraps it. Like the session, nothing here
lets an imapclient exception out: :func:`~inboxwarden.imap.errors.translated` turns each
into a :class:`~inboxwarden.errors.MailboxError`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from imapclient import IMAPClient, SocketTimeout
from imapclient import exceptions as imap_exc
from pydantic import SecretStr

from inboxwarden.errors import PolicyError
from inboxwarden.imap import client_internals
from inboxwarden.imap.answers import as_text
from inboxwarden.imap.errors import translated
from inboxwarden.transport import AuthMethod, Security, is_loopback

__all__ = [
    "TOKEN_METHODS",
    "Credentials",
    "Endpoint",
    "LoggedIn",
    "logged_in",
    "shutdown",
    "tls_context",
]

#: SASL mechanisms that carry a bearer token (RFC 7628; XOAUTH2 is Google's and Microsoft's).
TOKEN_METHODS = frozenset({"xoauth2", "oauthbearer"})


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the server is and how to secure the connection (docs/behaviour.md §10)."""

    host: str
    port: int
    security: Security = "tls"
    ca_file: str | None = None
    timeout: float = 60.0


@dataclass(frozen=True, slots=True)
class Credentials:
    """Who logs in, and as whom: the mailbox's login, optionally through a master user.

    For ``xoauth2`` and ``oauthbearer`` the secret is the access token.
    """

    login: str
    secret: SecretStr
    method: AuthMethod = "password"
    master_user: str | None = None


@dataclass(frozen=True, slots=True)
class LoggedIn:
    """A connection past its login, and what the server told about itself on the way."""

    client: Any
    #: After login, upper case (servers often advertise more once authenticated).
    capabilities: frozenset[str]
    #: What the server said in ``ID`` (RFC 2971): lower-case field names.
    server_id: Mapping[str, str]
    #: CONDSTORE or QRESYNC is enabled: SELECT reports HIGHESTMODSEQ.
    tracks_changes: bool
    #: Commands sent after the login (ENABLE, ID), for the session's count.
    commands: int


def logged_in(endpoint: Endpoint, credentials: Credentials) -> LoggedIn:
    """Connect, secure and log in; raises :class:`MailboxError` subclasses only."""
    context = None if endpoint.security == "plain" else tls_context(endpoint.ca_file)
    timeout = SocketTimeout(connect=min(endpoint.timeout, 15.0), read=endpoint.timeout)
    with translated():
        client = IMAPClient(
            endpoint.host,
            port=endpoint.port,
            ssl=endpoint.security == "tls",
            ssl_context=context,
            timeout=timeout,
        )
    # Aware datetimes as the server sent them; imapclient would otherwise convert
    # INTERNALDATE to this machine's local time and drop the zone.
    client.normalise_times = False
    try:
        with translated():
            if endpoint.security == "starttls":
                client.starttls(context)
            if credentials.method in TOKEN_METHODS and not _may_carry_token(endpoint):
                raise PolicyError("a token is only sent over TLS (or in plain to loopback)")
            _login(client, credentials)
            caps = frozenset(c.decode("ascii", "replace").upper() for c in client.capabilities())
            tracking = False
            if "QRESYNC" in caps:
                # RFC 7162 §3.2.10: expunges then come as one VANISHED range instead of
                # an EXPUNGE line per message, which is most of a big MOVE's answer.
                client.enable("QRESYNC")
                tracking = True
            elif "CONDSTORE" in caps and "ENABLE" in caps:
                # So that SELECT reports HIGHESTMODSEQ (incremental scans, RFC 7162 §3.1).
                # Only an optimisation: refused, every scan is a full one.
                with contextlib.suppress(imap_exc.IMAPClientError):
                    tracking = bool(client.enable("CONDSTORE"))
        server_id = _identify(client) if "ID" in caps else {}
    except BaseException:
        shutdown(client)
        raise
    enabled = "QRESYNC" in caps or {"CONDSTORE", "ENABLE"} <= caps
    return LoggedIn(client, caps, server_id, tracking, int(enabled) + ("ID" in caps))


def shutdown(client: Any) -> None:
    """Close the socket under *client*, which may already be gone."""
    # Nothing useful to report about a connection being dropped.
    with contextlib.suppress(Exception):
        client.shutdown()


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """A verifying TLS context, shared by the connections (and threads) of the next hour:
    loading the trust store takes milliseconds, once per mailbox otherwise. A CA file
    that changes on disk, and after an hour the system's store, are read anew."""
    changed = os.stat(ca_file).st_mtime_ns if ca_file else 0
    return _tls_context(ca_file, changed, int(time.monotonic() // 3600))


@functools.lru_cache(maxsize=8)
def _tls_context(ca_file: str | None, _changed: int, _hour: int) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file)


def _login(client: Any, credentials: Credentials) -> None:
    secret = credentials.secret.get_secret_value()
    if credentials.method in TOKEN_METHODS:
        _bearer_login(client, credentials.method, credentials.login, secret)
    elif credentials.method == "password":
        client.login(credentials.login, secret)
    elif credentials.method == "master":
        # Dovecot's "user*master" form (auth_master_user_separator = *).
        client.login(f"{credentials.login}*{credentials.master_user}", secret)
    else:
        # SASL PLAIN with an authorisation identity (RFC 4616 §2): act as the user.
        client.plain_login(
            credentials.master_user, secret, authorization_identity=credentials.login
        )


def _bearer_login(client: Any, method: str, login: str, token: str) -> None:
    """AUTHENTICATE XOAUTH2 or OAUTHBEARER (RFC 7628 §3.1) as *login* with *token*.

    When the server refuses, it sends its JSON error as a second challenge and waits for
    a dummy answer (``^A`` for OAUTHBEARER, RFC 7628 §3.2.3; empty for XOAUTH2) before
    its final NO; answering with the token again would send it twice.
    """
    if method == "xoauth2":
        first = f"user={login}\x01auth=Bearer {token}\x01\x01"
    else:
        authzid = login.replace("=", "=3D").replace(",", "=2C")  # RFC 5801 §4 saslname
        first = f"n,a={authzid},\x01auth=Bearer {token}\x01\x01"
    answers = iter([first.encode()])
    dummy = b"\x01" if method == "oauthbearer" else b""

    def respond(_challenge: bytes) -> bytes:
        return next(answers, dummy)

    try:
        client_internals.authenticate(client, method.upper(), respond)
    except imap_exc.IMAPClientError as exc:
        raise imap_exc.LoginError(f"{method.upper()} refused: {exc}") from None


def _identify(client: Any) -> dict[str, str]:
    """The server's ``ID`` fields (RFC 2971 §3.3), to learn its limits; empty if it says NIL.

    A server that advertises ID but refuses it still serves mail: no limits learned.
    """
    try:
        answer = client.id_({"name": "inboxwarden"})
    except imap_exc.IMAPClientError:
        return {}
    fields = answer[0] if answer and isinstance(answer[0], tuple | list) else ()
    keys, values = fields[0::2], fields[1::2]
    return {as_text(k).lower(): as_text(v) for k, v in zip(keys, values, strict=False) if v}


def _may_carry_token(endpoint: Endpoint) -> bool:
    """True when the connection is encrypted, or stays on this machine (tests)."""
    return endpoint.security != "plain" or is_loopback(endpoint.host)
