"""Exchange Online and Gmail conventions, emulated on the test Dovecot, over a full cycle.

Exchange: capabilities cut to Exchange's list (no CONDSTORE, SPECIAL-USE, ESEARCH), its
folder names with a plain folder called "Trash" as a decoy, and a proxy that drops
``\\*`` from PERMANENTFLAGS and answers BAD to FETCH in an empty folder, as Exchange
does. Gmail: its capabilities and Swedish ``[Gmail]/…`` names, again with a decoy
"Trash". The census comes from doveadm, not from inboxwarden's IMAP code.
"""

from __future__ import annotations

from collections import Counter

import pytest
from click.testing import CliRunner

from inboxwarden.cli.commands import main
from inboxwarden.demo.localserver import (
    EXCHANGE_CAPABILITIES,
    EXCHANGE_FOLDERS,
    GMAIL_CAPABILITIES,
)
from inboxwarden.imap.providers import PROFILES, ServerFacts, conclusions, profile_for
from tests.kit.census import census, flags_of
from tests.kit.engine import ENFORCING, NEW, mail, run, write_config
from tests.kit.seeding import seed
from tests.kit.servers import new_user, special_server
from tests.profilekit import ExchangeProxy

KW = "$InboxWardenDue"
#: Gmail in Swedish: the special-use folders are found by attribute, not by these names.
GMAIL_SWEDISH = (
    ("[Gmail]/Utkast", "\\Drafts"),
    ("[Gmail]/Skickat", "\\Sent"),
    ("[Gmail]/Papperskorgen", "\\Trash"),
    ("[Gmail]/Skräppost", "\\Junk"),
    ("[Gmail]/Alla mail", "\\All"),
    ("Trash", ""),  # a user's own label called Trash: not the trash
)


def ids(messages) -> set[str]:
    return {raw.split(b"Message-ID: ", 1)[1].split(b"\r\n", 1)[0].decode() for raw, _ in messages}


def by_folder(counts: Counter) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for (folder, mid), n in counts.items():
        assert n == 1, f"{mid} is duplicated in {folder}"
        out.setdefault(folder, set()).add(mid)
    return out


def same_messages(before: Counter, after: Counter) -> bool:
    return sorted(mid for (_, mid) in before.elements()) == sorted(
        mid for (_, mid) in after.elements()
    )


# --- the pure profiles -----------------------------------------------------------------


def facts(**changes) -> ServerFacts:
    base = {
        "capabilities": frozenset({"MOVE", "UIDPLUS"}),
        "keywords_allowed": False,
        "trash": "Deleted Items",
        "trash_by_attribute": True,
        "max_connections": 20,
    }
    return ServerFacts(**{**base, **changes})


def test_exchange_conclusions_say_flagged_only_trash_and_empty_folders():
    lines = conclusions(PROFILES["microsoft"], facts(), KW)
    assert lines[0].startswith("flagging: \\Flagged only")
    assert "trash: 'Deleted Items' (special-use \\Trash)" in lines[1]
    assert any("never fetched" in line for line in lines)
    assert "CONDSTORE: no (not needed)" in lines
    assert not [line for line in lines if line.startswith("warning")]


def test_profile_warns_where_the_server_differs_from_the_provider():
    lines = conclusions(
        PROFILES["microsoft"],
        facts(keywords_allowed=True, trash_by_attribute=False, max_connections=40),
        KW,
    )
    warnings = [line for line in lines if line.startswith("warning")]
    assert len(warnings) == 3
    assert any("custom keywords" in w for w in warnings)
    assert any("found by name" in w for w in warnings)
    assert any("max_connections = 40" in w for w in warnings)


def test_missing_trash_is_named_and_a_plain_server_gets_no_provider_warnings():
    lines = conclusions(profile_for(None), facts(trash=None, keywords_allowed=True), KW)
    assert "trash: NOT FOUND: delete rules will be refused" in lines
    assert lines[0] == f"flagging: keyword {KW} and \\Flagged"
    assert not [line for line in lines if line.startswith("warning")]


# --- Exchange Online, emulated ---------------------------------------------------------


@pytest.mark.imap
def test_exchange_full_cycle_flags_only_with_flagged_and_trashes_into_deleted_items(tmp_path):
    folders = (*EXCHANGE_FOLDERS, ("Trash", ""))
    with (
        special_server(
            imap_capability=EXCHANGE_CAPABILITIES, special_use_folders=folders
        ) as server,
        ExchangeProxy(server.port) as proxy,
    ):
        email, empty = new_user(server), new_user(server)
        news, invoices, other = mail("newsletter", 3), mail("invoice", 2), mail("other", 2)
        own_flag = mail("other", 1, NEW)
        seed(server, email, "INBOX", news + invoices + other)
        seed(server, email, "INBOX", own_flag, flags=["\\Flagged"])
        server.mailbox_path(empty, "INBOX", create=True)
        before = census(server, email)
        config = write_config(tmp_path, server, [email, empty], port=proxy.port)
        summary = run(config, ENFORCING)
        after = census(server, email)
        inbox_flags = flags_of(server, email, "INBOX")
        every_flag = [
            f for folder in by_folder(after) for f in flags_of(server, email, folder).values()
        ]
        check = CliRunner().invoke(main, ["--log-format", "json", "--config", str(config), "check"])
    assert [o.status for o in summary.outcomes] == ["ok", "ok"]
    assert same_messages(before, after)  # nothing lost, nothing doubled
    where = by_folder(after)
    assert where["Deleted Items"] == ids(news)
    assert "Trash" not in where
    assert where["Bokföring/2026"] == ids(invoices)
    # No keyword anywhere: the due mail left in the INBOX carries \Flagged only ...
    assert len(every_flag) == len(before)
    assert not [flags for flags in every_flag if KW in flags]
    assert all(inbox_flags[m] == {"\\Flagged"} for m in ids(other))
    # ... and the user's own \Flagged on a message that is not due stays theirs.
    assert all(inbox_flags[m] == {"\\Flagged"} for m in ids(own_flag))
    # The empty INBOX was never fetched: the proxy would have answered BAD.
    assert proxy.refused_fetches == 0
    assert check.exit_code == 0, check.output
    assert "keywords=no (\\Flagged only)" in check.stdout
    assert "trash=Deleted Items" in check.stdout
    assert "CONDSTORE: no (not needed)" in check.stdout


@pytest.mark.imap
def test_exchange_proxy_really_refuses_fetch_in_an_empty_folder(tmp_path):
    """The emulation itself: a FETCH in an empty folder gets Exchange's BAD."""
    from imapclient import IMAPClient
    from imapclient.exceptions import IMAPClientError

    with special_server() as server, ExchangeProxy(server.port) as proxy:
        email = new_user(server)
        client = IMAPClient(server.host, port=proxy.port, ssl=False, timeout=10)
        client.login(server.master_login(email), server.master_password)
        info = client.select_folder("INBOX")
        with pytest.raises(IMAPClientError):
            client.fetch("1:*", ["FLAGS"])
        client.logout()
    assert b"\\*" not in b" ".join(info[b"PERMANENTFLAGS"])
    assert proxy.refused_fetches == 1


# --- Gmail, emulated ------------------------------------------------------------------


@pytest.mark.imap
def test_gmail_full_cycle_deletes_by_moving_to_the_localised_special_use_trash(tmp_path):
    with special_server(
        imap_capability=GMAIL_CAPABILITIES, special_use_folders=GMAIL_SWEDISH
    ) as server:
        email = new_user(server)
        news, customers, other = mail("newsletter", 4), mail("customer", 2), mail("other", 2)
        seed(server, email, "INBOX", news + customers + other)
        before = census(server, email)
        config = write_config(tmp_path, server, [email])
        summary = run(config, ENFORCING)
        after = census(server, email)
        inbox_flags = flags_of(server, email, "INBOX")
        check = CliRunner().invoke(main, ["--log-format", "json", "--config", str(config), "check"])
    assert summary.outcomes[0].status == "ok"
    assert same_messages(before, after)
    where = by_folder(after)
    assert where["[Gmail]/Papperskorgen"] == ids(news)  # deleting = a move to \Trash
    assert "Trash" not in where  # the user's label of that name is not the trash
    assert where["Kunder/kund.se"] == ids(customers)  # out of INBOX: the label is gone
    assert where["INBOX"] == ids(other)
    # Gmail keeps keywords, so the due mail left in the INBOX carries ours.
    assert all(KW in inbox_flags[m] for m in ids(other))
    assert check.exit_code == 0, check.output
    assert "trash=[Gmail]/Papperskorgen" in check.stdout
