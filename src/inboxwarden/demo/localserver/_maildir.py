"""Bulk seeding: maildir files written straight into a local server's mailbox.

APPEND costs a round trip and a server-side save per message; a benchmark that needs
50,000 messages of known arrival dates writes the files instead, the way a delivery
agent does (https://cr.yp.to/proto/maildir.html), and lets Dovecot index them.
"""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inboxwarden.demo.localserver._dovecot import LocalDovecot

__all__ = ["MAILDIR_FLAG_LETTERS", "write_maildir_messages"]

# Maildir info letters for the IMAP system flags, written in ASCII order after ":2,".
MAILDIR_FLAG_LETTERS = {
    "\\Draft": "D",
    "\\Flagged": "F",
    "\\Answered": "R",
    "\\Seen": "S",
    "\\Deleted": "T",
}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

# Unique within this process; the pid keeps names unique between processes.
_sequence = itertools.count()


def write_maildir_messages(
    server: LocalDovecot,
    email: str,
    folder: str,
    messages: Iterable[tuple[bytes, datetime]],
    *,
    flags: Iterable[str] = (),
    sync: bool = True,
) -> int:
    """Writes each (message, arrival time) into *folder* as a maildir file; returns the count.

    Dovecot takes a maildir message's INTERNALDATE from the file's modification time,
    so each file gets its arrival time as mtime; naive datetimes are taken as UTC. The
    name starts with the arrival time too, because Dovecot hands out UIDs to new files
    in name order: UIDs then follow arrival, as on a real server. ``S=`` and ``W=``
    carry the size on disk and with CRLF line ends, so Dovecot never has to read a
    file to answer RFC822.SIZE.

    The folder is created if missing. *flags* are IMAP system flags given to every
    message (keywords would need Dovecot's keyword file). With *sync*, Dovecot indexes
    the new files before this returns, so that whoever times the next IMAP session
    does not time that one-off scan.
    """
    letters = "".join(sorted(_flag_letter(flag) for flag in set(flags)))
    box = str(server.mailbox_path(email, folder, create=True))
    owner = server.mail_owner
    suffix = f".{_maildir_host()}"
    pid = os.getpid()
    count = 0
    for data, arrived in messages:
        micros = (_aware(arrived) - _EPOCH) // _MICROSECOND
        seconds, fraction = divmod(micros, 1_000_000)
        virtual_size = len(data) + data.count(b"\n") - data.count(b"\r\n")
        name = (
            f"{seconds}.M{fraction}P{pid}Q{next(_sequence)}{suffix}"
            f",S={len(data)},W={virtual_size}:2,{letters}"
        )
        # Written in tmp/ and renamed into cur/, so Dovecot never sees half a message.
        temporary = os.path.join(box, "tmp", name)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
            os.utime(descriptor, ns=(micros * 1000, micros * 1000))
            if owner is not None:
                os.fchown(descriptor, *owner)
        finally:
            os.close(descriptor)
        os.rename(temporary, os.path.join(box, "cur", name))
        count += 1
    if sync and count:
        # STATUS makes Dovecot scan the directory and give the new files their UIDs.
        server.doveadm("mailbox", "status", "-u", email, "messages", folder)
    return count


def _flag_letter(flag: str) -> str:
    try:
        return MAILDIR_FLAG_LETTERS[flag]
    except KeyError:
        raise ValueError(
            f"{flag!r} is not an IMAP system flag; maildir files can carry only "
            + ", ".join(MAILDIR_FLAG_LETTERS)
        ) from None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _maildir_host() -> str:
    # The maildir convention escapes the two characters that would break the name.
    return socket.gethostname().replace("/", r"\057").replace(":", r"\072") or "localhost"
