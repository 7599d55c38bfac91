"""The hard-delete path (``purge = true``) and the legal-hold guard inside the actions.

Both against the test Dovecot; the census comes from doveadm, not from inboxwarden.
"""

from __future__ import annotations

from collections import Counter

import pytest

from inboxwarden.errors import PolicyError
from inboxwarden.mailbox.actions import apply_batches
from inboxwarden.mailbox.selected import SelectedFolder
from inboxwarden.policy.people import Employee
from inboxwarden.policy.planning import Batch, MailboxPlan
from tests.kit.census import census, flags_of
from tests.kit.engine import ENFORCING, NEW, RULES, mail, run, runner_for, write_config
from tests.kit.seeding import seed
from tests.kit.servers import new_user

pytestmark = pytest.mark.imap

PURGE_RULES = RULES.replace(
    'match.list_id = "*"\naction = "delete"', 'match.list_id = "*"\naction = "delete"\npurge = true'
)


def ids(messages) -> set[str]:
    return {raw.split(b"Message-ID: ", 1)[1].split(b"\r\n", 1)[0].decode() for raw, _ in messages}


def by_id(counts: Counter) -> Counter:
    out: Counter[str] = Counter()
    for (_folder, mid), n in counts.items():
        out[mid] += n
    return out


def test_purge_deletes_exactly_the_rules_messages_from_every_folder(dovecot, tmp_path):
    """purge = true expunges the newsletters for good (not to Trash), by UID: the user's
    own \\Deleted message and everything else stay, and each purge is audited."""
    assert PURGE_RULES != RULES
    email = new_user(dovecot)
    news, invoices = mail("newsletter", 3), mail("invoice", 2)
    users_deleted = mail("other", 1, NEW)
    seed(dovecot, email, "INBOX", users_deleted, flags=["\\Deleted"])
    seed(dovecot, email, "INBOX", news + invoices)
    before = by_id(census(dovecot, email))
    config = write_config(tmp_path, dovecot, [email], rules=PURGE_RULES)

    summary = run(config, ENFORCING)

    [outcome] = summary.outcomes
    assert outcome.status == "ok", outcome.error
    assert (outcome.applied.deleted, outcome.applied.moved) == (3, 2)
    after = by_id(census(dovecot, email))
    assert after == before - Counter(dict.fromkeys(ids(news), 1))
    assert not any(folder == "Trash" for folder, _ in census(dovecot, email))
    inbox = flags_of(dovecot, email, "INBOX")
    assert all("\\Deleted" in inbox[m] for m in ids(users_deleted))
    runner = runner_for(config)
    try:
        events = runner.state.audit_trail(email)
    finally:
        runner.state.close()
    purged = [e for e in events if e["action"] == "purge"]
    assert len(purged) == 3 and {e["rule"] for e in purged} == {"newsletters"}


@pytest.mark.parametrize("kind", ["delete", "purge"])
def test_the_actions_refuse_a_delete_batch_in_a_mailbox_on_legal_hold(dovecot, tmp_path, kind):
    """Even a plan that (wrongly) holds a delete batch for a held mailbox deletes nothing."""
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("newsletter", 2))
    before = census(dovecot, email)
    runner = runner_for(write_config(tmp_path, dovecot, {email: ",true"}))
    [entry] = runner.chosen(None)
    assert entry.legal_hold
    plan = MailboxPlan(employee=Employee(email, legal_hold=True), mode="enforce", inbox=2)
    plan.batches.append(Batch(kind, "newsletters", "Trash" if kind == "delete" else None, (1, 2)))
    try:
        with runner.login.open(entry) as session:
            folder = session.select("INBOX", readonly=False)
            target = SelectedFolder(
                session,
                runner.state,
                runner.state.start_run("run", ENFORCING),
                email,
                "INBOX",
                folder.uidvalidity,
                runner.referencer,
            )
            by_uid = {
                m.uid: m for m in session.fetch_messages([1, 2], header_fields=["message-id"])
            }
            with pytest.raises(PolicyError, match="legal hold"):
                apply_batches(target, plan, by_uid, "$InboxWardenDue", batch_size=100)
        assert runner.state.audit_trail(email) == []
    finally:
        runner.state.close()
    assert census(dovecot, email) == before


def test_a_move_batch_is_still_applied_in_a_mailbox_on_legal_hold(dovecot, tmp_path):
    """The guard stops deletes only: filing a held mailbox's mail keeps it."""
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", mail("invoice", 2))
    runner = runner_for(write_config(tmp_path, dovecot, {email: ",true"}))
    [entry] = runner.chosen(None)
    plan = MailboxPlan(employee=Employee(email, legal_hold=True), mode="enforce", inbox=2)
    plan.batches.append(Batch("move", "invoices", "Bokföring/2026", (1, 2)))
    try:
        with runner.login.open(entry) as session:
            folder = session.select("INBOX", readonly=False)
            target = SelectedFolder(
                session,
                runner.state,
                runner.state.start_run("run", ENFORCING),
                email,
                "INBOX",
                folder.uidvalidity,
                runner.referencer,
            )
            by_uid = {
                m.uid: m for m in session.fetch_messages([1, 2], header_fields=["message-id"])
            }
            done = apply_batches(target, plan, by_uid, "$InboxWardenDue", batch_size=100)
    finally:
        runner.state.close()
    assert done.moved == 2
    assert {folder for folder, _ in census(dovecot, email)} == {"Bokföring/2026"}
