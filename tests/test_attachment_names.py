"""Identity numbers in attachment file names, found through the real Dovecot.

File names join words with ``_`` (``lonebesked_811218-9876.pdf``), which once hid the
number from the detectors. The names come from the server's BODYSTRUCTURE, so these
tests go through it: a ``personal_data`` rule in a real run, and the fan-out scan.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from inboxwarden.detectors import Kind, Part, kinds_of, scan_message, scan_text
from inboxwarden.detectors.file_names import file_name_text
from inboxwarden.fanout.job import run_fanout
from tests.kit.census import census
from tests.kit.engine import ENFORCING, OLD, run, runner_for, write_config
from tests.kit.seeding import make_message, seed
from tests.kit.servers import new_user

PNR = "811218-9876"  # valid check digit, made-up person
NAMES_WITH_ID = [f"lonebesked_{PNR}.pdf", f"lonebesked-{PNR}.pdf", f"{PNR}_lon.pdf"]
NAMES_WITHOUT = ["rapport_2026-11-01.pdf", "faktura_12345.pdf"]

RULES = """
[[rules]]
name = "identity-numbers"
match.personal_data = ["personnummer"]
action = "move"
target = "Känsligt"
basis = "Rättslig förpliktelse – GDPR art. 6.1 c"
"""


@pytest.mark.parametrize("name", NAMES_WITH_ID)
def test_file_name_separators_are_word_boundaries(name):
    text = file_name_text(name)
    assert len(text) == len(name)  # offsets of findings still point into the name
    assert kinds_of(scan_text(text, part=Part.ATTACHMENT_NAME)) == {Kind.PERSONNUMMER}


@pytest.mark.parametrize("name", NAMES_WITHOUT)
def test_dates_and_invoice_numbers_in_file_names_are_not_identity_numbers(name):
    assert kinds_of(scan_text(file_name_text(name), part=Part.ATTACHMENT_NAME)) == frozenset()


def test_a_parsed_message_reads_its_attachment_name_the_same_way():
    raw = make_message(
        subject="Underlag",
        from_="hr@exempel.se",
        to="me@exempel.se",
        attachment=(f"lonebesked_{PNR}.pdf", b"%PDF-1.4"),
    )
    assert Kind.PERSONNUMMER in scan_message(raw).kinds


def with_attachment(name: str, mid: str):
    raw = make_message(
        subject="Underlag",
        from_="HR <hr@annat.se>",
        to="me@exempel.se",
        body="Se bilagan.",
        message_id=f"<{mid}@t>",
        attachment=(name, b"%PDF-1.4 never downloaded"),
    )
    return raw, OLD


@pytest.mark.imap
def test_a_personal_data_rule_moves_mail_whose_attachment_name_holds_an_id(dovecot, tmp_path):
    email = new_user(dovecot)
    named = [with_attachment(n, f"id{i}") for i, n in enumerate(NAMES_WITH_ID)]
    clean = [with_attachment(n, f"clean{i}") for i, n in enumerate(NAMES_WITHOUT)]
    seed(dovecot, email, "INBOX", named + clean)
    summary = run(write_config(tmp_path, dovecot, [email], rules=RULES), ENFORCING)
    assert summary.outcomes[0].status == "ok", summary.outcomes[0].error
    where = {mid: folder for (folder, mid), n in census(dovecot, email).items() if n}
    assert where == {
        **{f"<id{i}@t>": "Känsligt" for i in range(len(NAMES_WITH_ID))},
        **{f"<clean{i}@t>": "INBOX" for i in range(len(NAMES_WITHOUT))},
    }


@pytest.mark.imap
def test_the_fanout_scan_finds_an_id_in_an_attachment_name(dovecot, tmp_path):
    email = new_user(dovecot)
    cc = [f"kollega{i}@exempel.se" for i in range(5)]
    when = ENFORCING - timedelta(days=1)
    message = make_message(
        subject="Protokoll",
        from_="Me <me@exempel.se>",
        to=["lena@kund.se"],
        cc=cc,
        body="Hej, här kommer protokollet.",
        message_id="<attached@t>",
        attachment=(f"lonebesked_{PNR}.pdf", b"%PDF-1.4 never downloaded"),
    )
    seed(dovecot, email, "Sent", [(message, when)])
    runner = runner_for(write_config(tmp_path, dovecot, [email]))
    try:
        [outcome] = run_fanout(runner, ENFORCING)
    finally:
        runner.state.close()
    [finding] = outcome.findings
    assert finding.kinds == frozenset({Kind.PERSONNUMMER})


@pytest.mark.parametrize("name", ["Bilaga (anna_svensson@privat.se).pdf", "per-olof+x@kund.se.pdf"])
def test_an_address_in_a_file_name_keeps_its_own_separators(name):
    """Splitting anna_svensson@… at `_` would find svensson@… instead: a wrong finding."""
    assert file_name_text(name) == name
    assert kinds_of(scan_text(file_name_text(name), part=Part.ATTACHMENT_NAME)) == {
        Kind.EMAIL_ADDRESS
    }
