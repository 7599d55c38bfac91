"""A rule's target as the folder name on this server, per message.

Pure: the server's separator, namespace prefix and refused characters are passed in.
:mod:`.target_template` defines and parses the template; this module fills it in for
the messages of one plan, and says which characters the names could hold so that the
server can be asked about them first.
"""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from inboxwarden.policy.matching import RuleBook
from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.target_template import TargetTemplate, parse_target

__all__ = ["TargetRenderer", "name_characters", "render_target"]


class TargetRenderer:
    """Renders target folders, remembering each distinct result.

    A 50,000-message INBOX has a few dozen distinct targets; the key holds only the
    values of the fields the template uses, so most messages cost one dictionary look-up.
    """

    def __init__(
        self, tz: ZoneInfo, separator: str, prefix: str = "", refused: frozenset[str] = frozenset()
    ) -> None:
        self.tz, self.separator = tz, separator
        self.prefix, self.refused = prefix, refused
        self._done: dict[tuple[object, ...], str] = {}

    def __call__(self, template: TargetTemplate, message: MessageInfo, rule: str) -> str:
        values = template.value_tuple(message, rule, self.tz)
        key = (template.text, values)
        done = self._done.get(key)
        if done is None:
            named = template.named(values)
            done = template.render(named, self.separator, prefix=self.prefix, refused=self.refused)
            self._done[key] = done
        return done


def render_target(
    template: str,
    message: MessageInfo,
    rule: str,
    tz: ZoneInfo,
    separator: str,
    *,
    prefix: str = "",
    refused: frozenset[str] = frozenset(),
) -> str:
    """The folder a ``move`` rule files *message* into (docs/behaviour.md §3), as the
    server names it: see `TargetTemplate.render`."""
    parsed = parse_target(template)
    values = parsed.values(message, rule, tz)
    return parsed.render(values, separator, prefix=prefix, refused=refused)


def name_characters(messages: Iterable[MessageInfo], rules: RuleBook) -> frozenset[str]:
    """The punctuation the target names of *rules* could hold for *messages*: the
    characters to ask the server about before naming folders with them."""
    texts: set[str] = set()
    fields: set[str] = set()
    for compiled in rules.rules:
        template = compiled.rule.template
        if template is None:
            continue
        texts.add(template.literals)
        fields |= template.fields
        if "rule" in fields:
            texts.add(compiled.rule.name)
    if fields & {"from_domain", "from_address"}:
        for msg in messages:
            texts.add(msg.from_domain or "")
            if "from_address" in fields:
                texts.add(msg.from_address or "")
    chars = {c for text in texts for c in text}
    return frozenset(c for c in chars if c.isascii() and not c.isalnum() and c not in " _/")
