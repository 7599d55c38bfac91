"""Rule matching: each condition, first match wins, the default catches the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from inboxwarden.detectors.kinds import Kind
from inboxwarden.policy.matching import MatchContext, RuleBook
from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.rules import DefaultRule, Rule

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def message(**headers: str) -> MessageInfo:
    size = int(headers.pop("size", "1000"))
    age = int(headers.pop("age_days", "40"))
    return MessageInfo(
        uid=1,
        internaldate=NOW - timedelta(days=age),
        size=size,
        flags=frozenset(),
        headers={k.replace("_", "-"): v for k, v in headers.items()},
    )


def book(*rules: dict, groups: dict | None = None) -> RuleBook:
    parsed = [Rule.model_validate(r) for r in rules]
    return RuleBook.compile([*parsed, DefaultRule().as_rule()], groups or {})


def first(rb: RuleBook, msg: MessageInfo, groups: frozenset[str] = frozenset()) -> str:
    return rb.first_match(msg, MatchContext(now=NOW, mailbox_groups=groups)).name


DELETE = {"action": "delete"}


@pytest.mark.parametrize(
    ("match", "msg", "hit"),
    [
        ({"from": "*@fortnox.se"}, message(**{"from": "Fortnox <Faktura@Fortnox.se>"}), True),
        ({"from": ["*@fortnox.se"]}, message(**{"from": "x@other.se"}), False),
        ({"to": "anna@*"}, message(to="Anna <anna@exempel.se>, b@c.se"), True),
        ({"cc": "*@kund.se"}, message(cc="a@kund.se"), True),
        ({"cc": "*@kund.se"}, message(to="a@kund.se"), False),
        ({"from_domain": "fortnox.se"}, message(**{"from": "a@mail.fortnox.se"}), True),
        ({"from_domain": "fortnox.se"}, message(**{"from": "a@notfortnox.se"}), False),
        ({"to_domain": "kund.se"}, message(to="x@exempel.se", cc="y@kund.se"), True),
        ({"subject": "(?i)faktura"}, message(subject="=?utf-8?q?Ny_FAKTURA_123?="), True),
        ({"subject": "(?i)faktura"}, message(subject="Hej"), False),
        ({"header": {"X-Mailer": "^Outlook"}}, message(x_mailer="Outlook 16"), True),
        ({"header": {"X-Mailer": "^Outlook"}}, message(), False),
        ({"list_id": "*"}, message(list_id="<news.example.com>"), True),
        ({"list_id": "*"}, message(), False),
        ({"list_id": "*.example.com>"}, message(list_id="<News.Example.com>"), True),
        ({"larger_than": "1 MB"}, message(size="2000000"), True),
        ({"larger_than": "1 MB"}, message(size="999"), False),
        ({"smaller_than": "10KB"}, message(size="999"), True),
        ({"older_than": "30d"}, message(age_days="31"), True),
        ({"older_than": "2w"}, message(age_days="13"), False),
    ],
)
def test_condition(match, msg, hit):
    rb = book({"name": "r", "match": match, **DELETE})
    assert (first(rb, msg) == "r") is hit


def test_all_conditions_of_a_rule_must_hold():
    rb = book({"name": "r", "match": {"from_domain": "fortnox.se", "subject": "Faktura"}, **DELETE})
    assert first(rb, message(**{"from": "a@fortnox.se"}, subject="Faktura 1")) == "r"
    assert first(rb, message(**{"from": "a@fortnox.se"}, subject="Hej")) == "default"


def test_first_matching_rule_wins_and_default_catches_the_rest():
    rb = book(
        {"name": "one", "match": {"subject": "a"}, **DELETE},
        {"name": "two", "match": {"subject": "a|b"}, **DELETE},
    )
    assert first(rb, message(subject="a")) == "one"
    assert first(rb, message(subject="b")) == "two"
    assert first(rb, message(subject="c")) == "default"


def test_domain_group_expands_to_its_domains():
    rb = book(
        {"name": "r", "match": {"from_domain": "@customers"}, **DELETE},
        groups={"customers": ["kund.se"]},
    )
    assert first(rb, message(**{"from": "a@kund.se"})) == "r"
    assert first(rb, message(**{"from": "a@x.se"})) == "default"


def test_mailbox_group_uses_the_directory_groups():
    rb = book({"name": "r", "match": {"mailbox_group": ["ekonomi"]}, **DELETE})
    assert first(rb, message(), frozenset({"ekonomi"})) == "r"
    assert first(rb, message(), frozenset({"support"})) == "default"


def test_attachment_condition_needs_bodystructure_and_never_guesses():
    rb = book({"name": "r", "match": {"has_attachment": True}, **DELETE})
    assert rb.needs_bodystructure
    with_attachment = MessageInfo(1, NOW, 1, frozenset(), {}, has_attachment=True)
    unknown = MessageInfo(1, NOW, 1, frozenset(), {}, has_attachment=None)
    assert first(rb, with_attachment) == "r"
    assert first(rb, unknown) == "default"


def test_personal_data_condition_never_matches_an_unscanned_message():
    rb = book(
        {"name": "ids", "match": {"personal_data": ["personnummer"]}, **DELETE},
        {"name": "clean", "match": {"personal_data": False}, **DELETE},
    )
    scanned_with_id = MessageInfo(
        1, NOW, 1, frozenset(), {}, personal_data=frozenset({Kind.PERSONNUMMER})
    )
    scanned_clean = MessageInfo(1, NOW, 1, frozenset(), {}, personal_data=frozenset())
    unscanned = MessageInfo(1, NOW, 1, frozenset(), {})
    assert first(rb, scanned_with_id) == "ids"
    assert first(rb, scanned_clean) == "clean"
    assert first(rb, unscanned) == "default"


def test_rulebook_fetches_only_the_headers_rules_read():
    rb = book(
        {"name": "a", "match": {"from_domain": "x.se", "list_id": "*"}, **DELETE},
        {"name": "b", "match": {"header": {"X-Spam": "yes"}}, **DELETE},
    )
    assert rb.header_names() == {"from", "list-id", "x-spam"}


def flagged_message(*flags: str, uid: int = 1) -> MessageInfo:
    return MessageInfo(uid, NOW - timedelta(days=40), 1000, frozenset(flags), {})


@pytest.mark.parametrize(
    ("match", "flags", "hit"),
    [
        ({"flagged": True}, ("\\Flagged",), True),
        ({"flagged": True}, ("\\Seen",), False),
        ({"flagged": False}, (), True),
        ({"flagged": False}, ("\\Flagged", "\\Seen"), False),
        ({"flagged": True}, ("\\FLAGGED",), True),  # system flags are case-insensitive
        ({"seen": True}, ("\\Seen",), True),
        ({"seen": True}, (), False),
        ({"seen": False}, ("\\Flagged",), True),
        ({"seen": False}, ("\\Seen",), False),
        ({"seen": False, "flagged": True}, ("\\Flagged",), True),
        ({"seen": False, "flagged": True}, ("\\Flagged", "\\Seen"), False),
    ],
)
def test_flagged_and_seen_conditions(match, flags, hit):
    rb = book({"name": "r", "match": match, **DELETE})
    assert (first(rb, flagged_message(*flags)) == "r") is hit


def test_a_flag_inboxwarden_set_itself_is_not_the_employees():
    """With flag.also_flagged, our own \\Flagged must not exempt every due message."""
    rb = book({"name": "exempt", "match": {"flagged": True}, "action": "keep", "basis": "x"})
    ours = MatchContext(now=NOW, our_flagged=frozenset({7}))
    assert rb.first_match(flagged_message("\\Flagged", uid=7), ours).name == "default"
    assert rb.first_match(flagged_message("\\Flagged", uid=8), ours).name == "exempt"


@pytest.mark.parametrize("value", ["yes", 1, "true"])
def test_flagged_and_seen_accept_only_true_or_false(value):
    for key in ("flagged", "seen"):
        with pytest.raises(ValueError, match=rf"match\.{key}"):
            Rule.model_validate({"name": "r", "match": {key: value}, **DELETE})


def test_has_attachment_accepts_only_true_or_false():
    with pytest.raises(ValueError, match=r"match\.has_attachment"):
        Rule.model_validate({"name": "r", "match": {"has_attachment": "no"}, **DELETE})
