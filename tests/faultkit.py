"""Helpers for the fault tests: messages that carry a unique marker, and a census by it.

A census by Message-ID cannot see a loss among messages that share one (or have none).
Every message made here carries ``X-Marker: m00042``, of one fixed width so that it never
changes a message's size: two messages that differ only in their marker look the same to
inboxwarden (same Message-ID, arrival time and size) and different to the census.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from email.utils import format_datetime

from inboxwarden.demo.localserver import LocalDovecot


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


def marker_census(server: LocalDovecot, email: str) -> Counter[tuple[str, str]]:
    """Counts (folder, marker) over every folder, from doveadm (not the client under test).

    Messages the user marked ``\\Deleted`` count too: they are still there.
    """
    output = server.doveadm("-f", "json", "fetch", "-u", email, "mailbox hdr.x-marker", "ALL")
    counts: Counter[tuple[str, str]] = Counter()
    for row in json.loads(output or "[]"):
        counts[(row["mailbox"], row["hdr.x-marker"].strip())] += 1
    return counts


def markers_by_folder(counts: Counter[tuple[str, str]]) -> dict[str, Counter[str]]:
    """The census as folder → Counter of markers."""
    out: dict[str, Counter[str]] = {}
    for (folder, marker), n in counts.items():
        out.setdefault(folder, Counter())[marker] += n
    return out


def assert_each_once(counts: Counter[tuple[str, str]], markers: set[str]) -> None:
    """Every marker in *markers* exists exactly once, in whatever folder: nothing lost or doubled."""
    total: Counter[str] = Counter()
    for (_folder, marker), n in counts.items():
        total[marker] += n
    lost = sorted(m for m in markers if total[m] == 0)
    doubled = sorted(m for m in markers if total[m] > 1)
    assert (lost, doubled) == ([], []), f"lost {lost[:10]}, doubled {doubled[:10]}"
