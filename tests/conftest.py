"""Fixtures shared by the whole suite: a clean environment and a real IMAP server.

The IMAP server is a local Dovecot (``inboxwarden.demo.localserver``) started once per
session. ``INBOXWARDEN_TEST_IMAP=greenmail`` runs GreenMail in Docker instead, through
testcontainers (dependency group ``greenmail``); tests that need what only Dovecot has
(master user, doveadm, special-use folders) skip there.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from inboxwarden.demo.localserver import LocalDovecot, ensure_dovecot_installed
from tests.kit.servers import GreenMail, ImapServer, Mailbox, docker_unavailable_reason
from tests.pgkit import postgres_url

# Read once at import: the autouse fixture below removes INBOXWARDEN_* from each test's
# environment, and the session server may be created inside any test.
_IMAP_BACKEND = os.environ.get("INBOXWARDEN_TEST_IMAP", "dovecot").strip().lower()

_user_numbers = itertools.count(1)


@pytest.fixture(name="clean_environ", autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Removes every INBOXWARDEN_* variable, so a developer's shell cannot steer a test.

    pydantic-settings matches names case-insensitively, so the check does too.
    """
    for name in list(os.environ):
        if name.upper().startswith("INBOXWARDEN_"):
            monkeypatch.delenv(name)


@pytest.fixture(name="dovecot", scope="session")
def _dovecot() -> Iterator[ImapServer]:
    """The session's IMAP server: a LocalDovecot, or GreenMail when so configured."""
    if _IMAP_BACKEND == "greenmail":
        yield from _greenmail()
        return
    if _IMAP_BACKEND != "dovecot":
        raise pytest.UsageError(
            f"INBOXWARDEN_TEST_IMAP={_IMAP_BACKEND!r}: use 'dovecot' (default) or 'greenmail'"
        )
    ensure_dovecot_installed()
    # Not pytest's tmp_path: as root the server runs as the dovecot account, which
    # cannot enter /tmp/pytest-of-root (mode 700).
    base_dir = Path(tempfile.mkdtemp(prefix="iw-dovecot-"))
    try:
        with LocalDovecot(base_dir) as server:
            yield server
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)


def _greenmail() -> Iterator[ImapServer]:
    reason = docker_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    server = GreenMail()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(name="mailbox")
def _mailbox(dovecot: ImapServer) -> Mailbox:
    """A new user with an empty mailbox, unique to this test (password ``secret``)."""
    email = f"u{next(_user_numbers)}@exempel.se"
    dovecot.add_user(email, "secret")
    return Mailbox(email=email, password="secret", server=dovecot)


@pytest.fixture(name="pg_url")
def _pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database URL (skips without a server, fails in CI)."""
    yield from postgres_url()
