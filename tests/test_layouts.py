"""What ``plan`` promises, ``run`` does, on the server layouts found in the wild.

Each layout is the test kit's Dovecot configured as hosting setups are: Maildir++ with
the ``/`` separator (refuses ``.`` in names), Maildir++ with ``.`` and the ``INBOX.``
prefix (cPanel), and mbox without any Trash (Debian's default). Every test is a full
plan → run → census against that real server; refusals are forced with Dovecot's ACL
plugin, and the command line's status and exit code are checked.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from click.testing import CliRunner

from inboxwarden.cli.commands import main
from inboxwarden.demo.localserver import DOVECOT_CAPABILITIES, capability_without
from tests.kit.census import census, flags_of
from tests.kit.engine import mail, run, write_config
from tests.kit.seeding import seed
from tests.kit.servers import new_user, session, special_server

pytestmark = pytest.mark.imap

NOW = "2026-11-20T03:00"  # enforcing: everything before 2026-11-01 is overdue

#: Layout → (server options, the folders the example rules must produce there).
LAYOUTS: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "maildir++ with /": (
        {"separator": "/", "layout": "maildir++"},
        {"customers": "Kunder/kund_se", "invoices": "Bokföring/2026", "newsletters": "Trash"},
    ),
    "maildir++ with . and INBOX.": (
        {"separator": ".", "prefix": "INBOX."},
        {
            "customers": "INBOX.Kunder.kund_se",
            "invoices": "INBOX.Bokföring.2026",
            "newsletters": "INBOX.Trash",
        },
    ),
    "mbox without Trash": (
        {"separator": "/", "layout": "mbox", "special_use_folders": ()},
        {"customers": "Kunder/kund.se", "invoices": "Bokföring/2026", "newsletters": "Trash"},
    ),
}
#: Every right (RFC 4314) for everyone: the ACL lines of a test take some away.
ALL_RIGHTS = "* anyone lrwstipekxa\n"


def _id(message_id: str) -> str:
    return message_id.strip().strip("<>")


def _where(counts: Counter[tuple[str, str]]) -> dict[str, str]:
    return {_id(mid): folder for (folder, mid), n in counts.items() for _ in range(n)}


def _seed(server: Any, email: str) -> tuple[list[tuple[bytes, Any]], list[tuple[bytes, Any]]]:
    """Invoices, newsletters, customer mail; and one customer mail the user marked deleted."""
    usual = mail("invoice", 2) + mail("newsletter", 2) + mail("customer", 3)
    deleted = mail("customer", 1)
    seed(server, email, "INBOX", usual)
    seed(server, email, "INBOX", deleted, flags=["\\Deleted"])
    return usual, deleted


def _message_ids(messages: list[tuple[bytes, Any]]) -> set[str]:
    found = set()
    for data, _ in messages:
        for line in data.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                found.add(_id(line.split(b":", 1)[1].decode()))
    return found


def _cli(*args: str) -> Any:
    return CliRunner().invoke(main, ["--log-format", "json", *args])


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_plan_names_the_servers_folders_and_run_puts_every_message_there(layout, tmp_path):
    """Folder names follow the namespace (prefix, separator, refused '.'); each message
    the plan counted is in the folder it named; the user's \\Deleted mail is untouched."""
    options, expected = LAYOUTS[layout]
    with special_server(**options) as server:
        email = new_user(server)
        usual, deleted = _seed(server, email)
        config = write_config(tmp_path / "cfg", server, [email])
        planned = run(config, dry=True).outcomes[0]
        assert planned.status == "ok"
        plan = planned.plan
        assert plan is not None
        promised = {d.rule.name: d.target for d in plan.decisions}
        assert promised == expected
        assert all(d.blocked is None for d in plan.decisions)
        where_planned = {d.message.message_id: d.target for d in plan.decisions}
        assert set(where_planned) == _message_ids(usual)  # the \Deleted one is not planned
        assert plan.user_deleted == 1

        outcome = run(config).outcomes[0]
        after = _where(census(server, email))
        inbox = flags_of(server, email, "INBOX")
    assert outcome.status == "ok"
    assert outcome.applied.refused == 0
    assert {mid: after[mid] for mid in where_planned} == where_planned
    (kept,) = _message_ids(deleted)
    assert after[kept] == "INBOX"
    assert inbox[f"<{kept}>"] == frozenset({"\\Deleted"})  # not flagged, not moved


def test_check_shows_the_exact_folder_names_and_creates_a_missing_trash(tmp_path):
    """check prints the namespace and the names the rules produce; mbox gets a Trash."""
    options, _ = LAYOUTS["mbox without Trash"]
    with special_server(**options) as server:
        email = new_user(server)
        config = write_config(tmp_path / "cfg", server, [email])
        result = _cli("--config", str(config), "check")
        folders = {folder for folder, _ in census(server, email)}
        created = flags_of(server, email, "Trash") == {}
    assert result.exit_code == 0, result.output
    assert "prefix '', separator '/'" in result.output
    assert "rule customers: move → Kunder/kund.se" in result.output
    assert "rule customers: move → Kunder/client.example" in result.output
    assert "rule invoices: move → Bokföring/2026" in result.output
    assert "rule newsletters: delete → Trash" in result.output
    assert "NOT POSSIBLE" not in result.output
    assert created and folders <= {"Trash", "INBOX"}


def test_check_in_observe_mode_creates_no_trash_but_names_the_one_a_run_would(tmp_path):
    """observe: no write reaches the server, not even check's; it names the future Trash."""
    options, _ = LAYOUTS["mbox without Trash"]
    with special_server(**options) as server:
        email = new_user(server)
        config = write_config(tmp_path / "cfg", server, [email], mode="observe")
        result = _cli("--config", str(config), "check")
        folders = {folder for folder, _ in census(server, email)}
        with session(server, email) as client:
            listed = {name for _, _, name in client.list_folders()}
    assert result.exit_code == 0, result.output
    assert "rule newsletters: delete → Trash" in result.output
    assert "Trash" not in folders | listed


def test_check_on_maildir_with_slash_says_dots_are_written_as_underscores(tmp_path):
    """The '.' that the server answers [CANNOT] to is found by a STATUS probe."""
    options, _ = LAYOUTS["maildir++ with /"]
    with special_server(**options) as server:
        email = new_user(server)
        config = write_config(tmp_path / "cfg", server, [email])
        result = _cli("--config", str(config), "check")
    assert result.exit_code == 0, result.output
    assert "refuses '.' in names (written as '_')" in result.output
    assert "rule customers: move → Kunder/kund_se" in result.output


@pytest.mark.parametrize("layout", ["maildir++ with /", "maildir++ with . and INBOX."])
def test_a_folder_the_server_refuses_is_shown_in_plan_and_makes_run_partial(layout, tmp_path):
    """An ACL without 'i' on the customer folder: plan says NOT POSSIBLE; run files the
    rest, leaves those messages in the INBOX, reports PARTIAL with the reason, exit 1."""
    options, expected = LAYOUTS[layout]
    folder = expected["customers"]
    with special_server(**options, acl=f"{ALL_RIGHTS}{folder} -anyone i\n") as server:
        email = new_user(server)
        seed(server, email, folder, [])
        usual, _ = _seed(server, email)
        config = write_config(tmp_path / "cfg", server, [email])
        plan = _cli("--config", str(config), "plan", "--now", NOW)
        plan_json = _cli("--config", str(config), "plan", "--now", NOW, "--format", "json")
        result = _cli("--config", str(config), "run", "--once", "--now", NOW)
        after = _where(census(server, email, skip_deleted=True))
    assert plan.exit_code == 0, plan.output
    assert f"{folder}  NOT POSSIBLE: the server refuses this folder [NOPERM]" in plan.output
    [box] = json.loads(plan_json.stdout)["mailboxes"]
    blocked = {a["target"]: a["blocked"] for a in box["actions"]}
    assert blocked[folder] == "the server refuses this folder [NOPERM]"
    assert blocked[expected["invoices"]] is None
    assert result.exit_code == 1, result.output
    assert "PARTIAL (server refused)" in result.output
    assert f"refused: {folder}: the server refuses this folder [NOPERM]" in result.output
    customers = _message_ids(mail_of(usual, b"kund.se"))
    assert {after[m] for m in customers} == {"INBOX"}
    invoices = _message_ids(mail_of(usual, b"fortnox.se"))
    assert {after[m] for m in invoices} == {expected["invoices"]}


def test_a_trash_the_server_will_not_create_blocks_deletes_before_enforcement(tmp_path):
    """mbox without Trash, and no right to create top-level folders: plan and check say
    the deletes are not possible; run leaves the newsletters, PARTIAL, exit 1."""
    options, expected = LAYOUTS["mbox without Trash"]
    acl = f"{ALL_RIGHTS}INBOX -anyone k\n"
    with special_server(**options, acl=acl) as server:
        email = new_user(server)
        usual, _ = _seed(server, email)
        config = write_config(tmp_path / "cfg", server, [email])
        check = _cli("--config", str(config), "check")
        plan = _cli("--config", str(config), "plan", "--now", NOW)
        result = _cli("--config", str(config), "run", "--once", "--now", NOW)
        after = _where(census(server, email, skip_deleted=True))
    assert "rule newsletters: delete NOT POSSIBLE: no Trash folder" in check.output
    assert "[NOPERM]" in check.output
    assert "newsletters  delete  -  NOT POSSIBLE: no Trash folder" in plan.output
    assert result.exit_code == 1, result.output
    assert "PARTIAL (server refused)" in result.output
    assert "refused: Trash: no Trash folder" in result.output
    assert {after[m] for m in _message_ids(mail_of(usual, b"branschnytt.se"))} == {"INBOX"}
    assert {after[m] for m in _message_ids(mail_of(usual, b"kund.se"))} == {expected["customers"]}


def test_a_create_refused_at_run_time_is_partial_not_a_failure(tmp_path):
    """Where the server does not advertise ACL the plan cannot know; the CREATE's
    [NOPERM] then makes the mailbox PARTIAL with the server's code, exit 1."""
    options, _ = LAYOUTS["mbox without Trash"]
    acl = f"{ALL_RIGHTS}INBOX -anyone k\n"
    caps = " ".join(DOVECOT_CAPABILITIES)  # the same list, without the plugin's ACL
    with special_server(**options, acl=acl, imap_capability=caps) as server:
        email = new_user(server)
        seed(server, email, "INBOX", mail("newsletter", 2))
        config = write_config(tmp_path / "cfg", server, [email])
        result = _cli("--config", str(config), "run", "--once", "--now", NOW)
        after = census(server, email)
    assert result.exit_code == 1, result.output
    assert "PARTIAL (server refused)" in result.output
    assert "the server refused to create a target folder: [NOPERM]" in result.output
    assert {folder for folder, _ in after} == {"INBOX"}


def test_a_missing_trash_is_created_with_the_trash_attribute_where_the_server_can(tmp_path):
    """With CREATE-SPECIAL-USE advertised, the Trash is created as ``(USE (\\Trash))``."""
    options, _ = LAYOUTS["mbox without Trash"]
    caps = " ".join((*DOVECOT_CAPABILITIES, "CREATE-SPECIAL-USE"))
    with special_server(**options, imap_capability=caps, trace=True) as server:
        email = new_user(server)
        config = write_config(tmp_path / "cfg", server, [email])
        result = _cli("--config", str(config), "check")
        sent = b"".join(server.rawlog(email)).decode(errors="replace")
    assert result.exit_code == 0, result.output
    assert 'CREATE "Trash" (USE (\\Trash))' in sent


def test_without_move_or_uidplus_plan_shows_every_move_as_not_possible(tmp_path):
    """A server that can neither MOVE nor UID EXPUNGE: plan promises no move or delete."""
    caps = capability_without("MOVE", "UIDPLUS")
    with special_server(imap_capability=caps) as server:
        email = new_user(server)
        seed(server, email, "INBOX", mail("invoice", 1) + mail("newsletter", 1))
        config = write_config(tmp_path / "cfg", server, [email])
        plan = _cli("--config", str(config), "plan", "--now", NOW)
        result = _cli("--config", str(config), "run", "--once", "--now", NOW)
    reason = "NOT POSSIBLE: the server has neither MOVE nor UIDPLUS"
    assert f"Bokföring/2026  {reason}" in plan.output
    assert f"Trash  {reason}" in plan.output
    assert result.exit_code == 1 and "PARTIAL (server refused)" in result.output


def test_without_namespace_the_separator_comes_from_list(tmp_path):
    """No NAMESPACE advertised: LIST "" "" gives the '.' separator, and no prefix."""
    caps = capability_without("NAMESPACE")
    with special_server(separator=".", imap_capability=caps) as server:
        email = new_user(server)
        seed(server, email, "INBOX", mail("customer", 1))
        plan = run(write_config(tmp_path / "cfg", server, [email]), dry=True).outcomes[0].plan
    assert plan is not None
    assert plan.targets == ["Kunder.kund_se"]


def mail_of(messages: list[tuple[bytes, Any]], domain: bytes) -> list[tuple[bytes, Any]]:
    """Those of *messages* sent from *domain*."""
    return [(data, when) for data, when in messages if b"@" + domain + b">" in data]


def test_a_move_refused_at_run_time_is_partial_with_the_response_code(tmp_path):
    """The folder exists but the user may not insert into it, and the server does not
    advertise ACL: the UID MOVE's [NOPERM] makes the mailbox PARTIAL, exit 1, the
    other rules' mail is filed and the refused mail stays in the INBOX."""
    options, expected = LAYOUTS["maildir++ with /"]
    folder = expected["customers"]
    caps = " ".join(DOVECOT_CAPABILITIES)  # without the plugin's ACL
    acl = f"{ALL_RIGHTS}{folder} -anyone i\n"
    with special_server(**options, acl=acl, imap_capability=caps) as server:
        email = new_user(server)
        seed(server, email, folder, [])
        usual, _ = _seed(server, email)
        config = write_config(tmp_path / "cfg", server, [email])
        result = _cli("--config", str(config), "run", "--once", "--now", NOW)
        after = _where(census(server, email, skip_deleted=True))
    assert result.exit_code == 1, result.output
    assert "PARTIAL (server refused)" in result.output
    assert "the server refused move: [NOPERM]" in result.output
    assert {after[m] for m in _message_ids(mail_of(usual, b"kund.se"))} == {"INBOX"}
    invoices = _message_ids(mail_of(usual, b"fortnox.se"))
    assert {after[m] for m in invoices} == {expected["invoices"]}
