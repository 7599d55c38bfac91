"""A loopback proxy that makes the test Dovecot answer like Exchange Online where Dovecot
cannot be configured to: PERMANENTFLAGS without ``\\*`` (no custom keywords), and BAD to a
FETCH in an empty folder (mscdex/node-imap#762). Everything else passes through.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from dataclasses import dataclass, field

_EXISTS = re.compile(rb"^\* (\d+) EXISTS\r\n$")
_FETCH = re.compile(rb"^(\S+) (?:UID )?FETCH ", re.IGNORECASE)


@dataclass
class _Link:
    client: socket.socket
    server: socket.socket
    exists: int | None = None
    refused_fetches: int = 0


@dataclass
class ExchangeProxy:
    """Listens on a loopback port and relays to *upstream_port*, rewriting as Exchange."""

    upstream_port: int
    host: str = "127.0.0.1"
    port: int = 0
    refused_fetches: int = 0
    _links: list[_Link] = field(default_factory=list)

    def __enter__(self) -> ExchangeProxy:
        self._listener = socket.create_server((self.host, 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._listener.close()
        for link in self._links:
            for sock in (link.client, link.server):
                with contextlib.suppress(OSError):
                    sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection((self.host, self.upstream_port))
            link = _Link(client, server)
            self._links.append(link)
            threading.Thread(target=self._upstream, args=(link,), daemon=True).start()
            threading.Thread(target=self._downstream, args=(link,), daemon=True).start()

    def _upstream(self, link: _Link) -> None:
        for line in _lines(link.client):
            tagged = _FETCH.match(line)
            if tagged and link.exists == 0:
                # Exchange's answer to FETCH in an empty folder.
                self.refused_fetches += 1
                _send(link.client, tagged.group(1) + b" BAD Command Argument Error. 11\r\n")
                continue
            if not _send(link.server, line):
                return

    def _downstream(self, link: _Link) -> None:
        for line in _lines(link.server):
            if m := _EXISTS.match(line):
                link.exists = int(m.group(1))
            if b"[PERMANENTFLAGS (" in line:
                line = line.replace(b" \\*)", b")").replace(b"\\* ", b"")
            if not _send(link.client, line):
                return


def _lines(sock: socket.socket):
    buffer = b""
    while True:
        try:
            data = sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            if buffer:
                yield buffer
            return
        buffer += data
        while (end := buffer.find(b"\r\n")) >= 0:
            yield buffer[: end + 2]
            buffer = buffer[end + 2 :]


def _send(sock: socket.socket, data: bytes) -> bool:
    try:
        sock.sendall(data)
    except OSError:
        return False
    return True
