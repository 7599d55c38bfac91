"""A ``move`` rule's ``target``: the placeholders it may use, parsed once, rendered per message.

The one definition of the template's fields (docs/behaviour.md §3): their names, what
each means, whether its value may name a person, and how it is filled in from a
message. Rule validation (:mod:`.rules`), the plan (:mod:`.planning`) and ``check``'s
folder list (:mod:`.target_names`) all read it from here.
"""

from __future__ import annotations

import functools
import string
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from zoneinfo import ZoneInfo

from inboxwarden.errors import quoted
from inboxwarden.policy.message import MessageInfo

__all__ = [
    "FIELDS",
    "SUBSTITUTE",
    "Personal",
    "TargetTemplate",
    "TemplateField",
    "parse_target",
]

#: What stands in a folder name for a character the server refuses there (its hierarchy
#: separator inside a value, or what it answers ``[CANNOT]`` to): ``kund.se`` → ``kund_se``.
SUBSTITUTE = "_"


class Personal(Enum):
    """Whether a field's value may name a person (docs/behaviour.md §3)."""

    NEVER = "never"
    ALWAYS = "always"
    #: Any sender chooses it unless the rule's ``match.from_domain`` lists the domains.
    UNLESS_DOMAINS_LISTED = "unless match.from_domain lists the domains"


@dataclass(frozen=True, slots=True)
class TemplateField:
    """One placeholder a target may use."""

    name: str
    meaning: str
    personal: Personal
    #: The value for a message filed by a rule (by name); the datetime is the message's
    #: arrival in the organisation's zone, given only to fields `by_arrival`.
    value: Callable[[MessageInfo, datetime | None, str], str]
    by_arrival: bool = False


def _arrival_year(_message: MessageInfo, arrival: datetime | None, _rule: str) -> str:
    return f"{arrival.year:04d}" if arrival else ""


def _arrival_month(_message: MessageInfo, arrival: datetime | None, _rule: str) -> str:
    return f"{arrival.month:02d}" if arrival else ""


FIELDS: Mapping[str, TemplateField] = {
    f.name: f
    for f in (
        TemplateField(
            "year", "year of arrival, organisation time (2026)", Personal.NEVER, _arrival_year, True
        ),
        TemplateField(
            "month",
            "month of arrival, organisation time (01-12)",
            Personal.NEVER,
            _arrival_month,
            True,
        ),
        TemplateField(
            "from_domain",
            "the sender's domain (kund.se), or unknown",
            Personal.UNLESS_DOMAINS_LISTED,
            lambda message, _arrival, _rule: message.from_domain or "unknown",
        ),
        TemplateField(
            "from_address",
            "the sender's address, or unknown",
            Personal.ALWAYS,
            lambda message, _arrival, _rule: message.from_address or "unknown",
        ),
        TemplateField("rule", "the rule's name", Personal.NEVER, lambda _m, _arrival, rule: rule),
    )
}
"""The placeholders a target may use, by name, in the order the docs list them."""

#: One level of a template: (literal text, field name or None) pieces, in order.
Level = tuple[tuple[str, str | None], ...]


@dataclass(frozen=True, slots=True)
class TargetTemplate:
    """A target template, parsed: its levels (what ``/`` separates) and its fields."""

    text: str
    levels: tuple[Level, ...]
    fields: frozenset[str]
    #: The fields in a fixed order, as `value_tuple` gives their values.
    order: tuple[TemplateField, ...] = field(init=False, repr=False, compare=False)
    by_arrival: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        order = tuple(FIELDS[name] for name in sorted(self.fields))
        object.__setattr__(self, "order", order)
        object.__setattr__(self, "by_arrival", any(f.by_arrival for f in order))

    @property
    def literals(self) -> str:
        """The template's own text without its placeholders."""
        return "".join(literal for level in self.levels for literal, _ in level)

    def names_a_person(self, domains_listed: bool) -> bool:
        """True when a name this template makes may carry personal data.

        *domains_listed*: the rule's ``match.from_domain`` lists the sender domains.
        """
        personal = {FIELDS[f].personal for f in self.fields}
        return Personal.ALWAYS in personal or (
            Personal.UNLESS_DOMAINS_LISTED in personal and not domains_listed
        )

    def value_tuple(self, message: MessageInfo, rule: str, tz: ZoneInfo) -> tuple[str, ...]:
        """What this template's fields hold for *message* filed by *rule*, in `order`.

        Cheap on purpose (the plan calls it per message): the arrival is converted to
        *tz* once, and only when a field needs it.
        """
        arrival = message.internaldate.astimezone(tz) if self.by_arrival else None
        return tuple(f.value(message, arrival, rule) for f in self.order)

    def values(self, message: MessageInfo, rule: str, tz: ZoneInfo) -> dict[str, str]:
        """What this template's fields hold for *message* filed by *rule*, by name."""
        return self.named(self.value_tuple(message, rule, tz))

    def named(self, values: tuple[str, ...]) -> dict[str, str]:
        """*values* (as `value_tuple` gives them) by field name."""
        return {f.name: value for f, value in zip(self.order, values, strict=True)}

    def render(
        self,
        values: Mapping[str, str],
        separator: str,
        *,
        prefix: str = "",
        refused: frozenset[str] = frozenset(),
    ) -> str:
        """The folder name, as the server names it, with *values* filled in.

        ``/`` in the template means one level down; a field's value never adds a level,
        so the server's separator inside a value (the ``.`` of ``kund.se``) becomes
        ``_``, as does each character in *refused*. An IMAP wildcard or a control
        character in a value becomes ``_`` too, and a value of ``.`` or ``..`` is ``_``.
        The name starts with the personal namespace's *prefix*: ``Kunder/{from_domain}``
        is ``INBOX.Kunder.kund_se`` on an ``INBOX.`` server (a template that already
        starts with ``INBOX/`` is not prefixed twice).
        """
        bad = {separator, *refused} - {SUBSTITUTE}

        def clean(text: str) -> str:
            for char in bad:
                text = text.replace(char, SUBSTITUTE)
            return text

        safe = {name: clean(_folder_safe(values[name], separator)) for name in self.fields}
        segments = [
            clean("".join(lit + (safe[f] if f is not None else "") for lit, f in level).strip())
            for level in self.levels
        ]
        if prefix and segments and segments[0].upper() == prefix.rstrip(separator).upper():
            segments = segments[1:]
        return prefix + separator.join(segments)


@functools.lru_cache(maxsize=4096)
def parse_target(text: str) -> TargetTemplate:
    """Parse a target template once; `ValueError` says what is wrong with it.

    Cached: a rule's template is parsed when the rule is loaded, and every later use
    (50,000 messages filed by a few dozen rules) finds the parsed form.
    """
    if not text.strip("/ "):
        raise ValueError("target must name a folder")
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ValueError(f"malformed template {quoted(text)}: {exc}") from exc
    fields = {f for _, f, _, _ in parsed if f is not None}
    unknown = fields - FIELDS.keys()
    if unknown:
        allowed = ", ".join(sorted(f"{{{f}}}" for f in FIELDS))
        shown = sorted(unknown)[0][:40]  # the name is the administrator's text: cut it
        raise ValueError(f"unknown template field {{{shown}}} (allowed: {allowed})")
    if any(spec or conversion for _, f, spec, conversion in parsed if f is not None):
        raise ValueError("a placeholder takes no format or conversion: {year}, not {year:…}")
    # Fields hold no '/' (only the names above), so each level parses on its own.
    levels = tuple(
        tuple((literal, name) for literal, name, _, _ in string.Formatter().parse(segment))
        for segment in text.split("/")
        if segment.strip()
    )
    return TargetTemplate(text, levels, frozenset(fields))


def _folder_safe(value: str, separator: str) -> str:
    cleaned = "".join(
        SUBSTITUTE
        if char in ("*", "%", separator) or unicodedata.category(char) in ("Cc", "Cf")
        else char
        for char in value
    )
    return SUBSTITUTE if cleaned.strip() in ("", ".", "..") else cleaned
