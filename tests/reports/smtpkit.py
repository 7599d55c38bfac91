"""A real SMTP server for the tests: aiosmtpd on loopback, with STARTTLS, TLS and AUTH."""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "inboxwarden", "smtp-secret"


@dataclass(frozen=True)
class Received:
    """One message the server accepted, with its envelope and how the client got in."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    authenticated: bool
    tls: bool

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=default)  # type: ignore[return-value]


@dataclass
class Collector:
    """The aiosmtpd handler: keeps what arrives."""

    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.original_content or envelope.content,
                bool(session.authenticated),
                # STARTTLS sets session.ssl; implicit TLS only shows on the transport.
                session.ssl is not None
                or server.transport.get_extra_info("ssl_object") is not None,
            )
        )
        return "250 Message accepted"


def _authenticate(server, session, envelope, mechanism, auth_data):
    good = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=good, handled=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpServer:
    """A running server: where it listens, what it received, which CA signed its cert."""

    host: str
    port: int
    collector: Collector
    ca_file: Path | None

    @property
    def received(self) -> list[Received]:
        return self.collector.received


@contextlib.contextmanager
def smtp_server(security: str, tmp_path: Path, *, auth: bool = False) -> Iterator[SmtpServer]:
    """An aiosmtpd server on 127.0.0.1: ``plain``, ``starttls`` or implicit ``tls``."""
    collector = Collector()
    ca_file = None
    options: dict[str, object] = {}
    if security != "plain":
        ca = trustme.CA()
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
        ca_file = tmp_path / "smtp-ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        if security == "starttls":
            options.update(tls_context=server_context, require_starttls=True)
        else:
            options.update(ssl_context=server_context)
    if auth:
        options.update(authenticator=_authenticate, auth_require_tls=security == "starttls")
    controller = Controller(collector, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, collector, ca_file)
    finally:
        controller.stop()
