"""The fan-out scan end to end against Dovecot: exactly the expected findings, no values."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from click.testing import CliRunner
from structlog.testing import capture_logs

from inboxwarden.cli.commands import main
from inboxwarden.fanout.job import run_fanout
from inboxwarden.fanout.recipients import count_recipients
from tests.kit.engine import STOCKHOLM, runner_for, write_config
from tests.kit.seeding import make_message, seed
from tests.kit.servers import new_user, session

pytestmark = pytest.mark.imap
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=STOCKHOLM)
RECENT = NOW - timedelta(days=2)
PNR = "811218-9876"  # valid check digit, made-up person
PHONE = "070-174 06 05"  # PTS range reserved for fiction
INTERNAL = [f"kollega{i}@exempel.se" for i in range(5)]
EXTERNAL = [f"person{i}@kund.se" for i in range(4)]


def html_message(mid: str, cc: list[str]) -> bytes:
    msg = EmailMessage()
    msg["From"] = "me@exempel.se"
    msg["To"] = "lena@kund.se"
    msg["Cc"] = ", ".join(cc)
    msg["Subject"] = "Underlag"
    msg["Date"] = format_datetime(RECENT)
    msg["Message-ID"] = mid
    msg.set_content("Se HTML-delen.")
    msg.add_alternative(
        f"<html><body><p>Kundens personnummer &auml;r <b>{PNR}</b>.</p></body></html>",
        subtype="html",
        cte="base64",
    )
    return msg.as_bytes()


def sent(mid: str, *, to, cc=(), body="Hej, här kommer protokollet.", when=RECENT, attachment=None):
    return (
        make_message(
            subject="Protokoll",
            from_="Me <me@exempel.se>",
            to=to,
            cc=cc,
            body=body,
            message_id=mid,
            attachment=attachment,
        ),
        when,
    )


@pytest.fixture(name="fanout_mailbox")
def _fanout_mailbox(dovecot, tmp_path):
    email = new_user(dovecot)
    seed(
        dovecot,
        email,
        "Sent",
        [
            sent("<high@t>", to=EXTERNAL[:1], cc=EXTERNAL[1:] + INTERNAL[:1], body=f"Pnr {PNR}."),
            sent("<medium@t>", to=INTERNAL[:1], cc=INTERNAL[1:], body=f"Ring mig på {PHONE}."),
            sent("<clean@t>", to=INTERNAL[:1], cc=INTERNAL[1:], body="Inga personuppgifter här."),
            sent("<few@t>", to=EXTERNAL[:1], cc=INTERNAL[:1], body=f"Pnr {PNR}."),
            sent(
                "<old@t>",
                to=INTERNAL[:1],
                cc=INTERNAL[1:],
                body=f"Pnr {PNR}.",
                when=NOW - timedelta(days=30),
            ),
            sent(
                "<attached@t>",
                to=INTERNAL[:1],
                cc=INTERNAL[1:],
                attachment=(f"lonebesked {PNR}.pdf", b"%PDF-1.4 not scanned"),
            ),
            (html_message("<html@t>", INTERNAL[:4]), RECENT),
        ],
    )
    seed(
        dovecot,
        email,
        "INBOX",
        [sent("<inbox@t>", to=["me@exempel.se"], cc=INTERNAL[:4], body=f"Mitt nummer: {PHONE}")],
    )
    config = write_config(tmp_path, dovecot, [email])
    return email, config


def test_sent_and_inbox_yield_exactly_the_expected_findings(fanout_mailbox, dovecot):
    email, config = fanout_mailbox
    runner = runner_for(config)
    outcomes = run_fanout(runner, NOW)
    refs = refs_on_server(runner.referencer, dovecot, email)
    found = {refs[f.ref]: f for f in outcomes[0].findings}
    assert set(found) == {"high@t", "medium@t", "attached@t", "html@t", "inbox@t"}
    assert found["high@t"].severity == "high"
    assert (found["high@t"].recipients, found["high@t"].cc, found["high@t"].external) == (5, 4, 4)
    assert {k.value for k in found["medium@t"].kinds} == {"phone"}
    assert found["medium@t"].severity == "medium"
    assert {k.value for k in found["html@t"].kinds} == {"personnummer"}
    assert {k.value for k in found["attached@t"].kinds} == {"personnummer"}
    assert found["inbox@t"].folder == "INBOX"
    stored = runner.state.list_findings(email)
    assert len(stored) == 5
    # A second scan finds the same messages and stores nothing twice.
    run_fanout(runner, NOW)
    assert len(runner.state.list_findings(email)) == 5
    sent_scan = next(f for f in outcomes[0].folders if f.folder == "Sent")
    assert (sent_scan.messages, sent_scan.candidates) == (6, 5)  # the old one is out of the window


def test_no_value_or_address_reaches_logs_database_or_cli(fanout_mailbox, tmp_path):
    _email, config = fanout_mailbox
    with capture_logs() as logs:
        run_fanout(runner_for(config), NOW)
    runner = CliRunner()
    results = [
        runner.invoke(main, ["--config", str(config), "fanout", "--now", NOW.isoformat(), *fmt])
        for fmt in ([], ["--format", "json"])
    ]
    outputs = [r.output for r in results]  # stdout and stderr (the logs) together
    database = (tmp_path / "state.db").read_bytes()
    planted = [PNR, PNR.replace("-", ""), "0701740605", "174 06 05", *EXTERNAL, *INTERNAL]
    for value in planted:
        assert value not in json.dumps(logs, default=str)
        assert value.encode() not in database
        for output in outputs:
            assert value not in output
    assert [r.exit_code for r in results] == [0, 0]
    parsed = json.loads(results[1].stdout)
    assert {f["severity"] for f in parsed["findings"]} == {"high", "medium"}
    assert set(parsed["findings"][0]) == {
        "mailbox", "folder", "date", "ref", "recipients", "cc", "external", "kinds", "severity"
    }  # fmt: skip


def refs_on_server(referencer, server, email):
    """Each message's reference (Message-ID, arrival, size) → its Message-ID, read over IMAP."""
    out = {}
    with session(server, email) as client:
        client.normalise_times = False
        for folder in ("Sent", "INBOX"):
            client.select_folder(folder, readonly=True)
            fetched = client.fetch(
                client.search(["ALL"]),
                ["INTERNALDATE", "RFC822.SIZE", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"],
            )
            for data in fetched.values():
                raw = data[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode()
                message_id = raw.split(":", 1)[1].strip().strip("<>")
                ref = referencer.ref_for(message_id, data[b"INTERNALDATE"], data[b"RFC822.SIZE"])
                out[ref] = message_id
    return out


def test_a_stop_during_the_scan_leaves_the_mailbox_stopped_with_nothing_stored(
    fanout_mailbox, monkeypatch
):
    """SIGTERM while a folder is read: the scan stops between two messages."""
    email, config = fanout_mailbox
    runner = runner_for(config)

    def count_then_stop(*args, **kwargs):
        runner.stop.set()  # the signal arrives after the first message was read
        return count_recipients(*args, **kwargs)

    monkeypatch.setattr("inboxwarden.fanout.folder_scan.count_recipients", count_then_stop)
    try:
        [outcome] = run_fanout(runner, NOW)
        assert (outcome.status, outcome.findings) == ("stopped", [])
        assert runner.state.list_findings(email) == []
    finally:
        runner.state.close()
