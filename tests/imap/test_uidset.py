"""UID sets: folding into ranges, chunking under the line limit, COPYUID parsing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from inboxwarden.imap import uidset


def test_fold_and_text():
    assert uidset.to_text([5, 1, 2, 3, 9, 10, 3]) == "1:3,5,9:10"


def test_parse_reverses_text():
    assert uidset.parse("1:3,5,10:9") == [1, 2, 3, 5, 9, 10]


@given(st.lists(st.integers(min_value=1, max_value=200_000), max_size=3000), st.integers(1, 700))
def test_chunks_cover_every_uid_once_within_limits(uids, size):
    seen: list[int] = []
    for text, covered in uidset.chunks(uids, size=size, max_chars=200):
        assert len(covered) <= size
        assert len(text) <= 200
        assert uidset.parse(text) == covered
        seen.extend(covered)
    assert seen == sorted(set(uids))


def test_fifty_thousand_contiguous_uids_make_one_short_command():
    chunks = list(uidset.chunks(range(1, 50_001), size=50_000))
    assert chunks[0][0] == "1:50000" and len(chunks) == 1


def test_copyuid_pairs_in_order():
    assert uidset.pairs(uidset.parse("4:6"), uidset.parse("10,12:13")) == {4: 10, 5: 12, 6: 13}
