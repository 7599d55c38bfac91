"""The folder names a mailbox's rules produce on its server, for ``check`` to show.

:func:`target_names` is pure: the server's facts (namespace prefix, separator,
refused characters, trash) come in as :class:`~inboxwarden.planning.MailboxFacts`. A
rule that files by sender domain is shown once per domain it names (``@group``
entries resolved through ``[domain_groups]``); other fields show as ``{placeholder}``.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from inboxwarden.engine import Engine
from inboxwarden.imap.session import ImapSession
from inboxwarden.message import MessageInfo
from inboxwarden.planning import MailboxFacts, render_target
from inboxwarden.rules import Action, Rule

#: Stands in for a field that has no example value while the name is rendered.
_HOLDER = "IWFIELD{}X"


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
        if rule.action is not Action.MOVE or rule.target is None:
            continue
        fields = {f for _, f, _, _ in string.Formatter().parse(rule.target) if f}
        domains = _domains(rule, domain_groups) if "from_domain" in fields else [None]
        for domain in domains or [None]:
            name = _render(rule, fields, domain, facts, now, tz)
            out.append(TargetName(rule.name, "move", name))
    return list(dict.fromkeys(out))


def _domains(rule: Rule, groups: Mapping[str, Sequence[str]]) -> list[str]:
    found: list[str] = []
    for entry in rule.match.from_domain or []:
        found += groups.get(entry[1:], []) if entry.startswith("@") else [entry]
    return found


def _render(
    rule: Rule,
    fields: set[str],
    domain: str | None,
    facts: MailboxFacts,
    now: datetime,
    tz: ZoneInfo,
) -> str:
    template = rule.target or ""
    # Fields without an example are rendered as a marker and shown as {field}.
    holders = {f: _HOLDER.format(i) for i, f in enumerate(sorted(fields))}
    for field_name in fields - {"year", "month", "rule"} - ({"from_domain"} if domain else set()):
        template = template.replace("{" + field_name + "}", holders[field_name])
    sender = f"x@{domain}" if domain else ""
    message = MessageInfo(0, now, 0, frozenset(), headers={"from": sender})
    name = render_target(
        template,
        message,
        rule.name,
        tz,
        facts.separator,
        prefix=facts.prefix,
        refused=facts.refused,
    )
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


def folder_lines(
    engine: Engine, session: ImapSession, trash: str | None, no_trash: str
) -> list[str]:
    """``check``'s lines on folders: the namespace, and the exact folder names this
    mailbox's rules produce, each probed (see :meth:`ImapSession.refusal`)."""
    settings = engine.settings
    namespace = session.namespace()
    texts = name_texts(settings.all_rules, settings.domain_groups)
    chars = {c for c in texts if c.isascii() and not c.isalnum() and c not in " _/{}"}
    facts = MailboxFacts(
        namespace.separator,
        trash=trash,
        prefix=namespace.prefix,
        refused=session.refused_characters(chars),
        no_trash_reason=no_trash,
    )
    refused = "".join(sorted(facts.refused))
    lines = [
        f"folders: prefix {namespace.prefix!r}, separator {namespace.separator!r}"
        + (f", refuses {refused!r} in names (written as '_')" if refused else "")
    ]
    now = datetime.now(engine.cycle.timezone)
    for target in target_names(
        settings.all_rules, settings.domain_groups, facts, now=now, tz=engine.cycle.timezone
    ):
        if target.name is None:
            lines.append(f"  rule {target.rule}: delete NOT POSSIBLE: {no_trash}")
            continue
        code = None if "{" in target.name else session.refusal(target.name)
        verdict = f"  NOT POSSIBLE: the server refuses it [{code}]" if code else ""
        lines.append(f"  rule {target.rule}: {target.action} → {target.name}{verdict}")
    return lines
