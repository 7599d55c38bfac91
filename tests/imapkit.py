"""Helpers for tests that talk to a real IMAP server: messages, seeding, census, a proxy.

The servers are ``inboxwarden.demo.localserver.LocalDovecot`` (the default) or ``GreenMail``
in a container (``INBOXWARDEN_TEST_IMAP=greenmail``); both offer ``host``, ``port``,
``add_user()`` and ``users``. What only Dovecot can do (doveadm, master user) is used
when the server is Dovecot and replaced by plain IMAP otherwise.
"""

from __future__ import annotations

import contextlib
import gc
import json
import mimetypes
import re
import select
import socket
import struct
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from typing import Protocol

from imapclient import IMAPClient

from inboxwarden.demo.localserver import LocalDovecot

# APPEND batches: one MULTIAPPEND command per this many messages keeps each command
# well below what a server buffers, while still being one round trip per batch.
_APPEND_BATCH = 200
_TIMEOUT = 30.0  # seconds for every test connection: a hang fails instead of blocking CI
_SWALLOW_TIMEOUT = 10.0  # seconds the proxy waits for a delivered command to complete


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


# -- messages -------------------------------------------------------------------------


def make_message(
    *,
    subject: str,
    from_: str,
    to: str | Sequence[str],
    cc: Sequence[str] = (),
    date: datetime | None = None,
    message_id: str | None = None,
    list_id: str | None = None,
    body: str = "Hej!\n\nHär kommer underlagen till mötet på torsdag.\n\nMvh\n",
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    """Returns an RFC 5322 message with CRLF line ends, as a mail client would send it.

    Addresses may carry display names (``"Anna Svensson <anna@exempel.se>"``); non-ASCII
    text is encoded the standard way. *attachment* is a (file name, content) pair whose
    type is guessed from the name. A missing *message_id* is generated.
    """
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = from_
    message["To"] = ", ".join([to] if isinstance(to, str) else to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Date"] = format_datetime(date or datetime.now(UTC))
    message["Message-ID"] = message_id or make_msgid(domain=_domain_of(from_))
    if list_id is not None:
        message["List-Id"] = list_id
    message.set_content(body)
    if attachment is not None:
        filename, content = attachment
        mime_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        maintype, subtype = mime_type.split("/", 1)
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes(policy=SMTP)


def _domain_of(address: str) -> str:
    match = re.search(r"@([\w.-]+)", address)
    return match.group(1) if match else "exempel.se"


def seed(
    target: ImapServer | IMAPClient,
    email: str,
    folder: str,
    messages: Sequence[tuple[bytes, datetime]],
    *,
    flags: Sequence[str] = (),
) -> None:
    """APPENDs each (message, internal date) to *folder*, creating the folder if missing.

    *target* is a server (a session is opened as *email*) or a client already logged in
    as that user. Naive datetimes are taken as UTC, not as the machine's local time.
    MULTIAPPEND (RFC 3502) sends a batch in one command where the server offers it.
    """
    if isinstance(target, IMAPClient):
        _append_all(target, folder, messages, flags)
        return
    with session(target, email) as client:
        _append_all(client, folder, messages, flags)


def _append_all(
    client: IMAPClient,
    folder: str,
    messages: Sequence[tuple[bytes, datetime]],
    flags: Sequence[str],
) -> None:
    if not client.folder_exists(folder):
        client.create_folder(folder)
    dated = [(data, _aware(when)) for data, when in messages]
    if not client.has_capability("MULTIAPPEND"):
        for data, when in dated:
            client.append(folder, data, flags, when)
        return
    for start in range(0, len(dated), _APPEND_BATCH):
        batch = dated[start : start + _APPEND_BATCH]
        client.multiappend(
            folder, [{"msg": data, "flags": flags, "date": when} for data, when in batch]
        )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# -- census ---------------------------------------------------------------------------


def census(
    server: ImapServer, email: str, *, skip_deleted: bool = False
) -> Counter[tuple[str, str]]:
    """Counts (folder, Message-ID) over every folder of *email*, to prove nothing was lost.

    A count above one is a duplicate; a message without Message-ID counts under ``""``.
    On Dovecot the count comes from doveadm, not from IMAP, so it does not share a
    code path (or a bug) with the client under test. *skip_deleted* leaves out messages
    flagged ``\\Deleted`` but not yet expunged.
    """
    counts: Counter[tuple[str, str]] = Counter()
    for folder, message_id, _flags in _inventory(server, email, None, skip_deleted):
        counts[(folder, message_id)] += 1
    return counts


def flags_of(server: ImapServer, email: str, folder: str) -> dict[str, frozenset[str]]:
    """Maps each Message-ID in *folder* to its flags and keywords (``\\Recent`` left out).

    Raises ValueError when a Message-ID occurs twice, since then its flags are ambiguous.
    """
    flags: dict[str, frozenset[str]] = {}
    for _folder, message_id, message_flags in _inventory(server, email, folder, False):
        if message_id in flags:
            raise ValueError(f"Message-ID {message_id!r} occurs twice in {folder!r}")
        flags[message_id] = message_flags
    return flags


def _inventory(
    server: ImapServer, email: str, folder: str | None, skip_deleted: bool
) -> list[tuple[str, str, frozenset[str]]]:
    """Lists (folder, Message-ID, flags) of every message, or of one folder's."""
    if isinstance(server, LocalDovecot):
        query = ["mailbox", folder] if folder is not None else []
        query += ["NOT", "DELETED"] if skip_deleted else ["ALL"]
        output = server.doveadm(
            "-f", "json", "fetch", "-u", email, "mailbox hdr.message-id flags", *query
        )
        return [
            (row["mailbox"], _clean_id(row["hdr.message-id"]), _clean_flags(row["flags"].split()))
            for row in json.loads(output or "[]")
        ]
    with session(server, email) as client:
        return _imap_inventory(client, folder, skip_deleted)


def _imap_inventory(
    client: IMAPClient, only: str | None, skip_deleted: bool
) -> list[tuple[str, str, frozenset[str]]]:
    rows: list[tuple[str, str, frozenset[str]]] = []
    for attributes, _separator, name in client.list_folders():
        if b"\\Noselect" in attributes or (only is not None and name != only):
            continue
        client.select_folder(name, readonly=True)
        uids = client.search(["NOT", "DELETED"] if skip_deleted else ["ALL"])
        if not uids:
            continue
        header = b"BODY[HEADER.FIELDS (MESSAGE-ID)]"
        fetched = client.fetch(uids, ["FLAGS", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
        for item in fetched.values():
            message_id = message_from_bytes(item[header]).get("Message-ID", "")
            flags = [flag.decode() if isinstance(flag, bytes) else flag for flag in item[b"FLAGS"]]
            rows.append((name, _clean_id(str(message_id)), _clean_flags(flags)))
    return rows


def _clean_id(message_id: str) -> str:
    return " ".join(message_id.split())


def _clean_flags(flags: Iterable[str]) -> frozenset[str]:
    return frozenset(flag for flag in flags if flag != "\\Recent")


# -- commands sent --------------------------------------------------------------------

_LITERAL = re.compile(rb"\{(\d+)\+?\}\r?\n$")
_COMMAND = re.compile(r"([A-Za-z0-9.]+) ([A-Za-z][A-Za-z0-9-]*)(?: ([A-Za-z]+))?")


class CommandSplitter:
    """Cuts a client's byte stream into command lines, stepping over literals.

    Each piece of the stream comes out as (bytes, line): *line* is the text of a line
    that starts a client command or a continuation response (base64 of AUTHENTICATE,
    DONE of IDLE), and None for literal data and the rest of a line after a literal.
    A partial line stays inside until its end arrives.
    """

    def __init__(self) -> None:
        self._pending = bytearray()
        self._literal_left = 0
        self._inside_command = False

    def feed(self, data: bytes) -> list[tuple[bytes, str | None]]:
        """Takes more of the stream and returns the complete pieces in it."""
        self._pending += data
        pieces: list[tuple[bytes, str | None]] = []
        while self._pending:
            if self._literal_left:
                taken = bytes(self._pending[: self._literal_left])
                del self._pending[: len(taken)]
                self._literal_left -= len(taken)
                pieces.append((taken, None))
                continue
            end = self._pending.find(b"\n")
            if end < 0:
                break
            line = bytes(self._pending[: end + 1])
            del self._pending[: end + 1]
            text = None if self._inside_command else line.decode("utf-8", "replace").rstrip()
            literal = _LITERAL.search(line)
            self._literal_left = int(literal.group(1)) if literal else 0
            self._inside_command = literal is not None
            pieces.append((line, text))
        return pieces


def command_verbs(lines: Iterable[str]) -> list[str]:
    """Returns the verb of each tagged command line: ``SELECT``, ``UID MOVE``, ``APPEND``.

    Lines without a tag and a verb (base64 continuation lines, IDLE's DONE) are skipped.
    """
    verbs: list[str] = []
    for line in lines:
        match = _COMMAND.match(line)
        if match is None:
            continue
        verb = match.group(2).upper()
        if verb == "UID" and match.group(3):
            verb = f"UID {match.group(3).upper()}"
        verbs.append(verb)
    return verbs


def stream_lines(data: bytes) -> list[str]:
    """Returns the command lines in one recorded client stream (see CommandSplitter)."""
    return [line for _piece, line in CommandSplitter().feed(data) if line is not None]


def rawlog_verbs(server: LocalDovecot, email: str) -> list[str]:
    """Returns the verbs of every command *email*'s clients sent after login (trace=True)."""
    return [verb for data in server.rawlog(email) for verb in command_verbs(stream_lines(data))]


# -- proxy ----------------------------------------------------------------------------


@dataclass
class _Cut:
    """What the proxy was told to cut on; one-shot."""

    byte_budget: int | None = None
    pattern: re.Pattern[str] | None = None
    deliver: bool = True
    reset: bool = False


class _Link:
    """One client connection and its connection to the server."""

    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client = client
        self.server = server
        self.sent = bytearray()
        self.lines: list[str] = []
        self.closed = threading.Event()
        # Set when a delivered command is to be cut: its tag, the cut, and a deadline.
        self.swallow: tuple[str, _Cut, float] | None = None

    def close(self, *, reset: bool = False) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                if reset:
                    # Linger zero turns close() into a TCP RST, a cut rather than a goodbye.
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                else:
                    sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


class CuttingProxy:
    """A loopback TCP proxy that records what IMAP clients send and cuts them on cue.

    Put it in front of the plaintext port (what passes through TLS cannot be read).
    ``commands_sent()`` answers "did observe mode send a STORE?"; ``cut_after_bytes``
    and ``cut_after_command`` simulate a connection lost in the middle of a batch.
    """

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.host = "127.0.0.1"
        self.port = 0
        self.cuts = 0
        self.cut_done = threading.Event()
        self._listener: socket.socket | None = None
        self._links: list[_Link] = []
        self._threads: list[threading.Thread] = []
        self._cut: _Cut | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def __enter__(self) -> CuttingProxy:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Starts listening on a free loopback port (``self.port``)."""
        listener = socket.create_server((self.host, 0))
        listener.settimeout(0.05)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._spawn(self._accept_loop)

    def stop(self) -> None:
        """Closes every connection and the listener, and waits for the threads; idempotent."""
        self._stopping.set()
        with self._lock:
            links = list(self._links)
        for link in links:
            link.close()
        # The accept loop may start a link's threads while this runs; join until none is new.
        joined: set[threading.Thread] = set()
        while pending := [thread for thread in self._threads if thread not in joined]:
            for thread in pending:
                thread.join(timeout=5)
                joined.add(thread)
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    # -- arming --

    def cut_after_bytes(self, count: int, *, reset: bool = False) -> None:
        """Cuts the connection once *count* more client bytes have been passed on.

        Counted from now, over whichever connection carries them; one cut, then the
        proxy passes everything again. *reset* ends with a TCP RST instead of a FIN.
        """
        with self._lock:
            self.cut_done.clear()
            self._cut = _Cut(byte_budget=count, reset=reset)

    def cut_after_command(self, pattern: str, *, deliver: bool = True, reset: bool = False) -> None:
        """Cuts the connection at the next command whose text after the tag matches *pattern*.

        With *deliver* the server receives the command and completes it, and the
        connection is cut before its tagged reply reaches the client: the change
        happened, the client cannot know. Without, the command never reaches the server.
        The pattern is a case-insensitive regular expression, like ``r"^UID MOVE"``.
        """
        with self._lock:
            self.cut_done.clear()
            self._cut = _Cut(
                pattern=re.compile(pattern, re.IGNORECASE), deliver=deliver, reset=reset
            )

    def disarm(self) -> None:
        """Forgets a cut that has not happened yet."""
        with self._lock:
            self._cut = None

    # -- what was sent --

    def command_lines(self) -> list[str]:
        """Returns every command line clients sent, connection after connection."""
        with self._lock:
            return [line for link in self._links for line in link.lines]

    def commands_sent(self) -> list[str]:
        """Returns the verb of every command clients sent (``UID MOVE``, ``APPEND``, ...)."""
        return command_verbs(self.command_lines())

    def sent_bytes(self) -> bytes:
        """Returns everything clients sent, connection after connection."""
        with self._lock:
            return b"".join(bytes(link.sent) for link in self._links)

    @property
    def connections(self) -> int:
        """Counts the client connections accepted so far."""
        with self._lock:
            return len(self._links)

    def clear(self) -> None:
        """Forgets what was recorded so far (open connections keep running)."""
        with self._lock:
            for link in self._links:
                link.sent.clear()
                link.lines.clear()

    # -- machinery --

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        while not self._stopping.is_set():
            try:
                client, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            # Blocking sockets: a send waits for a slow reader instead of timing out;
            # receiving waits in select() so that a cut or a stop is noticed.
            client.settimeout(None)
            server.settimeout(None)
            link = _Link(client, server)
            with self._lock:
                self._links.append(link)
            self._spawn(self._client_to_server, link)
            self._spawn(self._server_to_client, link)

    def _client_to_server(self, link: _Link) -> None:
        splitter = CommandSplitter()
        for data in _received(link.client, link, self._stopping):
            if not data:
                continue
            with self._lock:
                link.sent += data
            for piece, line in splitter.feed(data):
                if line is not None:
                    with self._lock:
                        link.lines.append(line)
                if not self._pass_on(link, piece, line):
                    return
        link.close()

    def _pass_on(self, link: _Link, piece: bytes, line: str | None) -> bool:
        """Sends *piece* to the server unless a cut says otherwise; False once cut."""
        cut_now: _Cut | None = None
        with self._lock:
            cut = self._cut
            if cut is not None and cut.byte_budget is not None:
                piece = piece[: cut.byte_budget]
                cut.byte_budget -= len(piece)
                if cut.byte_budget == 0:
                    self._cut, cut_now = None, cut
            elif cut is not None and cut.pattern is not None and line is not None:
                tag, _space, rest = line.partition(" ")
                if cut.pattern.search(rest):
                    self._cut = None
                    if not cut.deliver:
                        self._cut_now(link, cut)
                        return False
                    # From here on the server's replies go nowhere; the cut comes with
                    # the tagged reply that says the command completed.
                    link.swallow = (tag, cut, time.monotonic() + _SWALLOW_TIMEOUT)
        sent = self._send(link.server, piece)
        if cut_now is not None:
            with self._lock:
                self._cut_now(link, cut_now)
            return False
        return sent

    def _server_to_client(self, link: _Link) -> None:
        tail = b""
        for data in _received(link.server, link, self._stopping):
            if link.swallow is None:
                if data and not self._send(link.client, data):
                    break
                continue
            tag, cut, deadline = link.swallow
            tail = (tail + data)[-65536:]
            completed = re.search(rb"(^|\n)" + re.escape(tag.encode()) + rb" ", tail)
            if completed or time.monotonic() > deadline:
                with self._lock:
                    self._cut_now(link, cut)
                return
        link.close()

    def _cut_now(self, link: _Link, cut: _Cut) -> None:
        # Counted before the close, so a client that sees the cut also sees it counted.
        self.cuts += 1
        self.cut_done.set()
        link.close(reset=cut.reset)

    @staticmethod
    def _send(sock: socket.socket, data: bytes) -> bool:
        try:
            sock.sendall(data)
        except OSError:
            return False
        return True


def _received(sock: socket.socket, link: _Link, stopping: threading.Event) -> Iterator[bytes]:
    """Yields what arrives on *sock* (b"" when nothing came for a while) until it closes.

    It also ends when the link is cut or the proxy stops; the empty yields let the
    caller check its own deadlines.
    """
    while not (link.closed.is_set() or stopping.is_set()):
        try:
            readable, _writable, _failed = select.select([sock], [], [], 0.1)
            data = sock.recv(65536) if readable else None
        except (OSError, ValueError):  # ValueError: closed by the other direction's thread
            return
        if data is None:
            yield b""
            continue
        if not data:
            return
        yield data


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
