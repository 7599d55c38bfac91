"""The IMAP servers tests run against, their users, and logged-in clients.

The servers are ``inboxwarden.demo.localserver.LocalDovecot`` (the default) or ``GreenMail``
in a container (``INBOXWARDEN_TEST_IMAP=greenmail``); both offer ``host``, ``port``,
``add_user()`` and ``users``. What only Dovecot can do (doveadm, master user) is used
when the server is Dovecot and replaced by plain IMAP otherwise.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import secrets
import shutil
import socket
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from imapclient import IMAPClient

from inboxwarden.demo.localserver import LocalDovecot

_TIMEOUT = 30.0  # seconds for every test connection: a hang fails instead of blocking CI

_counter = itertools.count(1)


class ImapServer(Protocol):
    """What the fixtures' servers have in common."""

    host: str
    port: int

    def add_user(self, email: str, password: str) -> None: ...

    @property
    def users(self) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class Mailbox:
    """A fresh user on the test server, as the ``mailbox`` fixture hands it out."""

    email: str
    password: str
    server: ImapServer

    def connect(self) -> IMAPClient:
        """Logs in as this user with its own password, over the plaintext port."""
        client = IMAPClient(self.server.host, port=self.server.port, ssl=False, timeout=_TIMEOUT)
        client.login(self.email, self.password)
        return client


def connect(server: ImapServer, email: str) -> IMAPClient:
    """Logs in as *email*: through the master user on Dovecot, with the password elsewhere."""
    client = IMAPClient(server.host, port=server.port, ssl=False, timeout=_TIMEOUT)
    if isinstance(server, LocalDovecot):
        client.login(server.master_login(email), server.master_password)
    else:
        client.login(email, server.users[email])
    return client


@contextlib.contextmanager
def session(server: ImapServer, email: str) -> Iterator[IMAPClient]:
    """Yields a logged-in client for *email* and logs out afterwards."""
    client = connect(server, email)
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.logout()


@contextlib.contextmanager
def special_server(**options: object) -> Iterator[LocalDovecot]:
    """A private Dovecot with *options* (no MOVE, another separator, tracing), for one test.

    Not under pytest's tmp_path: as root the server runs as the dovecot account, which
    cannot enter /tmp/pytest-of-root.
    """
    base = Path(tempfile.mkdtemp(prefix="iw-special-"))
    try:
        with LocalDovecot(base, **options) as server:  # type: ignore[arg-type]
            yield server
    finally:
        shutil.rmtree(base, ignore_errors=True)


def new_user(server: LocalDovecot, prefix: str = "user") -> str:
    """A fresh mailbox on *server* with a unique address."""
    email = f"{prefix}{next(_counter)}-{secrets.token_hex(3)}@exempel.se"
    server.add_user(email, "secret")
    return email


# -- GreenMail ------------------------------------------------------------------------

GREENMAIL_IMAGE = "greenmail/standalone:2.1.8"


class GreenMail:
    """GreenMail in a Docker container, with the small interface the fixtures rely on.

    Started with authentication disabled, so any login creates its user: ``add_user``
    only records the password. GreenMail has no master user, no special-use folders and
    no CONDSTORE (ecosystem notes §11); tests needing those use Dovecot.
    """

    def __init__(self, image: str = GREENMAIL_IMAGE) -> None:
        self.image = image
        self.host = "127.0.0.1"
        self.port = 0
        self.tls_port = 0
        self._users: dict[str, str] = {}
        self._container: object | None = None

    @property
    def users(self) -> Mapping[str, str]:
        return self._users

    def add_user(self, email: str, password: str) -> None:
        self._users[email] = password

    def start(self) -> None:
        """Starts the container and waits for GreenMail's IMAP greeting."""
        from testcontainers.core.container import DockerContainer

        options = (
            "-Dgreenmail.setup.test.all -Dgreenmail.hostname=0.0.0.0 -Dgreenmail.auth.disabled"
        )
        container = (
            DockerContainer(self.image)
            .with_env("GREENMAIL_OPTS", options)
            .with_exposed_ports(3143, 3993)
        )
        with warnings.catch_warnings():
            # testcontainers' own deprecations are not ours to fix (pyproject note).
            warnings.simplefilter("ignore", DeprecationWarning)
            container.start()
        self._container = container
        self.host = container.get_container_host_ip()
        self.port = int(container.get_exposed_port(3143))
        self.tls_port = int(container.get_exposed_port(3993))
        _wait_for_greeting(self.host, self.port, timeout=60)

    def stop(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            container.stop()  # type: ignore[attr-defined]


def _wait_for_greeting(host: str, port: int, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError),
            socket.create_connection((host, port), timeout=2) as sock,
        ):
            if sock.recv(512).startswith(b"* OK"):
                return
        time.sleep(0.2)
    raise TimeoutError(f"no IMAP greeting from {host}:{port} within {timeout:.0f} s")


def docker_unavailable_reason() -> str | None:
    """Tells why GreenMail cannot run here (no testcontainers, no Docker), or None."""
    try:
        import docker  # type: ignore[import-untyped]
        import testcontainers  # noqa: F401 - only its presence is checked
    except ImportError:
        return (
            "INBOXWARDEN_TEST_IMAP=greenmail needs testcontainers "
            "(the 'greenmail' dependency group: pip install 'testcontainers>=4.8')"
        )
    reason = None
    with warnings.catch_warnings():
        # A failed attempt leaves the Docker SDK's socket to the garbage collector; it is
        # collected here, where its ResourceWarning cannot fail the test run.
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            client = docker.from_env()
            try:
                client.ping()
            finally:
                client.close()
        except Exception as exc:  # the Docker SDK raises many kinds; any means "no Docker"
            reason = f"INBOXWARDEN_TEST_IMAP=greenmail needs a reachable Docker daemon: {exc}"
        gc.collect()
    return reason
