"""Command limits learned from the server (ID, RFC 2971) unless the configuration sets them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from pydantic import SecretStr

from inboxwarden.config import load_settings
from inboxwarden.demo.localserver import LocalDovecot, capability_without, write_maildir_messages
from inboxwarden.imap.connect import Credentials, Endpoint
from inboxwarden.imap.providers import (
    DOVECOT_LIMITS,
    PORTABLE_LIMITS,
    PROFILES,
    learned_limits,
)
from inboxwarden.imap.session import ImapSession
from tests.kit.census import census
from tests.kit.engine import ENFORCING, mail, run, write_config
from tests.kit.faults import CuttingProxy
from tests.kit.servers import new_user, special_server

# --- the pure choice -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "server_id", "expected"),
    [
        ("imap", {"name": "Dovecot"}, DOVECOT_LIMITS),
        ("imap", {"name": " dovecot "}, DOVECOT_LIMITS),
        ("imap", {"name": "Cyrus IMAPd"}, PORTABLE_LIMITS),
        ("imap", {}, PORTABLE_LIMITS),
        # A provider profile keeps RFC 7162's limit even behind a server calling itself
        # Dovecot: Exchange and Gmail publish no larger one.
        ("microsoft", {"name": "Dovecot"}, PORTABLE_LIMITS),
        ("google", {"name": "Dovecot"}, PORTABLE_LIMITS),
    ],
)
def test_only_a_plain_server_naming_itself_dovecot_gets_dovecots_limits(
    provider, server_id, expected
):
    assert learned_limits(PROFILES[provider], server_id) == expected


def test_the_portable_line_is_rfc_7162s_and_dovecots_is_its_own_default():
    """The figures themselves: RFC 7162 §4 (8192) and Dovecot's imap_max_line_length (64 KiB)."""
    assert PORTABLE_LIMITS.max_line_length == 8192
    assert DOVECOT_LIMITS.max_line_length == 65536
    assert DOVECOT_LIMITS.batch_size > PORTABLE_LIMITS.batch_size


def test_the_limits_default_to_learning_and_an_explicit_value_still_loads(tmp_path: Path):
    server = _FakeServer()
    auto = load_settings(write_config(tmp_path / "auto", server, ["a@exempel.se"]))  # type: ignore[arg-type]
    assert (auto.imap.batch_size, auto.imap.max_line_length) == (None, None)
    fixed = load_settings(
        write_config(
            tmp_path / "fixed",
            server,  # type: ignore[arg-type]
            ["a@exempel.se"],
            imap_extra="batch_size = 5000\nmax_line_length = 8192",
        )
    )
    assert (fixed.imap.batch_size, fixed.imap.max_line_length) == (5000, 8192)


class _FakeServer:
    """Just what write_config reads from a server: no server is contacted."""

    host = "127.0.0.1"
    port = 143
    master_user = "master"
    master_password = "pw"


# --- against the test Dovecot ----------------------------------------------------------


@pytest.mark.imap
def test_the_test_dovecot_names_itself_in_id(dovecot):
    email = new_user(dovecot)
    credentials = Credentials(
        email, SecretStr(dovecot.master_password), "master", dovecot.master_user
    )
    with ImapSession.open(Endpoint(dovecot.host, dovecot.port, "plain"), credentials) as s:
        assert s.server_id.get("name") == "Dovecot"


@pytest.mark.imap
def test_without_id_the_session_learns_nothing():
    with special_server(imap_capability=capability_without("ID")) as server:
        email = new_user(server)
        credentials = Credentials(
            email, SecretStr(server.master_password), "master", server.master_user
        )
        with ImapSession.open(Endpoint(server.host, server.port, "plain"), credentials) as s:
            assert s.server_id == {}


#: Invoices interleaved with other mail: the invoices' UIDs never fold into ranges, so
#: their UID set (about 9,000 characters) needs two lines of 8192 octets, one of 64 KiB.
INTERLEAVED = 1900


def _seed_interleaved(server: LocalDovecot, email: str) -> None:
    invoices, others = mail("invoice", INTERLEAVED), mail("other", INTERLEAVED)
    mixed = [m for pair in zip(invoices, others, strict=True) for m in pair]
    write_maildir_messages(server, email, "INBOX", mixed)


def _enforce_through_proxy(
    server: LocalDovecot, tmp_path: Path, imap_extra: str = ""
) -> tuple[Counter[str], int]:
    """Run once through a recording proxy: the command verbs and the longest MOVE line."""
    email = new_user(server)
    _seed_interleaved(server, email)
    before = census(server, email)
    with CuttingProxy(server.host, server.port) as proxy:
        config = write_config(tmp_path, server, [email], port=proxy.port, imap_extra=imap_extra)
        summary = run(config, ENFORCING)
        lines = proxy.command_lines()
        verbs = Counter(proxy.commands_sent())
    assert summary.outcomes[0].applied.moved == INTERLEAVED
    after = census(server, email)
    # Nothing lost, nothing doubled: every Message-ID as often as before, in any folder.
    assert Counter(mid for (_, mid) in after.elements()) == Counter(
        mid for (_, mid) in before.elements()
    )
    longest = max(len(line) for line in lines if " UID MOVE " in line.upper())
    return verbs, longest


@pytest.mark.imap
def test_dovecot_identified_in_id_gets_one_move_of_a_long_line(dovecot, tmp_path):
    verbs, longest = _enforce_through_proxy(dovecot, tmp_path)
    assert verbs["ID"] == 1
    assert verbs["UID MOVE"] == 1
    assert 8192 < longest <= DOVECOT_LIMITS.max_line_length


@pytest.mark.imap
def test_with_id_stripped_the_portable_limit_splits_the_move(tmp_path):
    with special_server(imap_capability=capability_without("ID")) as server:
        verbs, longest = _enforce_through_proxy(server, tmp_path)
    assert verbs["ID"] == 0
    assert verbs["UID MOVE"] == 2
    assert longest <= PORTABLE_LIMITS.max_line_length


@pytest.mark.imap
def test_an_explicit_max_line_length_wins_over_what_dovecot_says(dovecot, tmp_path):
    verbs, longest = _enforce_through_proxy(dovecot, tmp_path, "max_line_length = 8192")
    assert verbs["UID MOVE"] == 2
    assert longest <= 8192
