"""The weekly report end to end: real runs, real state, sent to a real SMTP server.

The mailboxes are full of planted personal data — personnummer, phone numbers, IBANs,
correspondents' addresses in subjects, senders and bodies — and none of it may appear
in what the manager receives or in the files written (docs/behaviour.md §7).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email import message_from_bytes
from email.policy import default

import pytest

from inboxwarden.demo.outputs import demo_report
from inboxwarden.reports import build_reports, report_table, send_reports
from inboxwarden.reports.weeks import IsoWeek
from tests.kit.engine import STOCKHOLM, runner_for, scan
from tests.kit.seeding import make_message, seed
from tests.kit.servers import new_user
from tests.reports.mailkit import configure
from tests.reports.smtpkit import smtp_server

pytestmark = pytest.mark.imap

WEEK45 = datetime(2026, 11, 3, 3, 0, tzinfo=STOCKHOLM)  # grace period: due, not overdue
WEEK46 = datetime(2026, 11, 10, 3, 0, tzinfo=STOCKHOLM)  # after E: the rules act
REPORT_AT = datetime(2026, 11, 16, 7, 0, tzinfo=STOCKHOLM)
OCTOBER = datetime(2026, 10, 6, 9, 0, tzinfo=STOCKHOLM)

SECRETS = [
    "770923-1232",
    "19811218-9876",
    "811218-9876",
    "070-123 45 67",
    "+46 70 123 45 67",
    "SE45 5000 0000 0583 9825 7466",
    "4111 1111 1111 1111",
    "lena.ek@kund.se",
    "per.holm@annat.se",
    "anna.svensson@privat.se",
    "fortnox.se",
    "Hemlig offert Zeta",
    "Lönespecifikation",
    "Diagnos",
    "Per Holm",
    "Lena Ek",
]


def planted(to: str) -> list[tuple[bytes, datetime]]:
    """Messages that leak personal data everywhere a report could pick it up."""
    mail = [
        (
            "Faktura 770923-1232",
            "Fortnox <faktura@fortnox.se>",
            "Kund 19811218-9876, IBAN SE45 5000 0000 0583 9825 7466",
        ),
        (
            "Hemlig offert Zeta till lena.ek@kund.se",
            "Lena Ek <lena.ek@kund.se>",
            "Ring 070-123 45 67 eller +46 70 123 45 67",
        ),
        (
            "Lönespecifikation 811218-9876",
            "Per Holm <per.holm@annat.se>",
            "Kort 4111 1111 1111 1111, anna.svensson@privat.se",
        ),
        (
            "Diagnos för 19811218-9876",
            "Per Holm <per.holm@annat.se>",
            "Vidarebefordrat från anna.svensson@privat.se",
        ),
        ("Nyhetsbrev", "Nyheter <news@branschnytt.se>", "Avregistrera: anna.svensson@privat.se"),
    ]
    return [
        (
            make_message(
                subject=subject,
                from_=sender,
                to=to,
                cc=["anna.svensson@privat.se"],
                body=body,
                list_id="<v.branschnytt.se>" if "Nyhet" in subject else None,
            ),
            OCTOBER + timedelta(hours=n),
        )
        for n, (subject, sender, body) in enumerate(mail)
    ]


def visible_text(raw: bytes) -> str:
    """Everything a reader could see: headers and every decoded text part."""
    message = message_from_bytes(raw, policy=default)
    texts = [str(v) for _, v in message.items()]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            texts.append(part.get_content())
            texts += [str(v) for _, v in part.items()]
    return "\n".join(texts)


def test_the_report_counts_the_team_and_carries_no_personal_data(dovecot, tmp_path):
    anna, bjorn = new_user(dovecot, "anna"), new_user(dovecot, "bjorn")
    for user in (anna, bjorn):
        seed(dovecot, user, "INBOX", planted(user))
    directory = (
        "email,manager,team,legal_hold\n"
        f"{anna},maria.chef@exempel.se,Support,\n"
        f"{bjorn},maria.chef@exempel.se,Support,true\n"
    )
    with smtp_server("plain", tmp_path) as smtp:
        smtp_config = f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "plain"\n'
        config = configure(tmp_path / "cfg", dovecot, directory, mode="enforce", extra=smtp_config)
        runner = runner_for(config)
        try:
            scan(runner, WEEK45)
            scan(runner, WEEK46)
            reports = build_reports(runner.settings, runner.state, runner.directory, now=REPORT_AT)
            outcomes = send_reports(reports, runner.settings, out_dir=tmp_path / "reports")
        finally:
            runner.state.close()

    [report] = reports
    assert (report.manager, report.week, report.teams) == (
        "maria.chef@exempel.se",
        IsoWeek(2026, 46),
        ("Support",),
    )
    a, b = report.members
    assert a.this_week is not None and b.this_week is not None
    # anna: the invoice and the customer's mail were filed, the newsletter deleted; the
    # two messages no rule covers stay, overdue.
    assert (a.this_week.inbox, a.this_week.moved, a.this_week.deleted, a.this_week.overdue) == (
        2,
        2,
        1,
        2,
    )
    # bjorn is on legal hold: the newsletter is held, not deleted.
    assert (b.this_week.moved, b.this_week.deleted, b.this_week.overdue) == (2, 0, 3)
    assert a.last_week is not None and a.last_week.overdue == 0 and a.overdue_change == 2
    assert report.team_compliance == 0.0
    assert [p.overdue for p in report.trend][-2:] == [0, 5]

    [outcome] = outcomes
    assert outcome.status == "sent"
    eml = next(p for p in outcome.files if p.suffix == ".eml")
    html = next(p for p in outcome.files if p.suffix == ".html")
    assert eml.name == "2026-W46_maria.chef@exempel.se.eml"
    [got] = smtp.received
    assert got.rcpt_tos == ["maria.chef@exempel.se"]
    message = got.message
    assert message["Subject"] == "Veckorapport v. 46: 0 av 2 i teamet utan försenade meddelanden"
    [chart] = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert f"cid:{chart['Content-ID'].strip('<>')}" in message.get_body(("html",)).get_content()
    assert "data:image/png;base64," in html.read_text()
    assert "sent" in report_table(outcomes)

    readable = {
        "received": visible_text(got.data),
        "eml": visible_text(eml.read_bytes()),
        "html": html.read_text(encoding="utf-8"),
    }
    for where, text in readable.items():
        assert anna in text, where  # the team member is named: that is the point
        for secret in SECRETS:
            assert secret.lower() not in text.lower(), (where, secret)


def test_a_dry_run_writes_the_files_and_sends_nothing(dovecot, tmp_path):
    anna = new_user(dovecot, "anna")
    seed(dovecot, anna, "INBOX", planted(anna))
    config = configure(
        tmp_path / "cfg", dovecot, f"email,manager\n{anna},maria.chef@exempel.se\n", mode="enforce"
    )
    runner = runner_for(config)
    try:
        scan(runner, WEEK46)
        reports = build_reports(
            runner.settings, runner.state, runner.directory, now=REPORT_AT, week="2026-W46"
        )
        outcomes = send_reports(reports, runner.settings, out_dir=tmp_path / "out", dry_run=True)
        written = demo_report(runner, tmp_path / "demo", REPORT_AT)
    finally:
        runner.state.close()
    assert [o.status for o in outcomes] == ["written"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "2026-W46_maria.chef@exempel.se.eml",
        "2026-W46_maria.chef@exempel.se.html",
    ]
    assert sorted(p.name for p in written) == sorted(p.name for p in (tmp_path / "out").iterdir())
