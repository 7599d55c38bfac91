"""The engine end to end against the real test Dovecot: flags, moves, and docs/behaviour.md §5.

Every safety invariant has a test here that fails if it breaks. The census comes from
doveadm, not from inboxwarden's own IMAP code, so a bug cannot hide itself.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from inboxwarden.demo.localserver import capability_without
from inboxwarden.mailbox import enforcement as enforcement_module
from tests.kit.census import census, flags_of
from tests.kit.engine import ENFORCING, GRACE, NEW, OLD, mail, run, write_config
from tests.kit.faults import CuttingProxy
from tests.kit.seeding import make_message, seed
from tests.kit.servers import new_user, session, special_server

pytestmark = pytest.mark.imap
KW = "$InboxWardenDue"


def ids(messages) -> set[str]:
    return {raw.split(b"Message-ID: ", 1)[1].split(b"\r\n", 1)[0].decode() for raw, _ in messages}


def folders_of(counts: Counter) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for (folder, mid), n in counts.items():
        out.setdefault(folder, set()).update([mid] * n)
    return out


def assert_exact(before: Counter, after: Counter) -> None:
    """Every Message-ID exists exactly as often after as before, whatever the folder."""
    by_id_before = Counter({mid: n for (_, mid), n in before.items()})
    by_id_after: Counter[str] = Counter()
    for (_, mid), n in after.items():
        by_id_after[mid] += n
    assert by_id_after == by_id_before


# --- flagging ------------------------------------------------------------------------


def test_notify_flags_due_mail_only_and_never_marks_it_seen(dovecot, tmp_path):
    email = new_user(dovecot)
    old, new = mail("other", 3, OLD), mail("other", 2, NEW)
    seed(dovecot, email, "INBOX", old + new)
    summary = run(write_config(tmp_path, dovecot, [email], mode="notify"), ENFORCING)
    assert summary.outcomes[0].status == "ok"
    flags = flags_of(dovecot, email, "INBOX")
    for mid in ids(old):
        assert {KW, "\\Flagged"} <= flags[mid]
        assert "\\Seen" not in flags[mid]
    for mid in ids(new):
        assert flags[mid] == frozenset()


def test_users_own_flag_is_never_cleared(dovecot, tmp_path):
    email = new_user(dovecot)
    own = mail("other", 1, OLD)
    seed(dovecot, email, "INBOX", own, flags=["\\Flagged"])
    config = write_config(tmp_path, dovecot, [email], mode="notify")
    run(config, ENFORCING)
    [mid] = ids(own)
    assert flags_of(dovecot, email, "INBOX")[mid] == {KW, "\\Flagged"}
    # The rules change so the message is no longer due: our keyword goes, the user's flag stays.
    keep_all = '[[rules]]\nname = "keep"\naction = "keep"\nbasis = "test"\n'
    run(write_config(tmp_path, dovecot, [email], mode="notify", rules=keep_all), ENFORCING)
    assert flags_of(dovecot, email, "INBOX")[mid] == {"\\Flagged"}


def test_flags_we_set_are_cleared_when_a_message_stops_being_due(dovecot, tmp_path):
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("other", 2, OLD))
    run(write_config(tmp_path, dovecot, [email], mode="notify"), ENFORCING)
    keep_all = '[[rules]]\nname = "keep"\naction = "keep"\nbasis = "test"\n'
    summary = run(
        write_config(tmp_path, dovecot, [email], mode="notify", rules=keep_all), ENFORCING
    )
    assert summary.outcomes[0].applied.unflagged == 2
    assert set(flags_of(dovecot, email, "INBOX").values()) == {frozenset()}


# --- enforcing -----------------------------------------------------------------------


def test_enforce_files_and_deletes_by_rule_with_an_exact_census(dovecot, tmp_path):
    email = new_user(dovecot)
    invoices, news, customers, other = (
        mail("invoice", 4),
        mail("newsletter", 3),
        mail("customer", 2),
        mail("other", 2),
    )
    recent = mail("invoice", 2, NEW)
    seed(dovecot, email, "INBOX", invoices + news + customers + other + recent)
    before = census(dovecot, email)
    summary = run(write_config(tmp_path, dovecot, [email]), ENFORCING)
    outcome = summary.outcomes[0]
    assert (outcome.applied.moved, outcome.applied.deleted) == (6, 3)
    after = census(dovecot, email)
    assert_exact(before, after)
    where = folders_of(after)
    assert where["Bokföring/2026"] == ids(invoices)
    assert where["Trash"] == ids(news)
    assert where["Kunder/kund.se"] == ids(customers)
    assert where["INBOX"] == ids(other) | ids(recent)
    # Filed mail does not stay marked as due; what stays in the INBOX (report) does.
    assert all(KW not in f for f in flags_of(dovecot, email, "Bokföring/2026").values())
    assert all(KW in flags_of(dovecot, email, "INBOX")[m] for m in ids(other))


def test_one_uid_move_per_target_and_batch(dovecot, tmp_path):
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("invoice", 30) + mail("customer", 12))
    with CuttingProxy(dovecot.host, dovecot.port) as proxy:
        config = write_config(
            tmp_path, dovecot, [email], port=proxy.port, imap_extra="batch_size = 10"
        )
        run(config, ENFORCING)
        verbs = Counter(proxy.commands_sent())
    assert verbs["UID MOVE"] == 3 + 2  # 30 invoices in batches of 10, 12 customer mails
    assert verbs["UID FETCH"] == 5  # 42 candidates in batches of 10


def test_folder_names_with_non_ascii_and_separator_in_values(tmp_path):
    with special_server(separator=".") as server:
        email = new_user(server)
        seed(server, email, "INBOX", mail("customer", 2))
        rules = (
            '[domain_groups]\ncustomers = ["kund.se"]\n[[rules]]\nname = "c"\n'
            'match.from_domain = ["@customers"]\naction = "move"\n'
            'target = "Kunder/Åhléns/{from_domain}"\nbasis = "Avtal"\n'
        )
        run(write_config(tmp_path / "cfg", server, [email], rules=rules), ENFORCING)
        where = folders_of(census(server, email))
    assert len(where["Kunder.Åhléns.kund_se"]) == 2


def test_grace_period_flags_but_moves_nothing(dovecot, tmp_path):
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("invoice", 3, OLD))
    summary = run(write_config(tmp_path, dovecot, [email]), GRACE)
    assert summary.outcomes[0].applied.moved == 0
    assert summary.outcomes[0].applied.flagged == 3
    assert set(folders_of(census(dovecot, email))) == {"INBOX"}


# --- docs/behaviour.md §5 -------------------------------------------------------------------------


def test_users_own_deleted_messages_survive_enforcement(dovecot, tmp_path):
    """§5.1: no plain EXPUNGE, so the user's \\Deleted mail is still there afterwards."""
    email = new_user(dovecot)
    deleted_by_user = mail("other", 2, NEW)
    seed(dovecot, email, "INBOX", deleted_by_user, flags=["\\Deleted"])
    seed(dovecot, email, "INBOX", mail("newsletter", 3) + mail("invoice", 2))
    run(write_config(tmp_path, dovecot, [email]), ENFORCING)
    inbox = flags_of(dovecot, email, "INBOX")
    assert all("\\Deleted" in inbox[m] for m in ids(deleted_by_user))


def test_copy_fallback_without_move_keeps_users_deleted_mail(tmp_path):
    """§5.1 with COPY + UID EXPUNGE: only exactly the copied UIDs are expunged."""
    with special_server(imap_capability=capability_without("MOVE"), trace=True) as server:
        email = new_user(server)
        deleted_by_user = mail("other", 2, NEW)
        seed(server, email, "INBOX", deleted_by_user, flags=["\\Deleted"])
        seed(server, email, "INBOX", mail("invoice", 3))
        before = census(server, email)
        summary = run(write_config(tmp_path / "cfg", server, [email]), ENFORCING)
        after = census(server, email)
        sent = "\n".join(line.decode(errors="replace") for line in server.rawlog(email))
    assert summary.outcomes[0].applied.moved == 3
    assert_exact(before, after)
    assert len(folders_of(after)["Bokföring/2026"]) == 3
    assert "UID COPY" in sent
    assert "UID EXPUNGE" in sent
    assert "\nEXPUNGE" not in sent.replace("UID EXPUNGE", "")


def test_without_move_or_uidplus_actions_are_refused_and_reported(tmp_path):
    caps = capability_without("MOVE", "UIDPLUS")
    with special_server(imap_capability=caps, trace=True) as server:
        email = new_user(server)
        seed(server, email, "INBOX", mail("invoice", 2))
        before = census(server, email)
        summary = run(write_config(tmp_path / "cfg", server, [email]), ENFORCING)
        after = census(server, email)
        sent = b"".join(server.rawlog(email))
    assert summary.outcomes[0].applied.refused == 2
    assert after == before
    assert b"EXPUNGE" not in sent
    assert b"COPY" not in sent


@pytest.mark.parametrize("no_move", [False, True], ids=["move", "copy-fallback"])
def test_connection_cut_mid_batch_then_rerun_leaves_an_exact_census(tmp_path, no_move):
    """§5.2: a cut after the server completed a transfer, then a rerun: nothing lost or doubled."""
    caps = capability_without("MOVE") if no_move else None
    with (
        special_server(imap_capability=caps) as server,
        CuttingProxy(server.host, server.port) as proxy,
    ):
        email = new_user(server)
        seed(server, email, "INBOX", mail("invoice", 25) + mail("newsletter", 5))
        before = census(server, email)
        config = write_config(
            tmp_path / "cfg",
            server,
            [email],
            port=proxy.port,
            imap_extra="batch_size = 10",
            retries=1,
        )
        # The server receives and completes the first transfer; its answer never arrives.
        proxy.cut_after_command(r"^UID (MOVE|COPY)", deliver=True)
        first = run(config, ENFORCING)
        assert first.outcomes[0].status == "failed"
        assert proxy.cut_done.is_set()
        middle = census(server, email)
        second = run(config, ENFORCING)
        after = census(server, email)
    assert second.outcomes[0].status == "ok"
    assert_exact(before, after)
    assert set(folders_of(after)) >= {"Bokföring/2026", "Trash"}
    assert "INBOX" not in folders_of(after)
    if no_move:
        # The cut left copies whose originals were still in the INBOX: a duplicate, no loss.
        assert sum(middle.values()) > sum(before.values())
        assert second.outcomes[0].applied.recovered > 0


def test_a_message_the_user_moved_meanwhile_is_skipped_quietly(dovecot, tmp_path, monkeypatch):
    """§5.4: between the scan and the move, the user files one message themselves."""
    email = new_user(dovecot)
    invoices = mail("invoice", 3)
    seed(dovecot, email, "INBOX", invoices)
    before = census(dovecot, email)
    original = enforcement_module.plan_mailbox

    def plan_then_user_moves_one(*args, **kwargs):
        plan = original(*args, **kwargs)
        with session(dovecot, email) as client:
            if not client.folder_exists("Mitt"):
                client.create_folder("Mitt")
            client.select_folder("INBOX")
            client.move([min(client.search(["ALL"]))], "Mitt")
        return plan

    monkeypatch.setattr(enforcement_module, "plan_mailbox", plan_then_user_moves_one)
    summary = run(write_config(tmp_path, dovecot, [email]), ENFORCING)
    outcome = summary.outcomes[0]
    assert (outcome.status, outcome.attempts) == ("ok", 1)
    assert (outcome.applied.moved, outcome.applied.vanished) == (2, 1)
    after = census(dovecot, email)
    assert_exact(before, after)
    assert len(folders_of(after)["Mitt"]) == 1


def test_observe_and_plan_send_no_write_command(dovecot, tmp_path):
    """§4: observe (and plan) compute everything and write nothing to the server."""
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("invoice", 3) + mail("newsletter", 2) + mail("other", 2))
    before = census(dovecot, email)
    with CuttingProxy(dovecot.host, dovecot.port) as proxy:
        observe = run(
            write_config(tmp_path / "o", dovecot, [email], mode="observe", port=proxy.port)
        )
        plan = run(write_config(tmp_path / "p", dovecot, [email], port=proxy.port), dry=True)
        verbs = set(proxy.commands_sent())
    assert observe.outcomes[0].plan.overdue == 7
    assert plan.outcomes[0].plan.to_move == 3 and plan.outcomes[0].plan.to_delete == 2
    writes = {"STORE", "UID STORE", "UID MOVE", "UID COPY", "MOVE", "COPY", "EXPUNGE", "UID EXPUNGE",
              "APPEND", "CREATE", "DELETE", "RENAME", "SELECT", "SUBSCRIBE", "CLOSE"}  # fmt: skip
    assert verbs & writes == set()
    assert "EXAMINE" in verbs
    assert census(dovecot, email) == before


def test_uidvalidity_change_forgets_what_we_flagged(dovecot, tmp_path):
    """§5.3: after a restore gives the INBOX a new UIDVALIDITY, old records mean nothing.

    Otherwise the message now holding UID 1 (the user's own flagged mail) would lose its
    \\Flagged because inboxwarden once flagged a different UID 1.
    """
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("other", 1, OLD))
    config = write_config(tmp_path, dovecot, [email], mode="notify")
    run(config, ENFORCING)
    # A restore: the INBOX is recreated, UIDs start again at 1 under a new UIDVALIDITY.
    maildir = dovecot.maildir(email)
    for sub in ("cur", "new"):
        for f in (maildir / sub).iterdir():
            f.unlink()
    for index in maildir.glob("dovecot*"):
        if index.is_file():
            index.unlink()
        else:
            shutil.rmtree(index)
    users_own = mail("other", 1, NEW)
    seed(dovecot, email, "INBOX", users_own, flags=["\\Flagged"])
    # Within the same second Dovecot would hand out the same UIDVALIDITY (it is a time
    # stamp); a real restore happens later, so give it a later one explicitly.
    status = dovecot.doveadm(
        "-f", "flow", "mailbox", "status", "-u", email, "uidvalidity uidnext", "INBOX"
    )
    assert "uidnext=2" in status
    old = int(status.split("uidvalidity=")[1].split()[0])
    dovecot.doveadm("mailbox", "update", "-u", email, "--uid-validity", str(old + 1000), "INBOX")
    summary = run(config, ENFORCING)
    assert summary.outcomes[0].status == "ok"
    [mid] = ids(users_own)
    assert flags_of(dovecot, email, "INBOX")[mid] == {"\\Flagged"}


def test_legal_hold_mailbox_never_has_anything_deleted(dovecot, tmp_path):
    """§5.5."""
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("newsletter", 3) + mail("invoice", 1))
    config = write_config(tmp_path, dovecot, {email: ",true"})
    summary = run(config, ENFORCING)
    outcome = summary.outcomes[0]
    assert (outcome.applied.deleted, outcome.plan.held, outcome.applied.moved) == (0, 3, 1)
    assert "Trash" not in folders_of(census(dovecot, email))


def test_message_content_is_never_modified(dovecot, tmp_path):
    """§5.6: the moved message is byte for byte the one that arrived."""
    email = new_user(dovecot)
    invoices = mail("invoice", 1)
    seed(dovecot, email, "INBOX", invoices)
    run(write_config(tmp_path, dovecot, [email]), ENFORCING)
    with session(dovecot, email) as client:
        client.select_folder("Bokföring/2026", readonly=True)
        [data] = client.fetch(client.search(["ALL"]), ["BODY.PEEK[]"]).values()
    assert data[b"BODY[]"] == invoices[0][0]


def test_one_failing_mailbox_does_not_stop_the_others(dovecot, tmp_path):
    """§5.7: an unknown user fails (after retries) and the next mailbox is still processed."""
    good = new_user(dovecot)
    seed(dovecot, good, "INBOX", mail("invoice", 2))
    config = write_config(tmp_path, dovecot, ["nobody-here@exempel.se", good])
    summary = run(config, ENFORCING)
    status = {o.mailbox: o.status for o in summary.outcomes}
    assert status == {"nobody-here@exempel.se": "failed", good: "ok"}
    assert summary.outcomes[1].applied.moved == 2


def test_broken_and_odd_messages_are_scanned_without_a_crash(dovecot, tmp_path, corpus_emails):
    email = new_user(dovecot)
    messages = [(path.read_bytes(), OLD) for path in corpus_emails]
    seed(dovecot, email, "INBOX", messages)
    summary = run(write_config(tmp_path, dovecot, [email]), ENFORCING)
    outcome = summary.outcomes[0]
    assert outcome.status == "ok"
    assert outcome.plan.due + outcome.skipped == len(messages)


def test_plan_renders_each_target_folder(dovecot, tmp_path):
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("customer", 2))
    summary = run(write_config(tmp_path, dovecot, [email]), ENFORCING, dry=True)
    decisions = summary.outcomes[0].plan.decisions
    assert [d.target for d in decisions] == ["Kunder/kund.se"] * 2


@pytest.fixture(name="corpus_emails")
def _corpus_emails() -> list[Path]:
    root = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "emails"
    if not root.is_dir():
        pytest.skip("shared corpus of e-mails not available")
    return sorted(p for p in root.rglob("*.eml") if p.stat().st_size < 2_000_000)


def test_personal_data_condition_keeps_invoices_and_deletes_only_clean_newsletters(
    dovecot, tmp_path
):
    """docs/behaviour.md §3 `personal_data`: the detectors decide, reading the text parts on the server."""
    email = new_user(dovecot)
    clean = mail("newsletter", 2)
    with_pnr = [
        (
            make_message(
                subject="Veckans nyheter",
                from_="Nyheter <news@branschnytt.se>",
                to="me@exempel.se",
                list_id="<v.branschnytt.se>",
                body="Grattis 811218-9876 på födelsedagen!",
                message_id=f"<pnr-{i}@test>",
            ),
            OLD,
        )
        for i in range(2)
    ]
    seed(dovecot, email, "INBOX", clean + with_pnr)
    rules = (
        '[[rules]]\nname = "clean-news"\nmatch.list_id = "*"\nmatch.personal_data = false\n'
        'action = "delete"\n'
    )
    summary = run(write_config(tmp_path, dovecot, [email], rules=rules), ENFORCING)
    assert summary.outcomes[0].applied.deleted == 2
    where = folders_of(census(dovecot, email))
    assert where["Trash"] == ids(clean)
    assert where["INBOX"] == ids(with_pnr)


def test_per_employee_mode_overrides_the_default(dovecot, tmp_path):
    """docs/behaviour.md §4: a gradual rollout — the directory's mode wins over mode.default."""
    observed, enforced = new_user(dovecot), new_user(dovecot)
    for email in (observed, enforced):
        seed(dovecot, email, "INBOX", mail("invoice", 2))
    config = write_config(tmp_path, dovecot, {observed: "observe,", enforced: ""}, mode="enforce")
    summary = run(config, ENFORCING)
    by_mailbox = {o.mailbox: o for o in summary.outcomes}
    assert by_mailbox[observed].mode == "observe"
    assert by_mailbox[observed].applied.moved == 0
    assert set(folders_of(census(dovecot, observed))) == {"INBOX"}
    assert by_mailbox[enforced].applied.moved == 2


def test_an_unexpected_error_in_one_mailbox_does_not_stop_the_others(
    dovecot, tmp_path, monkeypatch
):
    """§5.7 holds for bugs too: the crash is reported and the next mailbox is processed."""
    broken, good = new_user(dovecot), new_user(dovecot)
    for email in (broken, good):
        seed(dovecot, email, "INBOX", mail("invoice", 1))
    original = enforcement_module.plan_mailbox

    def plan_or_crash(employee, *args, **kwargs):
        if employee.email == broken:
            raise RuntimeError("a bug")
        return original(employee, *args, **kwargs)

    monkeypatch.setattr(enforcement_module, "plan_mailbox", plan_or_crash)
    summary = run(write_config(tmp_path, dovecot, [broken, good]), ENFORCING)
    status = {o.mailbox: (o.status, o.error) for o in summary.outcomes}
    assert status == {broken: ("failed", "RuntimeError"), good: ("ok", None)}
