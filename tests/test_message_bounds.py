"""What one message may cost an INBOX run (docs/behaviour.md §5.7), end to end against Dovecot.

A rule with ``match.personal_data`` makes the engine read the text parts of due
messages. One message with 3,000 text parts once made that read fail (``BAD … command
line too large``) on every run, so the mailbox was never enforced again.
"""

from __future__ import annotations

import email
from collections import Counter
from email.policy import SMTP

import pytest

from tests.fanout.test_fanout_hostile import PNR
from tests.kit.census import census
from tests.kit.engine import ENFORCING, OLD, mail, run, write_config
from tests.kit.seeding import make_message, seed
from tests.kit.servers import new_user

pytestmark = pytest.mark.imap

RULES = """
[[rules]]
name = "clean-mail"
match.from_domain = ["annat.se"]
match.personal_data = false
action = "move"
target = "Arkiv"
basis = "Berättigat intresse – GDPR art. 6.1 f"
retention = "1 år"
"""


def _message_id(raw: bytes) -> str:
    return str(email.message_from_bytes(raw, policy=SMTP)["Message-ID"])


def many_parts(parts: int = 3000) -> bytes:
    """A message from the rule's sender domain with *parts* text parts and no data."""
    head = (
        "From: Per <per@annat.se>\r\nTo: me@exempel.se\r\nSubject: Loggar\r\n"
        "Date: Mon, 12 Oct 2026 10:00:00 +0200\r\nMessage-ID: <big@test>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
    )
    body = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\nRad {i}\r\n" for i in range(parts))
    return (head + body + "--b--\r\n").encode("ascii")


def forwarded_pnr() -> bytes:
    """A message from the rule's domain whose personnummer is in an attached message."""
    inner = make_message(subject="Lön", from_="hr@kund.se", to="per@annat.se", body=f"Pnr {PNR}")
    outer = email.message_from_bytes(
        make_message(subject="Fwd: Lön", from_="Per <per@annat.se>", to="me@exempel.se"),
        policy=SMTP,
    )
    outer.add_attachment(email.message_from_bytes(inner, policy=SMTP))  # type: ignore[attr-defined]
    return outer.as_bytes(policy=SMTP)


def test_a_3000_part_message_is_skipped_and_counted_and_the_others_are_filed(dovecot, tmp_path):
    """Issue 7: the other messages are moved, the big one stays in the INBOX, counted as
    skipped, and the run does not fail; a forwarded personnummer keeps its message out
    of a ``personal_data = false`` rule (issue 8)."""
    mailbox = new_user(dovecot)
    clean = mail("other", 3)
    big, forward = many_parts(), forwarded_pnr()
    seed(dovecot, mailbox, "INBOX", [*clean, (big, OLD), (forward, OLD)])
    summary = run(write_config(tmp_path, dovecot, [mailbox], rules=RULES), ENFORCING)
    outcome = summary.outcomes[0]
    assert (outcome.status, outcome.error) == ("ok", None)
    assert summary.failed == []
    assert outcome.applied.moved == 3
    assert outcome.skipped == 1
    after = census(dovecot, mailbox)
    assert {mid for (folder, mid) in after if folder == "Arkiv"} == {
        _message_id(raw) for raw, _ in clean
    }
    inbox = Counter(mid for (folder, mid) in after.elements() if folder == "INBOX")
    assert inbox == {"<big@test>": 1, _message_id(forward): 1}
