"""Hostile messages in the fan-out scan against Dovecot: forwarded data is found, and
one message with thousands of parts neither fails the mailbox nor passes as clean."""

from __future__ import annotations

import email
from datetime import datetime, timedelta
from email.message import EmailMessage, Message
from email.policy import SMTP
from email.utils import format_datetime

import pytest
from structlog.testing import capture_logs

from inboxwarden.fanout.job import fanout_table, run_fanout
from tests.kit.engine import STOCKHOLM, runner_for, write_config
from tests.kit.seeding import make_message, seed
from tests.kit.servers import new_user

pytestmark = pytest.mark.imap
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=STOCKHOLM)
RECENT = NOW - timedelta(days=2)
PNR = "811218-9876"  # valid check digit, made-up person
EXTERNAL = [f"person{i}@kund.se" for i in range(13)]


def _outer(mid: str, subject: str = "Fwd: Underlag") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "me@exempel.se"
    msg["To"] = EXTERNAL[0]
    msg["Cc"] = ", ".join(EXTERNAL[1:])
    msg["Subject"] = subject
    msg["Date"] = format_datetime(RECENT)
    msg["Message-ID"] = mid
    msg.set_content("Vidarebefordrar, se bifogat.")
    return msg


def _parsed(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=SMTP)


def forwarded(mid: str, inner_body: str = f"Kundens personnummer: {PNR}") -> bytes:
    """A forward: the original message attached whole, as ``message/rfc822``."""
    inner = make_message(
        subject="Underlag", from_="lena@kund.se", to="me@exempel.se", body=inner_body
    )
    outer = _outer(mid)
    outer.add_attachment(_parsed(inner))
    return outer.as_bytes(policy=SMTP)


def forwarded_twice(mid: str) -> bytes:
    """A forward of a forward whose original is multipart: the data sits at ``2.2.1``."""
    original = EmailMessage()
    original["Subject"], original["From"], original["To"] = "Lön", "hr@kund.se", "lena@kund.se"
    original.set_content("Se HTML-delen.")
    original.add_alternative(f"<p>Personnummer <b>{PNR}</b></p>", subtype="html", cte="base64")
    middle = _outer("<middle@t>", "Fwd: Lön")
    middle.add_attachment(_parsed(original.as_bytes(policy=SMTP)))
    outer = _outer(mid, "Fwd: Fwd: Lön")
    outer.add_attachment(_parsed(middle.as_bytes(policy=SMTP)))
    return outer.as_bytes(policy=SMTP)


def forwarded_subject(mid: str) -> bytes:
    """A forward whose only personal data is the attached message's subject."""
    inner = make_message(subject=f"Ang. {PNR}", from_="lena@kund.se", to="me@exempel.se")
    outer = _outer(mid)
    outer.add_attachment(_parsed(inner))
    return outer.as_bytes(policy=SMTP)


def many_parts(mid: str, parts: int = 3000) -> bytes:
    """One message with *parts* small text parts, its only personnummer in the last one."""
    head = (
        f"From: me@exempel.se\r\nTo: {EXTERNAL[0]}\r\nCc: {', '.join(EXTERNAL[1:])}\r\n"
        f"Subject: Loggar\r\nDate: {format_datetime(RECENT)}\r\nMessage-ID: {mid}\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
    )
    body = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\nRad {i}\r\n" for i in range(parts - 1))
    body += f"--b\r\nContent-Type: text/plain\r\n\r\nPnr {PNR}\r\n--b--\r\n"
    return (head + body).encode("ascii")


def plain(mid: str) -> bytes:
    """The same personnummer written in the message itself (the case that always worked)."""
    return make_message(
        subject="Underlag",
        from_="me@exempel.se",
        to=EXTERNAL[0],
        cc=EXTERNAL[1:],
        body=f"Kundens personnummer: {PNR}",
        message_id=mid,
    )


def _scan(dovecot, tmp_path, messages: dict[str, bytes]):
    """Run the fan-out scan over *messages* in Sent; findings by the Message-ID given.

    Each message arrives a minute after the previous one, so a finding's date names it.
    """
    mailbox = new_user(dovecot)
    arrivals = {RECENT + timedelta(minutes=i): mid for i, mid in enumerate(messages)}
    seed(dovecot, mailbox, "Sent", [(messages[mid], when) for when, mid in arrivals.items()])
    runner = runner_for(write_config(tmp_path, dovecot, [mailbox]))
    with capture_logs() as logs:
        outcome = run_fanout(runner, NOW)[0]
    return outcome, {arrivals[f.date]: f for f in outcome.findings}, logs


def test_personal_data_in_forwarded_messages_is_a_high_fanout_finding(dovecot, tmp_path):
    """Issue 8: a personnummer inside an attached message/rfc822 (also nested, also only
    in the attached message's subject), sent to 13 external recipients, is found like
    the same text written inline."""
    outcome, found, _ = _scan(
        dovecot,
        tmp_path,
        {
            "<inline@t>": plain("<inline@t>"),
            "<fwd@t>": forwarded("<fwd@t>"),
            "<fwd2@t>": forwarded_twice("<fwd2@t>"),
            "<fwdsubject@t>": forwarded_subject("<fwdsubject@t>"),
            "<fwdclean@t>": forwarded("<fwdclean@t>", inner_body="Inga personuppgifter här."),
        },
    )
    assert outcome.status == "ok"
    assert set(found) == {"<inline@t>", "<fwd@t>", "<fwd2@t>", "<fwdsubject@t>"}
    for finding in found.values():
        assert {k.value for k in finding.kinds} == {"personnummer"}
        assert (finding.severity, finding.external) == ("high", 13)
    assert outcome.folders[0].unreadable == 0


def test_a_message_with_3000_text_parts_is_counted_unreadable_not_failed(dovecot, tmp_path):
    """Issue 7: the partial fetch of 3,000 parts no longer fails the mailbox (``BAD …
    command line too large``); the message is over the bound, so it is counted as not
    read, and the other candidates are still scanned and found."""
    outcome, found, logs = _scan(
        dovecot,
        tmp_path,
        {"<big@t>": many_parts("<big@t>"), "<inline@t>": plain("<inline@t>")},
    )
    assert (outcome.status, outcome.error) == ("ok", None)
    assert set(found) == {"<inline@t>"}
    sent = outcome.folders[0]
    assert (sent.candidates, sent.unreadable) == (2, 1)
    assert "1 could not be read" in fanout_table([outcome])
    scanned = [e for e in logs if e["event"] == "fanout_folder_scanned"]
    assert scanned[0]["unreadable"] == 1
