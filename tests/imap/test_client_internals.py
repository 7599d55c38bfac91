"""What inboxwarden borrows from imapclient's and imaplib's insides is still there, as tested.

An imapclient (or Python) upgrade that moves or renames one of these names fails here,
naming the attribute and the tested range, instead of deep inside a scan.
"""

from __future__ import annotations

import imaplib
import inspect
import re
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import imapclient
import pytest
from pydantic import SecretStr

from inboxwarden.imap import client_internals, stream
from inboxwarden.imap.client_internals import BORROWED, TESTED_IMAPCLIENT, Borrowed
from inboxwarden.imap.connect import Credentials, Endpoint
from inboxwarden.imap.session import ImapSession

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
OWNERS: dict[str, type] = {
    "imapclient.IMAPClient": imapclient.IMAPClient,
    "imaplib.IMAP4": imaplib.IMAP4,
}
METHODS = [b for b in BORROWED if b.signature is not None]
ATTRIBUTES = [b for b in BORROWED if b.signature is None]
WHEN = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _where() -> str:
    return f"imapclient {imapclient.__version__} on Python {sys.version.split()[0]}"


def _problem(entry: Borrowed, owner: type) -> str | None:
    """Why *entry* no longer holds on *owner*, in words that name it, or None."""
    found = getattr(owner, entry.name, None)
    if found is None:
        problem = "is gone"
    elif not callable(found):
        problem = "is no longer a method"
    elif (signature := str(inspect.signature(found))) != entry.signature:
        problem = f"changed signature: {entry.signature} -> {signature}"
    else:
        return None
    return (
        f"{entry.owner}.{entry.name} {problem} ({_where()}). inboxwarden borrows it for "
        f"{entry.why!r} and is tested with imapclient{TESTED_IMAPCLIENT}: adapt "
        "src/inboxwarden/imap/client_internals.py, then the pin in pyproject.toml."
    )


def _tested_bounds() -> tuple[tuple[int, int], tuple[int, int]]:
    match = re.fullmatch(r">=(\d+)\.(\d+),<(\d+)\.(\d+)", TESTED_IMAPCLIENT)
    assert match, f"TESTED_IMAPCLIENT {TESTED_IMAPCLIENT!r} is not '>=X.Y,<X.Z'"
    low_major, low_minor, high_major, high_minor = map(int, match.groups())
    return (low_major, low_minor), (high_major, high_minor)


def test_the_installed_imapclient_is_within_the_tested_range() -> None:
    low, high = _tested_bounds()
    installed = tuple(int(part) for part in imapclient.__version__.split(".")[:2])
    assert low <= installed < high, (
        f"imapclient {imapclient.__version__} is installed, but client_internals is tested "
        f"with imapclient{TESTED_IMAPCLIENT}: check every name in BORROWED, then widen both"
    )


def test_pyproject_pins_imapclient_to_the_tested_range() -> None:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    pins = [d.replace(" ", "") for d in dependencies if re.match(r"imapclient\b", d)]
    assert pins == [f"imapclient{TESTED_IMAPCLIENT}"]


@pytest.mark.parametrize("entry", METHODS, ids=lambda b: f"{b.owner}.{b.name}")
def test_a_borrowed_method_is_there_with_the_tested_signature(entry: Borrowed) -> None:
    problem = _problem(entry, OWNERS[entry.owner])
    assert problem is None, problem


def test_every_borrowed_name_is_used_by_the_adapter_and_listed_once() -> None:
    """The table is what the adapter uses: no stale entry, none missing."""
    source = Path(client_internals.__file__).read_text().split("\ndef ", 1)[1]
    used = set(re.findall(r"\.(_?[a-z][a-z_]*)\b", source))
    names = [b.name for b in BORROWED]
    assert len(names) == len(set(names))
    private = {name for name in used if name.startswith("_")}
    assert private <= set(names), f"used but not listed in BORROWED: {private - set(names)}"
    assert set(names) <= used, f"listed in BORROWED but not used: {set(names) - used}"


def test_the_check_names_a_renamed_or_changed_attribute_and_the_tested_range() -> None:
    """Guards the guard: a class where imapclient moved things is reported, by name."""

    class Upgraded:
        def _command(self, name: str, *args: str, literal: bytes | None = None) -> None: ...

        _new_tag = "not a method any more"

    gone = _problem(
        Borrowed("imaplib.IMAP4", "_simple_command", "(self, name, *args)", "x"), Upgraded
    )
    changed = _problem(Borrowed("imaplib.IMAP4", "_command", "(self, name, *args)", "x"), Upgraded)
    moved = _problem(Borrowed("imaplib.IMAP4", "_new_tag", "(self)", "x"), Upgraded)
    assert gone is not None and "imaplib.IMAP4._simple_command is gone" in gone
    assert changed is not None and "changed signature" in changed and "literal" in changed
    assert moved is not None and "no longer a method" in moved
    assert all(TESTED_IMAPCLIENT in p for p in (gone, changed, moved))


@pytest.mark.imap
def test_borrowed_instance_attributes_are_there_on_a_live_connection(mailbox: Any) -> None:
    endpoint = Endpoint(mailbox.server.host, mailbox.server.port, "plain")
    with ImapSession.open(endpoint, Credentials(mailbox.email, SecretStr(mailbox.password))) as s:
        client = s.raw_client()
        imap = client_internals.imaplib_of(client)
        holders = {"imapclient.IMAPClient": client, "imaplib.IMAP4": imap}
        missing = [
            f"{b.owner}.{b.name} ({b.why!r})"
            for b in ATTRIBUTES
            if not hasattr(holders[b.owner], b.name)
        ]
        assert not missing, (
            f"gone on a live connection ({_where()}): {missing}; tested with "
            f"imapclient{TESTED_IMAPCLIENT}, see src/inboxwarden/imap/client_internals.py"
        )
        assert isinstance(imap, imaplib.IMAP4)
        assert isinstance(imap.untagged_responses, dict)
        assert isinstance(imap.tagged_commands, dict)
        readline, read = client_internals.reader(imap)
        assert callable(readline) and callable(read)


@pytest.mark.imap
def test_each_adapter_call_does_its_job_against_dovecot(mailbox: Any) -> None:
    """One pass over every helper, on the real server: answers come back in the shape
    the session reads."""
    endpoint = Endpoint(mailbox.server.host, mailbox.server.port, "plain")
    with ImapSession.open(endpoint, Credentials(mailbox.email, SecretStr(mailbox.password))) as s:
        client = s.raw_client()
        kind, data = client_internals.simple_command(
            client, "STATUS", "No such folder", "(UIDNEXT)"
        )
        assert kind == "NO" and data, "a NO comes back as an answer, not an exception"
        client_internals.drop_untagged(client, "STATUS")
        for n in range(3):
            s.append("INBOX", f"Subject: {n}\r\n\r\nbody {n}\r\n".encode(), [], WHEN)
        s.select("INBOX", readonly=True)
        kind, data = client_internals.uid_fetch(client, "1:*", "(UID FLAGS)")
        assert kind == "OK" and len(data) == 3
        kind, data = client_internals.uid_fetch(client, "2:3", "(UID)")
        assert kind == "OK" and len(data) == 2
        if s.has("ESEARCH"):
            lines = client_internals.raw_untagged(
                client, b"SEARCH", [b"RETURN", b"(ALL)", b"ALL"], "ESEARCH"
            )
            assert any(b"ALL 1:3" in line for line in lines if isinstance(line, bytes))
        kind, data = client_internals.uid_command(client, "SEARCH", "ALL")
        assert (kind, data) == ("OK", [b"1 2 3"])
        client_internals.simple_command(client, "STATUS", "INBOX", "(MESSAGES)")
        [status] = client_internals.take_untagged(client, "STATUS")
        assert b"MESSAGES 3" in status
        assert client_internals.take_untagged(client, "STATUS") == []
        imap = client_internals.imaplib_of(client)
        fetched = stream.command(imap, b"UID FETCH 1:* (UID)")
        assert len(fetched) == 3
        assert not imap.tagged_commands, "the fast reader's tags stay out of imaplib's table"
