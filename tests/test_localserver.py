"""The local Dovecot and the IMAP test helpers, against the real server."""

from __future__ import annotations

import contextlib
import imaplib
import os
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import CapabilityError, LoginError

from inboxwarden.demo.localserver import (
    LocalDovecot,
    _certificates,
    _install,
    _process,
    capability_without,
    ensure_dovecot_installed,
    write_maildir_messages,
)
from inboxwarden.errors import LocalServerError
from tests.kit.census import census, flags_of, imap_inventory
from tests.kit.commands import rawlog_verbs
from tests.kit.faults import CuttingProxy
from tests.kit.seeding import make_message, seed
from tests.kit.servers import ImapServer, Mailbox, session

pytestmark = pytest.mark.imap

T0 = datetime(2024, 3, 1, 8, 30, tzinfo=UTC)


@pytest.fixture(name="server")
def _server(dovecot: ImapServer) -> LocalDovecot:
    """The session's server, when it is the local Dovecot these tests are about."""
    if not isinstance(dovecot, LocalDovecot):
        pytest.skip("tests the local Dovecot itself")
    return dovecot


@pytest.fixture(name="variant", scope="module")
def _variant() -> Iterator[LocalDovecot]:
    """A second server: Maildir++ with separator ".", no MOVE advertised, rawlog on."""
    base_dir = Path(tempfile.mkdtemp(prefix="iw-variant-"))
    try:
        with LocalDovecot(
            base_dir, separator=".", imap_capability=capability_without("MOVE"), trace=True
        ) as server:
            yield server
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)


def _messages(
    count: int, *, start: datetime = T0, prefix: str = "m"
) -> list[tuple[bytes, datetime]]:
    return [
        (
            make_message(
                subject=f"Meddelande {number}",
                from_="Anna Svensson <anna@exempel.se>",
                to="bo@exempel.se",
                message_id=f"<{prefix}{number}@exempel.se>",
                date=start + timedelta(hours=number),
            ),
            start + timedelta(hours=number, seconds=number % 60),
        )
        for number in range(count)
    ]


def _internal_dates(client: IMAPClient, folder: str) -> dict[str, datetime]:
    """Maps Message-ID to INTERNALDATE (timezone-aware) for every message in *folder*."""
    client.normalise_times = False
    client.select_folder(folder, readonly=True)
    uids = client.search(["ALL"])
    fetched = client.fetch(uids, ["INTERNALDATE", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
    return {
        message_from_bytes(item[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"])["Message-ID"].strip(): item[
            b"INTERNALDATE"
        ]
        for item in fetched.values()
    }


# -- logging in -------------------------------------------------------------------------


def test_user_logs_in_with_password(mailbox: Mailbox) -> None:
    """A user added on the fly logs in with its own password and sees its INBOX."""
    client = mailbox.connect()
    try:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
    finally:
        client.logout()


def test_wrong_password_is_refused(mailbox: Mailbox) -> None:
    """The server really checks passwords; a wrong one fails without a long delay."""
    client = IMAPClient(mailbox.server.host, port=mailbox.server.port, ssl=False, timeout=10)
    started = time.monotonic()
    with pytest.raises(LoginError):
        client.login(mailbox.email, "not the password")
    assert time.monotonic() - started < 2
    client.shutdown()


def test_master_user_logs_in_as_user(server: LocalDovecot, mailbox: Mailbox) -> None:
    """``user*master`` with the master password opens the user's mailbox."""
    seed(server, mailbox.email, "INBOX", _messages(1))
    client = IMAPClient(server.host, port=server.port, ssl=False, timeout=10)
    client.login(f"{mailbox.email}*{server.master_user}", server.master_password)
    try:
        assert client.select_folder("INBOX")[b"EXISTS"] == 1
    finally:
        client.logout()


def test_sasl_plain_with_authorization_identity(server: LocalDovecot, mailbox: Mailbox) -> None:
    """SASL PLAIN as the master user with the user as authorization identity works."""
    seed(server, mailbox.email, "INBOX", _messages(2))
    client = IMAPClient(server.host, port=server.port, ssl=False, timeout=10)
    client.plain_login(
        server.master_user, server.master_password, authorization_identity=mailbox.email
    )
    try:
        assert client.select_folder("INBOX")[b"EXISTS"] == 2
    finally:
        client.logout()


def test_master_user_cannot_open_unknown_user(server: LocalDovecot) -> None:
    """result_success = continue: the master password does not conjure up a user."""
    client = IMAPClient(server.host, port=server.port, ssl=False, timeout=10)
    with pytest.raises(LoginError):
        client.login(server.master_login("nobody-here@exempel.se"), server.master_password)
    client.shutdown()


def test_password_with_colon_and_spaces(server: LocalDovecot) -> None:
    """Any password fits the users file, colons and spaces included."""
    server.add_user("Kolon.Test@Exempel.se", "a:b c:d")
    client = IMAPClient(server.host, port=server.port, ssl=False, timeout=10)
    client.login("kolon.test@exempel.se", "a:b c:d")
    client.logout()
    assert server.users["kolon.test@exempel.se"] == "a:b c:d"


# -- TLS --------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_implicit_tls_verifies_with_the_ca(
    server: LocalDovecot, mailbox: Mailbox, host: str
) -> None:
    """The TLS port presents a certificate valid for localhost and 127.0.0.1 under the CA."""
    context = ssl.create_default_context(cafile=str(server.ca_cert_pem))
    client = IMAPClient(host, port=server.tls_port, ssl=True, ssl_context=context, timeout=10)
    try:
        sock = client.socket()
        assert isinstance(sock, ssl.SSLSocket)
        # getpeercert() is only filled in for a certificate the context verified.
        names = {value for _kind, value in sock.getpeercert().get("subjectAltName", ())}
        assert host in names
        assert client.login(mailbox.email, mailbox.password)
    finally:
        client.logout()


def test_implicit_tls_fails_without_the_ca(server: LocalDovecot) -> None:
    """The system trust store does not know the throwaway CA, so verification fails."""
    with pytest.raises(ssl.SSLCertVerificationError):
        IMAPClient("localhost", port=server.tls_port, ssl=True, timeout=10)


def test_starttls_on_the_plain_port(server: LocalDovecot, mailbox: Mailbox) -> None:
    """The plaintext port offers STARTTLS, and the upgraded session verifies with the CA."""
    client = IMAPClient("localhost", port=server.port, ssl=False, timeout=10)
    assert client.has_capability("STARTTLS")
    client.starttls(server.ssl_context())
    client.login(mailbox.email, mailbox.password)
    client.logout()


def test_openssl_fallback_makes_a_verifiable_certificate(tmp_path: Path) -> None:
    """Without trustme, openssl makes certificates a verifying client accepts for localhost."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command")
    paths = _certificates.Certificates.in_directory(tmp_path)
    _certificates.make_certificates_with_openssl(paths)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(paths.cert_chain, paths.private_key)
    client_context = ssl.create_default_context(cafile=str(paths.ca_cert))
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def handshake() -> None:
            connection, _ = listener.accept()
            with (
                contextlib.suppress(OSError),
                server_context.wrap_socket(connection, server_side=True),
            ):
                pass

        thread = threading.Thread(target=handshake)
        thread.start()
        with (
            socket.create_connection(("127.0.0.1", port)) as raw,
            client_context.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            certificate = tls.getpeercert()
            assert certificate is not None
            assert certificate["subjectAltName"][0] == ("DNS", "localhost")
        thread.join()
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "ca.pem",
        "server.key",
        "server.pem",
    ]


# -- what the server offers -------------------------------------------------------------


def test_capabilities_after_login(mailbox: Mailbox, server: LocalDovecot) -> None:
    """After login the server offers what safe batch moves need (RFC 6851, 4315, 7162, 6154)."""
    client = mailbox.connect()
    try:
        capabilities = set(client.capabilities())
    finally:
        client.logout()
    assert {b"MOVE", b"UIDPLUS", b"CONDSTORE", b"SPECIAL-USE", b"MULTIAPPEND"} <= capabilities


def test_special_use_folders(server: LocalDovecot, mailbox: Mailbox) -> None:
    """Drafts, Sent, Trash and Junk exist and are subscribed at first login, with "/" between levels."""
    client = mailbox.connect()
    try:
        folders = {
            name: (attributes, separator) for attributes, separator, name in client.list_folders()
        }
        subscribed = {name for _attributes, _separator, name in client.list_sub_folders()}
        client.create_folder("Arkiv/2024")
        assert client.folder_exists("Arkiv/2024")
    finally:
        client.logout()
    for name, flag in [
        ("Drafts", b"\\Drafts"),
        ("Sent", b"\\Sent"),
        ("Trash", b"\\Trash"),
        ("Junk", b"\\Junk"),
    ]:
        assert flag in folders[name][0]
        assert name in subscribed
    assert {separator for _attributes, separator in folders.values()} == {b"/"}
    assert (server.maildir(mailbox.email) / "Arkiv" / "2024" / "cur").is_dir()


# -- seeding ----------------------------------------------------------------------------


def test_seed_keeps_internal_dates(server: LocalDovecot, mailbox: Mailbox) -> None:
    """APPEND seeding sets INTERNALDATE as given, creates the folder, and counts right."""
    messages = _messages(30)
    messages.append(
        (
            make_message(
                subject="naiv", from_="a@exempel.se", to="b@exempel.se", message_id="<naive@x>"
            ),
            datetime(2023, 5, 6, 7, 8, 9),
        )
    )
    seed(server, mailbox.email, "Projekt/Äldre", messages)
    client = mailbox.connect()
    try:
        dates = _internal_dates(client, "Projekt/Äldre")
    finally:
        client.logout()
    assert len(dates) == 31
    assert dates["<m7@exempel.se>"] == T0 + timedelta(hours=7, seconds=7)
    assert dates["<naive@x>"] == datetime(2023, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_seed_through_a_logged_in_client(mailbox: Mailbox) -> None:
    """seed() also takes a client already logged in as the user."""
    client = mailbox.connect()
    try:
        seed(client, mailbox.email, "INBOX", _messages(3), flags=["\\Seen"])
        client.select_folder("INBOX")
        assert client.search(["SEEN"]) == [1, 2, 3]
    finally:
        client.logout()


def test_seed_a_thousand_messages(server: LocalDovecot, mailbox: Mailbox) -> None:
    """A thousand APPENDed messages arrive, each once, in batched MULTIAPPENDs."""
    seed(server, mailbox.email, "INBOX", _messages(1000))
    counts = census(server, mailbox.email)
    assert sum(counts.values()) == 1000
    assert set(counts.values()) == {1}


def test_maildir_files_get_internaldate_from_mtime(server: LocalDovecot, mailbox: Mailbox) -> None:
    """Files written straight into the maildir appear with their mtime as INTERNALDATE.

    UIDs follow arrival order (file names start with the arrival time), sizes come from
    the ``S=``/``W=`` fields, and flags from the ``:2,`` info.
    """
    messages = _messages(200)
    messages.reverse()  # written newest first: UIDs must still follow arrival
    written = write_maildir_messages(
        server, mailbox.email, "Kvitton/År 2024", messages, flags=["\\Seen"]
    )
    assert written == 200
    box = server.mailbox_path(mailbox.email, "Kvitton/År 2024")
    names = os.listdir(box / "cur")
    assert len(names) == 200
    assert all(",S=" in name and ",W=" in name and name.endswith(":2,S") for name in names)

    client = mailbox.connect()
    try:
        dates = _internal_dates(client, "Kvitton/År 2024")
        client.select_folder("Kvitton/År 2024", readonly=True)
        by_uid = client.fetch(client.search(["ALL"]), ["INTERNALDATE", "RFC822.SIZE", "FLAGS"])
        sizes = sorted(item[b"RFC822.SIZE"] for item in by_uid.values())
    finally:
        client.logout()
    for data, arrived in messages:
        message_id = message_from_bytes(data, policy=default_policy)["Message-ID"]
        assert dates[message_id] == arrived
    ordered = [by_uid[uid][b"INTERNALDATE"] for uid in sorted(by_uid)]
    assert ordered == sorted(ordered)
    assert sizes == sorted(len(data) for data, _ in messages)  # CRLF already: W= equals S=
    assert all(b"\\Seen" in item[b"FLAGS"] for item in by_uid.values())


def test_maildir_writing_into_a_fresh_inbox(server: LocalDovecot) -> None:
    """A user who never logged in gets an INBOX created before the files go in."""
    server.add_user("ny@exempel.se", "secret")
    write_maildir_messages(server, "ny@exempel.se", "INBOX", _messages(5), sync=False)
    assert census(server, "ny@exempel.se") == Counter(
        {("INBOX", f"<m{n}@exempel.se>"): 1 for n in range(5)}
    )


def test_maildir_rejects_keywords(server: LocalDovecot, mailbox: Mailbox) -> None:
    """Only system flags have maildir letters; a keyword is refused before anything is written."""
    with pytest.raises(ValueError, match="system flag"):
        write_maildir_messages(server, mailbox.email, "INBOX", _messages(1), flags=["$Due"])


# -- census -----------------------------------------------------------------------------


def test_census_counts_every_folder(server: LocalDovecot, mailbox: Mailbox) -> None:
    """census() sees every folder and counts duplicates; flags_of() reads flags by Message-ID."""
    seed(server, mailbox.email, "INBOX", _messages(3))
    seed(server, mailbox.email, "Arkiv", _messages(2) + _messages(1))
    client = mailbox.connect()
    try:
        client.select_folder("INBOX")
        client.add_flags([1], ["\\Flagged", "$Due"])
        client.add_flags([2], ["\\Deleted"])
    finally:
        client.logout()

    counts = census(server, mailbox.email)
    assert counts == Counter(
        {
            ("INBOX", "<m0@exempel.se>"): 1,
            ("INBOX", "<m1@exempel.se>"): 1,
            ("INBOX", "<m2@exempel.se>"): 1,
            ("Arkiv", "<m0@exempel.se>"): 2,
            ("Arkiv", "<m1@exempel.se>"): 1,
        }
    )
    assert ("INBOX", "<m1@exempel.se>") not in census(server, mailbox.email, skip_deleted=True)
    flags = flags_of(server, mailbox.email, "INBOX")
    assert flags == {
        "<m0@exempel.se>": frozenset({"\\Flagged", "$Due"}),
        "<m1@exempel.se>": frozenset({"\\Deleted"}),
        "<m2@exempel.se>": frozenset(),
    }
    with pytest.raises(ValueError, match="twice"):
        flags_of(server, mailbox.email, "Arkiv")


def test_census_over_imap_matches_doveadm(server: LocalDovecot, mailbox: Mailbox) -> None:
    """The IMAP census (used for GreenMail) agrees with the doveadm one."""
    seed(server, mailbox.email, "INBOX", _messages(4))
    seed(server, mailbox.email, "Arkiv/2024", _messages(2))
    with session(server, mailbox.email) as client:
        rows = imap_inventory(client, None, False)
    assert Counter((folder, message_id) for folder, message_id, _ in rows) == census(
        server, mailbox.email
    )


# -- the proxy --------------------------------------------------------------------------


@pytest.fixture(name="proxy")
def _proxy(server: LocalDovecot) -> Iterator[CuttingProxy]:
    with CuttingProxy(server.host, server.port) as proxy:
        yield proxy


def _through(proxy: CuttingProxy, mailbox: Mailbox) -> IMAPClient:
    client = IMAPClient(proxy.host, port=proxy.port, ssl=False, timeout=10)
    client.login(mailbox.email, mailbox.password)
    return client


def test_proxy_records_commands(proxy: CuttingProxy, mailbox: Mailbox) -> None:
    """Every command verb is recorded, UID commands with their sub-verb, literals skipped."""
    client = _through(proxy, mailbox)
    client.append(
        "INBOX",
        make_message(
            subject="x",
            from_="a@exempel.se",
            to="b@exempel.se",
            body="A1 STORE 1 +FLAGS (\\Deleted)\r\n",
        ),
    )
    client.select_folder("INBOX")
    uids = client.search(["ALL"])
    client.create_folder("Arkiv")
    client.move(uids, "Arkiv")
    client.logout()
    sent = [verb for verb in proxy.commands_sent() if verb != "CAPABILITY"]
    assert sent[sent.index("APPEND") :] == [
        "APPEND",
        "SELECT",
        "UID SEARCH",
        "CREATE",
        "UID MOVE",
        "LOGOUT",
    ]
    assert "STORE" not in sent  # the one in the message body is data, not a command
    assert proxy.connections == 1


def test_proxy_records_sasl_and_literal_logins(
    proxy: CuttingProxy, server: LocalDovecot, mailbox: Mailbox
) -> None:
    """AUTHENTICATE's base64 line is not a command; LOGIN with literals is one."""
    client = IMAPClient(proxy.host, port=proxy.port, ssl=False, timeout=10)
    client.plain_login(
        server.master_user, server.master_password, authorization_identity=mailbox.email
    )
    client.noop()
    client.logout()
    assert [verb for verb in proxy.commands_sent() if verb != "CAPABILITY"] == [
        "AUTHENTICATE",
        "NOOP",
        "LOGOUT",
    ]


def test_proxy_cuts_after_bytes(proxy: CuttingProxy, mailbox: Mailbox) -> None:
    """A byte budget cuts the connection mid-command; the client sees the connection die."""
    client = _through(proxy, mailbox)
    client.select_folder("INBOX")
    proxy.cut_after_bytes(5)
    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        client.search(["ALL"])
    client.shutdown()
    assert proxy.cut_done.wait(5)
    assert proxy.cuts == 1
    # One-shot: a new connection passes through untouched.
    again = _through(proxy, mailbox)
    again.noop()
    again.logout()


def test_proxy_cut_after_a_delivered_command(
    proxy: CuttingProxy, server: LocalDovecot, mailbox: Mailbox
) -> None:
    """With deliver=True the server completes the MOVE, but the client never hears of it."""
    seed(server, mailbox.email, "INBOX", _messages(3))
    client = _through(proxy, mailbox)
    client.create_folder("Arkiv")
    client.select_folder("INBOX")
    uids = client.search(["ALL"])
    proxy.cut_after_command(r"^UID MOVE ")
    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        client.move(uids, "Arkiv")
    client.shutdown()
    assert proxy.cut_done.is_set()
    assert {folder for folder, _ in census(server, mailbox.email)} == {"Arkiv"}


def test_proxy_cut_before_a_command(
    proxy: CuttingProxy, server: LocalDovecot, mailbox: Mailbox
) -> None:
    """With deliver=False the command never reaches the server; nothing moves."""
    seed(server, mailbox.email, "INBOX", _messages(3))
    client = _through(proxy, mailbox)
    client.create_folder("Arkiv")
    client.select_folder("INBOX")
    proxy.cut_after_command(r"^UID MOVE ", deliver=False, reset=True)
    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        client.move(client.search(["ALL"]), "Arkiv")
    client.shutdown()
    assert "UID MOVE" in proxy.commands_sent()
    assert {folder for folder, _ in census(server, mailbox.email)} == {"INBOX"}


# -- the variant server: separator ".", no MOVE, rawlog ---------------------------------


def test_capability_removed(variant: LocalDovecot) -> None:
    """imap_capability without MOVE: the client sees no MOVE and imapclient refuses to move."""
    variant.add_user("svag@exempel.se", "secret")
    with session(variant, "svag@exempel.se") as client:
        capabilities = set(client.capabilities())
        client.select_folder("INBOX")
        with pytest.raises(CapabilityError):
            client.move([1], "Trash")
    assert b"MOVE" not in capabilities
    assert {b"UIDPLUS", b"CONDSTORE", b"SPECIAL-USE"} <= capabilities


def test_dot_separator(variant: LocalDovecot) -> None:
    """separator="." gives Maildir++ folders (.Arkiv.2024) and "." in LIST."""
    variant.add_user("punkt@exempel.se", "secret")
    seed(variant, "punkt@exempel.se", "Arkiv.2024", _messages(2))
    write_maildir_messages(variant, "punkt@exempel.se", "Arkiv.2024", _messages(3, prefix="w"))
    with session(variant, "punkt@exempel.se") as client:
        separators = {separator for _attributes, separator, _name in client.list_folders()}
    assert separators == {b"."}
    assert (variant.maildir("punkt@exempel.se") / ".Arkiv.2024" / "cur").is_dir()
    assert sum(census(variant, "punkt@exempel.se").values()) == 5


def test_rawlog_records_commands_after_login(variant: LocalDovecot) -> None:
    """trace=True records every command a client sent after login, literals and all."""
    variant.add_user("spar@exempel.se", "secret")
    client = IMAPClient(variant.host, port=variant.port, ssl=False, timeout=10)
    client.login("spar@exempel.se", "secret")
    client.append("INBOX", make_message(subject="x", from_="a@exempel.se", to="b@exempel.se"))
    client.select_folder("INBOX")
    client.add_flags([1], ["$Due"])
    client.logout()
    verbs = rawlog_verbs(variant, "spar@exempel.se")
    assert verbs[verbs.index("APPEND") :] == ["APPEND", "SELECT", "UID STORE", "LOGOUT"]
    assert b"Subject: x" in variant.rawlog("spar@exempel.se")[-1]


# -- lifecycle --------------------------------------------------------------------------


def test_start_retries_on_taken_port_and_stop_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A port taken between pick and bind costs a retry; stop() ends every process, twice is fine."""
    blocker = socket.create_server(("127.0.0.1", 0))
    taken = blocker.getsockname()[1]
    real_free_ports = _process.free_ports
    calls = []

    def first_taken(count: int) -> list[int]:
        calls.append(count)
        ports = real_free_ports(count)
        return [taken, *ports[1:]] if len(calls) == 1 else ports

    monkeypatch.setattr(_process, "free_ports", first_taken)
    base_dir = Path(tempfile.mkdtemp(prefix="iw-life-"))
    try:
        server = LocalDovecot(base_dir)
        started = time.monotonic()
        server.start()
        assert time.monotonic() - started < 2
        assert len(calls) == 2 and server.port != taken
        master = server._master
        runtime_dir = server._runtime_dir
        assert master is not None and runtime_dir is not None and runtime_dir.is_dir()
        server.start()  # already running: nothing happens
        assert server._master is master
        server.stop()
        server.stop()
        assert master.poll() is not None
        assert not _process.group_alive(master.pid)
        assert not runtime_dir.exists()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", server.port), timeout=2)
        # It starts again, with the same CA, users and mail.
        server.add_user("kvar@exempel.se", "secret")
        with server:
            seed(server, "kvar@exempel.se", "INBOX", _messages(1))
        with server:
            assert sum(census(server, "kvar@exempel.se").values()) == 1
    finally:
        blocker.close()
        shutil.rmtree(base_dir, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to another account")
def test_unreachable_base_dir_is_refused_as_root(tmp_path: Path) -> None:
    """As root, a base_dir the service account cannot enter fails early, saying what to do."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    server = LocalDovecot(private / "server")
    with pytest.raises(LocalServerError, match="Use a base_dir under /tmp"):
        server.start()
    assert not server.running


def test_unsafe_base_dir_is_refused() -> None:
    """A path Dovecot's configuration cannot hold is refused when the server is made."""
    with pytest.raises(ValueError, match="no spaces"):
        LocalDovecot(Path("/tmp/with space"))


def test_ensure_dovecot_installed_explains_without_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Dovecot and without root, the error says which package to install."""
    monkeypatch.setattr(_install, "DOVECOT", Path("/nonexistent/dovecot"))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(LocalServerError, match="sudo apt-get install dovecot-imapd"):
        ensure_dovecot_installed()


def test_ensure_dovecot_installed_is_quiet_when_present(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """With Dovecot in place nothing is installed, run or asked, even as root."""
    assert _install.DOVECOT.exists() and _install.DOVEADM.exists()
    ran: list[object] = []
    monkeypatch.setattr(_install.subprocess, "run", lambda *a, **k: ran.append(a))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert ensure_dovecot_installed() is None
    assert ran == []
    assert capfd.readouterr() == ("", "")
