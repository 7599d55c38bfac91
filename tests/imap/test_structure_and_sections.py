"""BODYSTRUCTURE leaves of attached messages, and partial fetches of many sections,
against the real test Dovecot (issues 7 and 8)."""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from inboxwarden.imap.session import ImapSession, _item_groups
from inboxwarden.imap.structure import MAX_DEPTH, MAX_LEAVES, leaves
from tests.imap.test_session import master, plain
from tests.kit.engine import OLD
from tests.kit.seeding import make_message, seed
from tests.kit.servers import new_user

pytestmark = pytest.mark.imap
PNR = "811218-9876"


def _forward(inner: bytes, subject: str = "Fwd") -> bytes:
    outer = EmailMessage()
    outer["Subject"], outer["From"], outer["To"] = subject, "me@exempel.se", "a@kund.se"
    outer.set_content("Se bifogat.")
    outer.add_attachment(email.message_from_bytes(inner, policy=SMTP))
    return outer.as_bytes(policy=SMTP)


def _many_parts(parts: int) -> bytes:
    body = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\nRad {i}\r\n" for i in range(parts))
    return (
        'From: a@kund.se\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        f"{body}--b--\r\n"
    ).encode()


def _structures(dovecot, messages: list[bytes]) -> tuple[ImapSession, dict]:
    mailbox = new_user(dovecot)
    seed(dovecot, mailbox, "INBOX", [(m, OLD) for m in messages])
    session = ImapSession.open(plain(dovecot), master(dovecot, mailbox))
    session.select("INBOX", readonly=True)
    uids = session.search(["ALL"])
    return session, {uid: session.fetch_structures([uid])[uid] for uid in uids}


def test_attached_messages_are_listed_with_their_subject_and_their_own_parts(dovecot):
    """A single-part attached body is section ``2.1``; a multipart one ``2.1``, ``2.2``;
    fetching those sections gives the attached message's text."""
    single = make_message(subject=f"Ang. {PNR}", from_="a@kund.se", to="b@kund.se", body=PNR)
    multi = EmailMessage()
    multi["Subject"] = "Lön"
    multi.set_content("Se HTML.")
    multi.add_alternative(f"<p>{PNR}</p>", subtype="html")
    session, structures = _structures(
        dovecot, [_forward(single), _forward(_forward(multi.as_bytes(policy=SMTP)))]
    )
    with session:
        first, second = (structures[uid] for uid in sorted(structures))
        assert [(p.section, p.maintype, p.subtype, p.subject) for p in first] == [
            ("1", "text", "plain", None),
            ("2", "message", "rfc822", f"Ang. {PNR}"),
            ("2.1", "text", "plain", None),
        ]
        assert [p.section for p in second if p.is_text] == ["1", "2.1", "2.2.1", "2.2.2"]
        uid = sorted(structures)[0]
        fetched = session.fetch_sections([uid], ["2.1"], limit=1000)
        assert PNR.encode() in fetched[(uid, "2.1")]
        assert b"text/plain" in fetched[(uid, "2.1.MIME")].lower()


def test_thousands_of_sections_are_fetched_in_commands_within_the_line_budget(dovecot):
    """Issue 7: 3,000 sections once made one 180 kB command line (``BAD … too large``)."""
    session, structures = _structures(dovecot, [_many_parts(3000)])
    with session:
        uid, parts = next(iter(structures.items()))
        assert parts[-1].unread  # more leaves than are listed
        sections = [str(i) for i in range(1, 3001)]
        commands = session.commands
        fetched = session.fetch_sections([uid], sections, limit=100)
        assert fetched[(uid, "3000")].startswith(b"Rad 2999")
        assert len([k for k in fetched if not k[1].endswith(".MIME")]) == 3000
        assert session.commands - commands > 1  # split over several commands


def test_item_groups_stay_within_the_budget_and_keep_every_item():
    items = [f"BODY.PEEK[{i}]<0.200000>" for i in range(1, 3001)]
    groups = _item_groups(items, 4000)
    assert [item for group in groups for item in group] == items
    assert all(len(" ".join(group)) <= 4000 for group in groups)
    assert _item_groups(["x" * 50], 10) == [["x" * 50]]  # one over-long item still goes


def _leaf(maintype: bytes = b"text", subtype: bytes = b"plain") -> tuple:
    return (maintype, subtype, (b"charset", b"utf-8"), None, None, b"7bit", 10, 1)


class _Multipart(tuple):
    is_multipart = True


def test_deep_or_huge_or_broken_structures_are_marked_unread_not_dropped():
    """Parts past the bounds, or that cannot be parsed, leave an ``unread`` placeholder."""
    deep: object = _leaf()
    for _ in range(MAX_DEPTH + 2):
        deep = _Multipart(([deep], b"mixed"))
    assert [p.unread for p in leaves(deep)] == [True]
    wide = _Multipart(([_leaf()] * (MAX_LEAVES + 5), b"mixed"))
    listed = leaves(wide)
    assert len(listed) == MAX_LEAVES + 1 and listed[-1].unread
    broken = _Multipart(([_leaf(), (b"text",)], b"mixed"))
    assert [(p.section, p.unread) for p in leaves(broken)] == [("1", False), ("2", True)]
