"""A loopback proxy that records what IMAP clients send and cuts their connection on cue."""

from __future__ import annotations

import contextlib
import re
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tests.kit.commands import CommandSplitter, command_verbs

_SWALLOW_TIMEOUT = 10.0  # seconds the proxy waits for a delivered command to complete


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
