"""Pairing originals with copies when the server's answer was lost: one copy, one original."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from inboxwarden.mailbox.recovery import pair_copies


def test_two_originals_with_one_identity_need_two_copies():
    """The 0.1.0 loss: a set of identities let one copy prove every original sharing it."""
    ref_of = {1: "a", 2: "a", 3: "a", 4: "b"}
    pairs = pair_copies([1, 2, 3, 4], ref_of, {"a": [10], "b": [11]})
    assert pairs == {1: 10, 4: 11}


def test_an_original_without_a_known_reference_is_never_proven():
    assert pair_copies([1], {1: "-"}, {"-": [10]}) == {}


@given(
    st.lists(st.sampled_from("abc"), max_size=20),
    st.lists(st.sampled_from("abcd"), max_size=20),
)
def test_no_copy_counts_twice_and_every_pair_shares_an_identity(originals, copies):
    ref_of = dict(enumerate(originals, start=1))
    pool: dict[str, list[int]] = {}
    for uid, ref in enumerate(copies, start=100):
        pool.setdefault(ref, []).append(uid)
    pairs = pair_copies(ref_of, ref_of, pool)
    copy_ref = {uid: ref for ref, uids in pool.items() for uid in uids}
    assert len(set(pairs.values())) == len(pairs)
    assert all(ref_of[o] == copy_ref[c] for o, c in pairs.items())
    for ref in set(originals):
        wanted, offered = originals.count(ref), copies.count(ref)
        assert sum(1 for o in pairs if ref_of[o] == ref) == min(wanted, offered)
