"""Digests delivered into the real test Dovecot and read back over IMAP (docs/behaviour.md §7).

Each test seeds a fresh mailbox, sends the digest through the same engine the CLI
builds, and reads the INBOX back with a separate client: the MIME structure, the
headers, the masked subjects, the replacement of older digests, and that the engine
leaves its own digest alone afterwards.
"""

from __future__ import annotations

import email.utils
import re
from datetime import datetime, timedelta

import pytest
from structlog.testing import capture_logs

from inboxwarden.demo.localserver import capability_without
from inboxwarden.demo.outputs import demo_digests
from inboxwarden.policy.message import OWN_MESSAGE_HEADER
from inboxwarden.reports import send_digests
from inboxwarden.reports.marker import is_our_digest
from tests.kit.census import census, flags_of
from tests.kit.engine import GRACE, NEW, OLD, STOCKHOLM, run, runner_for
from tests.kit.seeding import make_message, seed
from tests.kit.servers import new_user, special_server
from tests.reports.mailkit import POLICY_URL, SENDER, configure, digests_in
from tests.reports.smtpkit import smtp_server

pytestmark = pytest.mark.imap

REMINDER = datetime(2026, 11, 6, 8, 0, tzinfo=STOCKHOLM)  # one business day before E (9 Nov)
PERSONNUMMER = "770923-1232"
PHONE = "070-123 45 67"


def planted(email_address: str) -> list[tuple[bytes, datetime]]:
    """A mailbox with one message per outcome, two of them with personal data in the subject."""

    def msg(subject, sender, when, list_id=None, n=0):
        return (
            make_message(
                subject=subject,
                from_=sender,
                to=email_address,
                list_id=list_id,
                message_id=f"<m{n}-{email_address}>",
            ),
            when + timedelta(minutes=n),
        )

    return [
        msg(f"Faktura för {PERSONNUMMER}", "Fortnox <faktura@fortnox.se>", OLD, n=1),
        msg("Veckans nyheter", "Nyheter <news@branschnytt.se>", OLD, "<v.branschnytt.se>", n=2),
        msg(f"Ring mig på {PHONE}", "Per Holm <per@annat.se>", OLD, n=3),
        msg("Ärende 4471", "Lena <lena@kund.se>", OLD, n=4),
        msg("Kom nyss", "Per Holm <per@annat.se>", NEW, n=5),  # not due
    ]


def rows(*lines: str) -> str:
    return "email,language,legal_hold,mode\n" + "\n".join(lines) + "\n"


def test_the_digest_lands_in_the_inbox_as_a_proper_unread_mime_message(dovecot, tmp_path):
    anna = new_user(dovecot)
    seed(dovecot, anna, "INBOX", planted(anna))
    runner = runner_for(configure(tmp_path, dovecot, rows(f"{anna},,,")))
    try:
        with capture_logs() as events:
            [outcome] = send_digests(runner, runner.window(GRACE))
        trail = runner.state.audit_trail(anna)
    finally:
        runner.state.close()
    [done] = [e for e in events if e["event"] == "digest_done"]
    assert (done["status"], done["due"], done["kind"]) == ("sent", 4, "boundary")
    logged = repr(events)
    for secret in ("770923", "Faktura", "Ring mig", "fortnox.se", "per@annat.se", "lena@kund.se"):
        assert secret not in logged
    assert (outcome.status, outcome.kind, outcome.due, outcome.delivery) == (
        "sent",
        "boundary",
        4,
        "imap",
    )

    [digest] = digests_in(dovecot, anna)
    message = digest.message
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["From"] == SENDER
    assert message["To"] == anna
    assert email.utils.parsedate_to_datetime(message["Date"]) == GRACE
    assert digest.internaldate == GRACE
    assert re.fullmatch(r"<[^@<>\s]+@exempel\.se>", message["Message-ID"])
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "sv"
    assert message["Subject"] == "Inkorgen: 4 meddelanden att sortera före 9 november"
    assert is_our_digest(message[OWN_MESSAGE_HEADER], runner.referencer, anna)
    assert "\\Seen" not in digest.flags  # it should be noticed

    text, html = digest.part("plain"), digest.part("html")
    for part in (text, html):
        assert "Faktura för 770923-****" in part
        assert "Ring mig på 070-*** ** 67" in part
        assert PERSONNUMMER not in part and PHONE not in part
        assert "Kom nyss" not in part  # not due
        assert "Bokföring/2026" in part and "Kunder/kund.se" in part
        assert POLICY_URL in part
    assert "Ska flyttas till en mapp" in html and "Saknar regel" in html
    assert PERSONNUMMER.encode() not in digest.raw

    [event] = trail
    assert (event["action"], event["folder"], event["rule"]) == ("digest", "INBOX", None)
    assert re.fullmatch(r"[0-9a-f]{24}", event["ref"])


def test_a_new_digest_replaces_the_older_one_and_nothing_else(dovecot, tmp_path):
    anna = new_user(dovecot)
    seed(dovecot, anna, "INBOX", planted(anna))
    own_deleted = make_message(
        subject="Min egen", from_="x@annat.se", to=anna, message_id="<own-deleted@x>"
    )
    seed(dovecot, anna, "INBOX", [(own_deleted, NEW)], flags=["\\Deleted"])
    forged = make_message(
        subject="Inte från oss", from_="x@annat.se", to=anna, message_id="<forged@x>"
    )
    forged = forged.replace(
        b"Subject:",
        f"{OWN_MESSAGE_HEADER}: digest; id=0123456789abcdef; mac={'0' * 24}\r\nSubject:".encode(),
        1,
    )
    seed(dovecot, anna, "INBOX", [(forged, NEW)])
    config = configure(tmp_path, dovecot, rows(f"{anna},,,"))

    runner = runner_for(config)
    try:
        [first] = send_digests(runner, runner.window(GRACE))
        [second] = send_digests(runner, runner.window(REMINDER))
        trail = runner.state.audit_trail(anna)
    finally:
        runner.state.close()
    assert (first.replaced, second.replaced, second.kind) == (0, 1, "reminder")

    found = digests_in(dovecot, anna)
    ours = [
        d for d in found if is_our_digest(d.message[OWN_MESSAGE_HEADER], runner.referencer, anna)
    ]
    assert len(ours) == 1
    assert ours[0].message["Subject"].startswith("Påminnelse: 4 meddelanden")
    # The stranger's forged header is not ours: it stays. So does the user's own \Deleted mail.
    assert [d.message["Message-ID"] for d in found if d not in ours] == ["<forged@x>"]
    assert "\\Deleted" in flags_of(dovecot, anna, "INBOX")["<own-deleted@x>"]
    assert [e["action"] for e in trail] == ["digest", "digest", "digest_remove"]


def test_the_engine_never_flags_or_files_its_own_digest(dovecot, tmp_path):
    anna = new_user(dovecot)
    seed(dovecot, anna, "INBOX", planted(anna))
    runner = runner_for(configure(tmp_path / "notify", dovecot, rows(f"{anna},,,")))
    try:
        send_digests(runner, runner.window(GRACE))
    finally:
        runner.state.close()
    [digest] = digests_in(dovecot, anna)

    # Long after the digest arrived, with a rule that deletes everything overdue.
    later = datetime(2026, 12, 20, 3, 0, tzinfo=STOCKHOLM)
    config = configure(
        tmp_path / "enforce",
        dovecot,
        rows(f"{anna},,,"),
        mode="enforce",
        rules='[default_rule]\naction = "delete"\n',
    )
    summary = run(config, later)
    assert summary.outcomes[0].applied.deleted == 5  # everything else went
    [still] = digests_in(dovecot, anna)
    assert still.uid == digest.uid
    assert still.flags == frozenset()
    assert {folder for folder, _ in census(dovecot, anna)} == {"INBOX", "Trash"}


def test_language_hold_and_mode_come_from_the_directory(dovecot, tmp_path):
    bjorn, carin, dora, emil = (new_user(dovecot) for _ in range(4))
    for user in (bjorn, carin, dora):
        seed(dovecot, user, "INBOX", planted(user))
    seed(dovecot, emil, "INBOX", planted(emil)[-1:])  # only a new message: nothing due
    config = configure(
        tmp_path,
        dovecot,
        rows(f"{bjorn},en,,", f"{carin},,true,", f"{dora},,,observe", f"{emil},,,"),
    )
    runner = runner_for(config)
    try:
        send_digests(runner, runner.window(GRACE))
        outcomes = {o.mailbox: o for o in send_digests(runner, runner.window(REMINDER))}
    finally:
        runner.state.close()
    assert {m: o.status for m, o in outcomes.items()} == {
        bjorn: "sent",
        carin: "sent",
        dora: "skipped",
        emil: "nothing_due",
    }
    [english] = digests_in(dovecot, bjorn)
    assert english.message["Subject"] == "Reminder: 4 messages to sort before 9 November"
    assert english.message["Content-Language"] == "en"
    assert "How to keep a message" in english.part("html")
    # Legal hold: nothing is deleted from the mailbox, not even our older digest.
    assert outcomes[carin].replaced == 0
    assert len(digests_in(dovecot, carin)) == 2
    assert digests_in(dovecot, dora) == [] and digests_in(dovecot, emil) == []


def test_digests_go_by_smtp_when_so_configured(dovecot, tmp_path):
    anna = new_user(dovecot)
    seed(dovecot, anna, "INBOX", planted(anna))
    with smtp_server("plain", tmp_path) as smtp:
        extra = f'delivery = "smtp"\n[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "plain"\n'
        runner = runner_for(configure(tmp_path / "cfg", dovecot, rows(f"{anna},,,"), extra=extra))
        try:
            [outcome] = send_digests(runner, runner.window(GRACE))
        finally:
            runner.state.close()
    assert (outcome.status, outcome.delivery) == ("sent", "smtp")
    [got] = smtp.received
    assert got.rcpt_tos == [anna]
    assert is_our_digest(got.message[OWN_MESSAGE_HEADER], runner.referencer, anna)
    assert "Faktura för 770923-****" in got.message.get_body(("plain",)).get_content()
    assert digests_in(dovecot, anna) == []  # not appended as well


def test_a_mailbox_that_fails_does_not_stop_the_others(dovecot, tmp_path):
    anna, ghost = new_user(dovecot), "ghost@exempel.se"  # no such user on the server
    seed(dovecot, anna, "INBOX", planted(anna))
    runner = runner_for(configure(tmp_path, dovecot, rows(f"{ghost},,,", f"{anna},,,")))
    try:
        outcomes = {o.mailbox: o for o in send_digests(runner, runner.window(GRACE))}
    finally:
        runner.state.close()
    assert outcomes[anna].status == "sent"
    assert outcomes[ghost].status == "failed" and outcomes[ghost].error


def test_the_demo_keeps_a_copy_of_each_digest(dovecot, tmp_path):
    anna = new_user(dovecot)
    seed(dovecot, anna, "INBOX", planted(anna))
    runner = runner_for(configure(tmp_path / "cfg", dovecot, rows(f"{anna},,,")))
    try:
        written = demo_digests(runner, tmp_path / "out", GRACE)
    finally:
        runner.state.close()
    assert sorted(p.name for p in written) == [f"{anna}.eml", f"{anna}.html"]
    assert "Faktura för 770923-****" in (tmp_path / "out" / "digests" / f"{anna}.html").read_text()
    assert len(digests_in(dovecot, anna)) == 1


def test_without_uidplus_older_digests_go_to_the_trash(tmp_path):
    """No UID EXPUNGE without UIDPLUS (RFC 4315), so the old digest is moved, not expunged."""
    with special_server(imap_capability=capability_without("UIDPLUS")) as server:
        anna = new_user(server)
        seed(server, anna, "INBOX", planted(anna))
        runner = runner_for(configure(tmp_path, server, rows(f"{anna},,,")))
        try:
            send_digests(runner, runner.window(GRACE))
            [second] = send_digests(runner, runner.window(REMINDER))
            trail = runner.state.audit_trail(anna)
        finally:
            runner.state.close()
        assert second.replaced == 1
        [kept] = digests_in(server, anna)
        assert kept.message["Subject"].startswith("Påminnelse")
        [moved] = digests_in(server, anna, "Trash")
        assert moved.message["Subject"].startswith("Inkorgen")
    assert trail[-1]["action"] == "digest_remove" and trail[-1]["target"] == "Trash"
