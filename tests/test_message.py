"""Header parsing for the scan: the fast paths agree with the standard library."""

from __future__ import annotations

import email.utils

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inboxwarden.policy.message import _addresses, decode_words, parse_header_block


@pytest.mark.parametrize(
    "value",
    [
        "Fortnox <faktura@Fortnox.se>",
        "a@b.se",
        '"Berg, Lena" <lena@kund.se>',
        "x@y.se, Z <z@w.se>",
        "Undisclosed recipients:;",
        "team: a@b.se, c@d.se;",
        "=?utf-8?q?=C3=85sa?= <asa@x.se>",
        "a@b.se (comment)",
        "<a@b.se>",
        "not an address",
    ],
)
def test_addresses_agree_with_getaddresses(value):
    expected = tuple(a.lower() for _, a in email.utils.getaddresses([value]) if "@" in a)
    assert _addresses(value) == expected


@given(
    st.from_regex(r"[A-Za-z .]{0,20}", fullmatch=True),
    st.from_regex(r"[a-z0-9._+-]{1,12}@[a-z0-9-]{1,10}\.[a-z]{2,4}", fullmatch=True),
)
def test_name_and_address_agree_with_getaddresses(name, address):
    value = f"{name} <{address}>" if name.strip() else address
    expected = tuple(a.lower() for _, a in email.utils.getaddresses([value]) if "@" in a)
    assert _addresses(value) == expected


def test_header_block_unfolds_and_keeps_the_first_occurrence():
    raw = b"Subject: a\r\n b\r\nFrom: x@y\r\nSubject: second\r\nBroken line\r\nX-Empty:\r\n\r\n"
    assert parse_header_block(raw) == {"subject": "a b", "from": "x@y", "x-empty": ""}


def test_undecodable_bytes_and_bad_encoded_words_do_not_raise():
    assert parse_header_block(b"Subject: \xff\xfe caf\xe9\r\n")["subject"].endswith("caf\ufffd")
    assert decode_words("=?bogus-charset?q?x?=") == "=?bogus-charset?q?x?="
