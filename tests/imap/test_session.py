"""The IMAP adapter against the real test Dovecot: logins, TLS, folders, search, fetch."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from imapclient.response_parser import parse_fetch_response
from pydantic import SecretStr

from inboxwarden.demo.localserver import capability_without
from inboxwarden.errors import AuthenticationFailed, ConnectionLost
from inboxwarden.imap import client_internals, stream
from inboxwarden.imap.answers import to_message
from inboxwarden.imap.connect import Credentials, Endpoint
from inboxwarden.imap.session import ImapSession
from tests.kit.engine import OLD, mail
from tests.kit.seeding import make_message, seed
from tests.kit.servers import new_user, special_server
from tests.kit.servers import session as session_for

pytestmark = pytest.mark.imap


def master(server, email: str) -> Credentials:
    return Credentials(email, SecretStr(server.master_password), "master", server.master_user)


def plain(server) -> Endpoint:
    return Endpoint(server.host, server.port, "plain")


@pytest.mark.parametrize("security", ["tls", "starttls"])
@pytest.mark.parametrize("method", ["password", "master", "authzid"])
def test_every_login_method_over_verified_tls(dovecot, security, method):
    email = new_user(dovecot)
    port = dovecot.tls_port if security == "tls" else dovecot.port
    endpoint = Endpoint("localhost", port, security, str(dovecot.ca_cert_pem))
    if method == "password":
        creds = Credentials(email, SecretStr("secret"), "password")
    else:
        creds = Credentials(email, SecretStr(dovecot.master_password), method, dovecot.master_user)
    with ImapSession.open(endpoint, creds) as session:
        assert session.select("INBOX", readonly=True).exists == 0
        # Capabilities are asked again after login, where Dovecot adds MOVE.
        assert {"MOVE", "UIDPLUS", "SPECIAL-USE"} <= session.capabilities


def test_untrusted_certificate_is_refused(dovecot, tmp_path):
    email = new_user(dovecot)
    endpoint = Endpoint("localhost", dovecot.tls_port, "tls", None)  # system CAs only
    with pytest.raises(ConnectionLost, match="certificate"):
        ImapSession.open(endpoint, master(dovecot, email))


def test_wrong_password_is_an_authentication_error(dovecot):
    email = new_user(dovecot)
    with pytest.raises(AuthenticationFailed):
        ImapSession.open(plain(dovecot), Credentials(email, SecretStr("wrong"), "password"))


def test_closed_port_is_a_connection_error(dovecot):
    email = new_user(dovecot)
    with pytest.raises(ConnectionLost):
        ImapSession.open(Endpoint("127.0.0.1", 1, "plain", timeout=2), master(dovecot, email))


def test_special_folders_and_utf7_names(dovecot):
    email = new_user(dovecot)
    with ImapSession.open(plain(dovecot), master(dovecot, email)) as session:
        assert session.special_folder("\\Trash") == "Trash"
        assert session.special_folder("\\Sent") == "Sent"
        assert session.separator == "/"
        session.ensure_folder("Kunder/Åhléns")
        session.ensure_folder("Kunder/Åhléns")  # already there: no error, no second CREATE
        assert "Kunder/Åhléns" in {f.name for f in session.folders()}
    with session_for(dovecot, email) as client:
        client.folder_encode = False  # the names exactly as on the wire (RFC 3501 §5.1.3)
        raw = {name for _, _, name in client.list_folders()}
    assert b"Kunder/&AMU-hl&AOk-ns" in raw


def test_search_with_and_without_esearch_agree(tmp_path):
    with special_server(imap_capability=capability_without("ESEARCH")) as weak:
        email = new_user(weak)
        seed(
            weak,
            email,
            "INBOX",
            mail("other", 30, OLD) + mail("other", 5, OLD + timedelta(days=40)),
        )
        with ImapSession.open(plain(weak), master(weak, email)) as session:
            session.select("INBOX", readonly=True)
            assert not session.has("ESEARCH")
            plain_answer = session.search(["BEFORE", "1-Nov-2026"])
            session.capabilities = session.capabilities | {"ESEARCH"}  # Dovecot still accepts it
            esearch_answer = session.search(["BEFORE", "1-Nov-2026"])
    assert plain_answer == esearch_answer
    assert len(plain_answer) == 30


def test_fast_reader_agrees_with_imapclients_parser(dovecot, corpus_messages):
    """The scan's own FETCH reader gives what imapclient's general parser gives."""
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", [(raw, OLD) for raw in corpus_messages])
    seed(dovecot, email, "INBOX", mail("invoice", 3), flags=["\\Seen", "$Custom"])
    items = (
        "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT MESSAGE-ID)])"
    )
    with ImapSession.open(plain(dovecot), master(dovecot, email)) as session:
        session.select("INBOX", readonly=True)
        uids = session.search(["ALL"])
        fast = {m.uid: m for m in session.fetch_messages(uids, header_fields=["from", "subject"])}
        data = stream.command(
            client_internals.imaplib_of(session.raw_client()), f"UID FETCH 1:* {items}".encode()
        )
    general = {
        uid: to_message(uid, item) for uid, item in parse_fetch_response(data, False, True).items()
    }
    assert len(fast) == len(uids) == len(general)
    for uid, message in fast.items():
        other = general[uid]
        assert (message.internaldate, message.size, message.flags) == (
            other.internaldate,
            other.size,
            other.flags,
        )
        assert message.headers == other.headers


def test_reading_never_sets_seen(dovecot):
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("other", 3, OLD))
    with ImapSession.open(plain(dovecot), master(dovecot, email)) as session:
        session.select("INBOX", readonly=False)
        uids = session.search(["ALL"])
        list(session.fetch_messages(uids, header_fields=["subject"]))
        session.fetch_structures(uids)
        session.fetch_sections(uids, ["1"], limit=100)
        assert session.search(["SEEN"]) == []


def test_internaldate_keeps_its_zone(dovecot):
    email = new_user(dovecot)
    when = datetime.fromisoformat("2026-10-25T02:30:00+01:00")  # the repeated DST hour
    seed(dovecot, email, "INBOX", [(make_message(subject="x", from_="a@b.se", to="c@d.se"), when)])
    with ImapSession.open(plain(dovecot), master(dovecot, email)) as session:
        session.select("INBOX", readonly=True)
        [message] = session.fetch_messages(session.search(["ALL"]), header_fields=[])
    assert message.internaldate == when


@pytest.fixture(name="corpus_messages")
def _corpus_messages() -> list[bytes]:
    root = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "emails"
    if not root.is_dir():
        pytest.skip("shared corpus of e-mails not available")
    return [p.read_bytes() for p in sorted(root.rglob("*.eml")) if p.stat().st_size < 2_000_000]
