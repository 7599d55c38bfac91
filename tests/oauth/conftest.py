"""One identity provider and one OAuth2-enabled Dovecot for the tests in this folder.

The Dovecot's ``oauth2`` passdb asks the token server, over HTTPS with the token
server's own throwaway CA, whether a token opens a mailbox; inboxwarden gets its
tokens from the same server through the real msal and google-auth clients.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from inboxwarden.demo.localserver import LocalDovecot, OAuth2Passdb, ensure_dovecot_installed
from tests.oauth.tokenserver import TokenServer


@pytest.fixture(name="idp_server", scope="module")
def _idp_server() -> Iterator[TokenServer]:
    directory = Path(tempfile.mkdtemp(prefix="iw-idp-"))
    server = TokenServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(name="idp")
def _idp(idp_server: TokenServer) -> TokenServer:
    """The module's token server, with this test's knobs back at their defaults."""
    idp_server.reset()
    return idp_server


@pytest.fixture(name="oauth_dovecot", scope="module")
def _oauth_dovecot(idp_server: TokenServer) -> Iterator[LocalDovecot]:
    ensure_dovecot_installed()
    # Not under pytest's tmp_path: as root the server runs as the dovecot account.
    base = Path(tempfile.mkdtemp(prefix="iw-oauth-dovecot-"))
    try:
        with LocalDovecot(base, oauth2=OAuth2Passdb(idp_server.grant_url, idp_server.ca_file)) as s:
            yield s
    finally:
        shutil.rmtree(base, ignore_errors=True)
