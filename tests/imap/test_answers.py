"""A FETCH answer read as it arrives: each message once, the odd shape handed to
imapclient's parser, a cut connection never mistaken for an odd answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from inboxwarden.errors import ConnectionLost
from inboxwarden.imap.answers import messages_of
from inboxwarden.policy.message import MessageInfo

HDR = b"Subject: Hej\r\n\r\n"


def answer(uid: int, size: bytes = b" RFC822.SIZE 99") -> list[bytes | tuple[bytes, bytes]]:
    meta = f'{uid} (UID {uid} FLAGS (\\Seen) INTERNALDATE "12-Oct-2026 10:11:12 +0200"'.encode()
    return [(meta + size + b" BODY[HEADER.FIELDS (SUBJECT)] {16}", HDR), b")"]


def test_messages_arrive_before_the_answer_ends():
    read: list[int] = []

    def arriving() -> Iterator[bytes | tuple[bytes, bytes]]:
        for uid in (1, 2, 3):
            read.append(uid)
            yield from answer(uid)

    stream = messages_of(arriving(), {1, 2, 3}, [1, 2, 3], fast=True)
    first = next(stream)
    assert isinstance(first, MessageInfo) and first.uid == 1
    assert read == [1]  # the first message is given before the second is read
    assert [m.uid for m in stream if isinstance(m, MessageInfo)] == [2, 3]


def test_an_odd_shape_midway_hands_the_whole_answer_to_imapclient_once():
    # The fast reader wants RFC822.SIZE; imapclient's parser reads the answer without it.
    data = [*answer(1), *answer(2, size=b""), *answer(3)]
    wanted = {1, 2, 3}
    got = list(messages_of(iter(data), wanted, [1, 2, 3], fast=True))
    sizes = {m.uid: m.size for m in got if isinstance(m, MessageInfo)}
    assert sizes == {1: 99, 2: 0, 3: 99}  # 1 read fast; 2 and 3 by imapclient's parser
    assert len(got) == 3 and wanted == set()


def test_a_cut_connection_is_raised_not_counted_as_unreadable():
    def cut() -> Iterator[bytes | tuple[bytes, bytes]]:
        yield from answer(1)
        raise ConnectionLost("connection closed during FETCH")

    stream = messages_of(cut(), {1, 2}, [1, 2], fast=True)
    with pytest.raises(ConnectionLost):
        list(stream)


def test_the_next_messages_first_line_stays_for_imapclient_when_it_is_the_odd_one():
    # The first message has no tail line, so it is complete only once the second's first
    # line is read; that line must still reach imapclient's parser.
    first, _ = answer(1)
    second = answer(2, size=b"")
    got = list(messages_of(iter([first, *second]), {1, 2}, [1, 2], fast=True))
    assert {m.uid: m.size for m in got if isinstance(m, MessageInfo)} == {1: 99, 2: 0}
