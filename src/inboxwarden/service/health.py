"""``/healthz`` and ``/metrics`` over HTTP, by default on loopback only.

Standard library HTTP in a daemon thread: two read-only GET endpoints need no framework.
What is healthy and what the metrics say is decided by the callables handed in.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import structlog

__all__ = ["HealthCheck", "HealthServer", "MetricsText"]

log = structlog.get_logger(__name__)

#: (healthy, small JSON-able body)
HealthCheck = Callable[[], tuple[bool, dict[str, Any]]]
#: (body, content type)
MetricsText = Callable[[], tuple[bytes, str]]


class HealthServer:
    """Serves ``/healthz`` (200 or 503 with JSON) and ``/metrics`` on *listen* (host:port)."""

    def __init__(self, listen: str, health: HealthCheck, metrics: MetricsText) -> None:
        host, _, port = listen.rpartition(":")
        handler = _handler(health, metrics)
        self._server = ThreadingHTTPServer((host.strip("[]"), int(port)), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="health", daemon=True
        )

    @property
    def port(self) -> int:
        """The port it listens on (useful with port 0)."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Answer requests in a background thread."""
        self._thread.start()
        log.info("health_listening", port=self.port)

    def close(self) -> None:
        """Stop answering and free the port."""
        self._server.shutdown()
        self._server.server_close()


def _handler(health: HealthCheck, metrics: MetricsText) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                ok, body = health()
                self._send(200 if ok else 503, json.dumps(body).encode(), "application/json")
            elif path == "/metrics":
                text, content_type = metrics()
                self._send(200, text, content_type)
            else:
                self._send(404, b"not found\n", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # probes every few seconds would drown the log

    return Handler
