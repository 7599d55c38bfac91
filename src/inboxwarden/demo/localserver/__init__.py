"""A disposable local Dovecot, used by ``inboxwarden demo`` and by the test suite.

The demo and the tests need the same thing: a real IMAP server with master users,
special-use folders, MOVE, UIDPLUS and CONDSTORE, that starts in a moment without root
and leaves nothing behind. Dovecot 2.3 from the distribution's packages provides it
with a generated configuration::

    with LocalDovecot(Path(tempfile.mkdtemp())) as server:
        server.add_user("anna@exempel.se", "secret")
        ...  # IMAP on server.host:server.port (STARTTLS) or server.tls_port (TLS)

``write_maildir_messages`` fills a mailbox with tens of thousands of messages in
seconds for benchmarks; ``capability_without`` emulates weaker servers.
"""

from __future__ import annotations

from inboxwarden.demo.localserver._account import ServiceAccount
from inboxwarden.demo.localserver._config import (
    DOVECOT_CAPABILITIES,
    EXCHANGE_CAPABILITIES,
    EXCHANGE_FOLDERS,
    GMAIL_CAPABILITIES,
    GMAIL_FOLDERS,
    OAuth2Passdb,
    capability_without,
)
from inboxwarden.demo.localserver._dovecot import LocalDovecot
from inboxwarden.demo.localserver._install import dovecot_version, ensure_dovecot_installed
from inboxwarden.demo.localserver._maildir import write_maildir_messages

__all__ = [
    "DOVECOT_CAPABILITIES",
    "EXCHANGE_CAPABILITIES",
    "EXCHANGE_FOLDERS",
    "GMAIL_CAPABILITIES",
    "GMAIL_FOLDERS",
    "LocalDovecot",
    "OAuth2Passdb",
    "ServiceAccount",
    "capability_without",
    "dovecot_version",
    "ensure_dovecot_installed",
    "write_maildir_messages",
]
