"""Logging, configured once: readable on a terminal, JSON lines everywhere else.

Log events carry counts, rule names, run and mailbox ids; never a subject, a body, a
correspondent's address or a secret (docs/behaviour.md §11). The redaction processor is a
second line of defence for keys that look secret, should one ever be bound by mistake.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog

__all__ = ["configure", "redact_secrets"]

_SECRET_WORDS = ("password", "secret", "token", "authorization", "hmac_key")


def redact_secrets(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace the value of any key that names a secret."""
    for key in list(event):
        if any(word in key.lower() for word in _SECRET_WORDS):
            event[key] = "***"
    return event


def configure(level: str = "INFO", fmt: Literal["auto", "json", "console"] = "auto") -> None:
    """Route structlog and the standard library's logging through one renderer on stderr."""
    use_console = fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    renderer: Any = (
        structlog.dev.ConsoleRenderer() if use_console else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Tracebacks as text without local variables, which could hold secrets.
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # At DEBUG imapclient logs whole protocol lines: headers and bodies are personal data.
    for name in ("imapclient", "imapclient.imaplib", "apscheduler"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    # Alembic narrates every start-up ("Context impl …"); only its warnings matter.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
