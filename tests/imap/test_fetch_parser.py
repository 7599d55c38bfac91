"""The fast FETCH reader: the shapes Dovecot sends, unsolicited answers, odd ones refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inboxwarden.imap.fetch_parser import UnexpectedShape, read_fetch

HDR = b"Subject: Hej\r\n\r\n"


def test_reads_uid_flags_date_size_and_header():
    data = [
        (
            b'1 (UID 7 FLAGS (\\Seen $InboxWardenDue) INTERNALDATE " 2-Oct-2026 10:11:12 -0130" '
            b"RFC822.SIZE 99 BODY[HEADER.FIELDS (SUBJECT)] {16}",
            HDR,
        ),
        b")",
    ]
    [item] = read_fetch(data)
    assert item.uid == 7
    assert item.flags == ("\\Seen", "$InboxWardenDue")
    assert item.internaldate.astimezone(UTC) == datetime(2026, 10, 2, 11, 41, 12, tzinfo=UTC)
    assert (item.size, item.header) == (99, HDR)


def test_attributes_after_the_literal_are_read_too():
    data = [
        (
            b'3 (FLAGS () INTERNALDATE "12-Oct-2026 10:11:12 +0200" BODY[HEADER.FIELDS (SUBJECT)] {16}',
            HDR,
        ),
        b" UID 11 RFC822.SIZE 5)",
    ]
    [item] = read_fetch(data)
    assert (item.uid, item.size, item.flags) == (11, 5, ())


def test_unsolicited_flag_updates_without_uid_are_ignored():
    data = [b"4 (FLAGS (\\Seen))"]
    assert list(read_fetch(data)) == []


def test_unknown_shape_is_refused_so_the_general_parser_takes_over():
    with pytest.raises(UnexpectedShape):
        list(read_fetch([b'1 (UID 1 FLAGS () INTERNALDATE "bad" RFC822.SIZE 1)']))
