"""Decides which rule a message falls under: pure functions over plain data (docs/behaviour.md §3).

Rules are tried in order and the first match wins. Globs and domain groups are compiled
once per run, since the same rules are tried against every message of every mailbox.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.rules import Match, Rule

__all__ = ["CompiledRule", "Condition", "MatchContext", "RuleBook", "employee_flagged", "has_flag"]

Condition = Callable[[MessageInfo, "MatchContext"], bool]


@dataclass(frozen=True, slots=True)
class MatchContext:
    """What a condition may know besides the message: the clock, the mailbox's groups, and
    which messages' ``\\Flagged`` inboxwarden set itself (so not the employee's doing)."""

    now: datetime
    mailbox_groups: frozenset[str] = frozenset()
    our_flagged: frozenset[int] = frozenset()


def _glob(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(fnmatch.translate(p.lower()) for p in patterns))


def _domain_matcher(
    domains: Iterable[str], groups: Mapping[str, Sequence[str]]
) -> Callable[[str | None], bool]:
    """A domain matches itself and its subdomains; ``@name`` expands a domain group."""
    expanded: set[str] = set()
    for domain in domains:
        if domain.startswith("@"):
            expanded.update(d.lower().lstrip(".") for d in groups.get(domain[1:], ()))
        else:
            expanded.add(domain)
    suffixes = tuple("." + d for d in expanded)

    def matches(domain: str | None) -> bool:
        return domain is not None and (domain in expanded or domain.endswith(suffixes))

    return matches


def _conditions(match: Match, groups: Mapping[str, Sequence[str]]) -> list[Condition]:
    """One test per condition the block gives, in the order the docs list them."""
    return [
        *_participant_conditions(match, groups),
        *_content_conditions(match),
        *_mailbox_conditions(match),
    ]


def _participant_conditions(match: Match, groups: Mapping[str, Sequence[str]]) -> list[Condition]:
    """``from``, ``to``, ``cc``, ``from_domain``, ``to_domain``."""
    conds: list[Condition] = []
    if match.from_ is not None:
        from_glob = _glob(match.from_)
        conds.append(
            lambda m, _: m.from_address is not None and bool(from_glob.match(m.from_address))
        )
    if match.to is not None:
        to_glob = _glob(match.to)
        conds.append(lambda m, _: any(to_glob.match(a) for a in m.to_addresses))
    if match.cc is not None:
        cc_glob = _glob(match.cc)
        conds.append(lambda m, _: any(cc_glob.match(a) for a in m.cc_addresses))
    if match.from_domain is not None:
        from_domain = _domain_matcher(match.from_domain, groups)
        conds.append(lambda m, _: from_domain(m.from_domain))
    if match.to_domain is not None:
        to_domain = _domain_matcher(match.to_domain, groups)
        conds.append(
            lambda m, _: any(
                to_domain(a.rpartition("@")[2]) for a in (*m.to_addresses, *m.cc_addresses)
            )
        )
    return conds


def _content_conditions(match: Match) -> list[Condition]:
    """``subject``, ``header``, ``list_id``, ``has_attachment``, the sizes, ``older_than``
    and ``personal_data``."""
    conds: list[Condition] = []
    if match.subject is not None:
        subject = match.subject
        conds.append(lambda m, _: bool(subject.search(m.subject)))
    if match.header:
        for name, pattern in match.header.items():
            conds.append(_header_condition(name, pattern))
    if match.list_id is not None:
        list_glob = _glob([match.list_id])
        conds.append(
            lambda m, _: m.list_id is not None and bool(list_glob.match(m.list_id.lower()))
        )
    if match.has_attachment is not None:
        wanted = match.has_attachment
        conds.append(lambda m, _: m.has_attachment is wanted)
    if match.larger_than is not None:
        larger = int(match.larger_than)
        conds.append(lambda m, _: m.size > larger)
    if match.smaller_than is not None:
        smaller = int(match.smaller_than)
        conds.append(lambda m, _: m.size < smaller)
    if match.older_than is not None:
        age = match.older_than
        conds.append(lambda m, ctx: ctx.now - m.internaldate > age)
    if match.personal_data is not None:
        conds.append(_personal_data_condition(match.personal_data))
    return conds


def _mailbox_conditions(match: Match) -> list[Condition]:
    """``mailbox_group``, ``flagged``, ``seen``: the mailbox's owner and their own marks."""
    conds: list[Condition] = []
    if match.mailbox_group is not None:
        wanted_groups = frozenset(match.mailbox_group)
        conds.append(lambda _, ctx: bool(wanted_groups & ctx.mailbox_groups))
    if match.flagged is not None:
        flagged = match.flagged
        conds.append(lambda m, ctx: employee_flagged(m, ctx) is flagged)
    if match.seen is not None:
        seen = match.seen
        conds.append(lambda m, _: has_flag(m, "\\Seen") is seen)
    return conds


def has_flag(message: MessageInfo, flag: str) -> bool:
    """True when *message* carries the system *flag*, in any case (RFC 3501 §2.3.2)."""
    wanted = flag.lower()
    return any(f.lower() == wanted for f in message.flags)


def employee_flagged(message: MessageInfo, ctx: MatchContext) -> bool:
    """``\\Flagged`` set by the employee; inboxwarden's own (``flag.also_flagged``) is not."""
    return message.uid not in ctx.our_flagged and has_flag(message, "\\Flagged")


def _header_condition(name: str, pattern: re.Pattern[str]) -> Condition:
    def holds(m: MessageInfo, _: MatchContext) -> bool:
        value = m.header(name)
        return value is not None and bool(pattern.search(value))

    return holds


def _personal_data_condition(spec: bool | Sequence[str]) -> Condition:
    """``true``/``false`` asks for any kind or none; a list asks for any of those kinds.

    A message whose body was not scanned (``personal_data is None``) matches neither
    ``true`` nor ``false``: deleting on a guess would break "nothing is lost".
    """
    if isinstance(spec, bool):
        return lambda m, _: m.personal_data is not None and bool(m.personal_data) is spec
    kinds = frozenset(spec)
    return lambda m, _: m.personal_data is not None and bool(kinds & m.personal_data)


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule with its conditions compiled for fast repeated matching."""

    rule: Rule
    conditions: tuple[Condition, ...]

    def matches(self, message: MessageInfo, ctx: MatchContext) -> bool:
        """True when every condition holds."""
        return all(condition(message, ctx) for condition in self.conditions)


@dataclass(frozen=True, slots=True)
class RuleBook:
    """The ordered rules of a configuration, ending with the default rule."""

    rules: tuple[CompiledRule, ...]

    @classmethod
    def compile(cls, rules: Sequence[Rule], domain_groups: Mapping[str, Sequence[str]]) -> RuleBook:
        """Compile *rules* (the last one is the catch-all default)."""
        return cls(
            tuple(CompiledRule(r, tuple(_conditions(r.match, domain_groups))) for r in rules)
        )

    def first_match(self, message: MessageInfo, ctx: MatchContext) -> Rule:
        """The first rule that matches; the default rule matches everything."""
        for compiled in self.rules:
            if compiled.matches(message, ctx):
                return compiled.rule
        return self.rules[-1].rule

    def header_names(self) -> frozenset[str]:
        """Every header field any rule reads."""
        names: set[str] = set()
        for compiled in self.rules:
            names |= compiled.rule.match.header_names()
        return frozenset(names)

    @property
    def needs_bodystructure(self) -> bool:
        """True when a rule asks about attachments, which only BODYSTRUCTURE tells."""
        return any(c.rule.match.has_attachment is not None for c in self.rules)

    @property
    def needs_personal_data(self) -> bool:
        """True when a rule asks about personal data, which needs the text parts."""
        return any(c.rule.match.personal_data is not None for c in self.rules)
