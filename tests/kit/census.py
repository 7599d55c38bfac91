"""What is where after a test: counts by Message-ID, flags, or fault-test marker.

On Dovecot the counts come from doveadm, not from IMAP, so they do not share a code
path (or a bug) with the client under test.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from email import message_from_bytes

from imapclient import IMAPClient

from inboxwarden.demo.localserver import LocalDovecot
from tests.kit.servers import ImapServer, session


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
        return imap_inventory(client, folder, skip_deleted)


def imap_inventory(
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


# -- by marker (see tests.kit.seeding.marked) ----------------------------------------


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
