"""Messages for tests, and putting them in a mailbox.

``make_message`` builds one as a mail client would send it; ``marked`` builds messages
that carry ``X-Marker: m00042``, for a census that must see a loss among messages sharing
a Message-ID (or having none); ``seed`` APPENDs them.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from imapclient import IMAPClient

from tests.kit.servers import ImapServer, session

# APPEND batches: one MULTIAPPEND command per this many messages keeps each command
# well below what a server buffers, while still being one round trip per batch.
_APPEND_BATCH = 200


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


def marked(
    n: int,
    *,
    start: int,
    when: datetime,
    sender: str = "Fortnox <faktura@fortnox.se>",
    subject: str = "Faktura",
    list_id: str | None = None,
    message_id: str | None = "unique",
    spread: timedelta = timedelta(minutes=1),
) -> list[tuple[bytes, datetime]]:
    """*n* messages marked ``m{start}``…; *message_id* ``"unique"``, a fixed id, or None.

    With a fixed id (or None) and a zero *spread*, the messages are indistinguishable but
    for their markers: the duplicates that mail sent to oneself and list copies make.
    The marker has one fixed width, so it never changes a message's size: messages that
    differ only in it look the same to inboxwarden (same Message-ID, arrival time and
    size) and different to ``tests.kit.census.marker_census``.
    """
    out = []
    for i in range(n):
        number = start + i
        arrived = when + spread * i
        headers = [
            f"From: {sender}",
            "To: me@exempel.se",
            f"Subject: {subject}",
            f"Date: {format_datetime(arrived)}",
            f"X-Marker: m{number:05d}",
        ]
        if message_id == "unique":
            headers.append(f"Message-ID: <marked-{number:05d}@test>")
        elif message_id is not None:
            headers.append(f"Message-ID: <{message_id}>")
        if list_id is not None:
            headers.append(f"List-Id: {list_id}")
        body = "Hej!\r\n\r\nUnderlaget finns bifogat.\r\n"
        raw = ("\r\n".join(headers) + "\r\n\r\n" + body).encode()
        out.append((raw, arrived))
    return out
