"""The folder names a mailbox's rules produce on its server, for ``check`` to show.

:func:`target_names` is pure: the server's facts (namespace prefix, separator,
refused characters, trash) come in as :class:`~inboxwarden.policy.planning.MailboxFacts`.
A rule that files by sender domain is shown once per domain it names (``@group``
entries resolved through ``[domain_groups]``); other fields show as ``{placeholder}``.
:mod:`inboxwarden.mailbox.folder_probe` asks the server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.planning import MailboxFacts
from inboxwarden.policy.rules import Action, Rule
from inboxwarden.policy.target_template import FIELDS, Personal, TargetTemplate

__all__ = ["TargetName", "name_texts", "target_names"]

#: Stands in for a field that has no example value while the name is rendered.
_HOLDER = "IWFIELD{}X"
#: The fields no sender chooses (the arrival, as of now, and the rule): known without a message.
_KNOWN = frozenset(name for name, f in FIELDS.items() if f.personal is Personal.NEVER)


@dataclass(frozen=True, slots=True)
class TargetName:
    """One folder a rule would file into (or delete to), as the server would name it."""

    rule: str
    action: str
    name: str | None


def target_names(
    rules: Sequence[Rule],
    domain_groups: Mapping[str, Sequence[str]],
    facts: MailboxFacts,
    *,
    now: datetime,
    tz: ZoneInfo,
) -> list[TargetName]:
    """Every move and delete rule's folder names on this server, in rule order."""
    out: list[TargetName] = []
    for rule in rules:
        if rule.action is Action.DELETE and not rule.purge:
            out.append(TargetName(rule.name, "delete", facts.trash))
        template = rule.template
        if rule.action is not Action.MOVE or template is None:
            continue
        domains = _domains(rule, domain_groups) if "from_domain" in template.fields else [None]
        for domain in domains or [None]:
            name = _render(rule.name, template, domain, facts, now, tz)
            out.append(TargetName(rule.name, "move", name))
    return list(dict.fromkeys(out))


def _domains(rule: Rule, groups: Mapping[str, Sequence[str]]) -> list[str]:
    found: list[str] = []
    for entry in rule.match.from_domain or []:
        found += groups.get(entry[1:], []) if entry.startswith("@") else [entry]
    return found


def _render(
    rule: str,
    template: TargetTemplate,
    domain: str | None,
    facts: MailboxFacts,
    now: datetime,
    tz: ZoneInfo,
) -> str:
    # The fields known without a message: the arrival as of now, the rule, the domain.
    message = MessageInfo(0, now, 0, frozenset(), headers={"from": f"x@{domain}" if domain else ""})
    values = template.values(message, rule, tz)
    # Fields without an example are rendered as a marker and shown as {field}.
    holders = {f: _HOLDER.format(i) for i, f in enumerate(sorted(template.fields))}
    for field_name in template.fields - _KNOWN - ({"from_domain"} if domain else set()):
        values[field_name] = holders[field_name]
    name = template.render(values, facts.separator, prefix=facts.prefix, refused=facts.refused)
    for field_name, holder in holders.items():
        name = name.replace(holder, "{" + field_name + "}")
    return name


def name_texts(rules: Sequence[Rule], domain_groups: Mapping[str, Sequence[str]]) -> str:
    """The text the names of :func:`target_names` are made of: to probe its characters."""
    parts: list[str] = []
    for rule in rules:
        if rule.action is Action.MOVE and rule.target is not None:
            parts += [rule.target, rule.name, *_domains(rule, domain_groups)]
    return "".join(parts)
