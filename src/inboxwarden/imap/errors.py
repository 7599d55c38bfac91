"""Translates imapclient, imaplib, socket and ssl errors into inboxwarden's own, once.

Like httpx's ``map_httpcore_exceptions``: the IMAP adapter wraps every call in
:func:`translated`, so no third-party exception can leak into the engine or the
scheduler loop. The most specific classes come first, because several are subclasses
of others (``LoginError`` is an ``IMAPClientError``; ``ssl.SSLError`` is an ``OSError``).
"""

from __future__ import annotations

import imaplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

from imapclient import exceptions as imap_exc

from inboxwarden.errors import (
    AuthenticationFailed,
    ConnectionLost,
    InboxWardenError,
    MailboxError,
    MissingCapability,
    ServerError,
)

__all__ = ["ERROR_MAP", "translate", "translated"]

#: (third-party class, our class, what to say), most specific first.
ERROR_MAP: tuple[tuple[type[BaseException], type[MailboxError], str], ...] = (
    (imap_exc.LoginError, AuthenticationFailed, "login refused"),
    (imap_exc.CapabilityError, MissingCapability, "server lacks a capability"),
    (imap_exc.IMAPClientReadOnlyError, ServerError, "folder is read-only"),
    (imap_exc.IMAPClientAbortError, ConnectionLost, "connection aborted"),
    (imap_exc.IllegalStateError, ServerError, "command not allowed in this state"),
    (imap_exc.InvalidCriteriaError, ServerError, "search criteria rejected"),
    (imap_exc.ProtocolError, ConnectionLost, "server broke the IMAP protocol"),
    (imap_exc.IMAPClientError, ServerError, "server refused the command"),
    (ssl.SSLCertVerificationError, ConnectionLost, "server certificate not trusted"),
    (ssl.SSLError, ConnectionLost, "TLS failed"),
    (socket.timeout, ConnectionLost, "timed out"),
    (TimeoutError, ConnectionLost, "timed out"),
    (socket.gaierror, ConnectionLost, "host name not found"),
    (ConnectionError, ConnectionLost, "connection failed"),
    (EOFError, ConnectionLost, "connection closed"),
    (OSError, ConnectionLost, "network error"),
)


def translate(exc: BaseException) -> MailboxError | None:
    """Our error for *exc*, or None when it is not an I/O error of the IMAP layer."""
    if isinstance(exc, InboxWardenError):
        return None
    for source, target, summary in ERROR_MAP:
        if isinstance(exc, source):
            detail = _detail(exc)
            return target(f"{summary}: {detail}" if detail else summary)
    return None


def _detail(exc: BaseException) -> str:
    """The server's words, cut short; they never hold message content, only status text."""
    text = str(exc).strip()
    if text[:2] in ("b'", 'b"') and text[-1:] == text[1]:
        text = text[2:-1]  # imapclient passes the server's bytes through str()
    return text[:200]


@contextmanager
def translated() -> Iterator[None]:
    """Re-raise IMAP, socket and TLS errors as :class:`MailboxError` subclasses."""
    try:
        yield
    except (imaplib.IMAP4.error, OSError, EOFError, ValueError) as exc:
        mapped = translate(exc)
        if mapped is None:
            raise
        raise mapped from exc
