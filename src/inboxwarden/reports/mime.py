"""Builds the MIME messages inboxwarden sends: text and HTML alternatives, inline images.

The structure is the one mail clients render best (RFC 2046 §5.1.4, RFC 2387)::

    multipart/alternative
    ├── text/plain; charset=utf-8
    └── multipart/related          (only when there are images)
        ├── text/html; charset=utf-8
        └── image/png; Content-ID   (the chart, referenced as cid:…)

Every message is marked ``Auto-Submitted: auto-generated`` (RFC 3834 §5) so that
vacation responders and ticket systems do not answer it, and ``X-Auto-Response-Suppress``
for Exchange, which ignores RFC 3834.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP

from inboxwarden.reports.templating import Rendered

__all__ = ["InlineImage", "build_message", "message_bytes", "message_id", "new_content_id"]


@dataclass(frozen=True, slots=True)
class InlineImage:
    """An image the HTML part shows as ``<img src="cid:{cid}">``."""

    cid: str
    data: bytes
    subtype: str = "png"
    filename: str = "chart.png"


def new_content_id(sender: str, name: str) -> str:
    """A Content-ID for an inline part, unique and in the sender's domain (RFC 2392)."""
    return email.utils.make_msgid(idstring=name, domain=_domain(sender)).strip("<>")


def _domain(address: str) -> str:
    _, addr = email.utils.parseaddr(address)
    return addr.rpartition("@")[2] or "inboxwarden.invalid"


def build_message(
    rendered: Rendered,
    *,
    sender: str,
    to: str,
    now: datetime,
    language: str,
    headers: Mapping[str, str] | None = None,
    images: Sequence[InlineImage] = (),
) -> EmailMessage:
    """A complete message from *rendered* texts, dated *now*, with a fresh Message-ID."""
    message = EmailMessage(policy=SMTP)
    # The body first: set_content and add_alternative move Content-* headers into the
    # parts, which would take Content-Language with them.
    message.set_content(rendered.text, subtype="plain", charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    if images:
        html_part = message.get_body(preferencelist=("html",))
        if html_part is None:  # cannot happen: the alternative was added just above
            raise ValueError("the HTML part is missing")
        for image in images:
            html_part.add_related(
                image.data,
                maintype="image",
                subtype=image.subtype,
                cid=f"<{image.cid}>",
                disposition="inline",
                filename=image.filename,
            )
    message["From"] = sender
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Date"] = email.utils.format_datetime(now)
    message["Message-ID"] = email.utils.make_msgid(idstring="inboxwarden", domain=_domain(sender))
    message["Content-Language"] = language
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    for name, value in (headers or {}).items():
        message[name] = value
    return message


def message_bytes(message: EmailMessage) -> bytes:
    """The message as sent on the wire: CRLF line ends, as IMAP APPEND expects."""
    return message.as_bytes(policy=SMTP)


def message_id(message: EmailMessage) -> str:
    """The Message-ID without angle brackets."""
    return str(message["Message-ID"]).strip().strip("<>")
