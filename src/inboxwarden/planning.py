"""Turns one mailbox's scan into a plan: which flags to set or clear, what to move where.

Pure code: the clock, the mailbox's facts and the remembered flags are all passed in.
``observe``, ``plan``, ``notify`` and ``enforce`` all build the same plan; they differ
only in how much of it :mod:`inboxwarden.actions` applies (SPEC §4).
"""

from __future__ import annotations

import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from inboxwarden.audit import Referencer
from inboxwarden.cycle import Cycle
from inboxwarden.matching import MatchContext, RuleBook
from inboxwarden.message import MessageInfo
from inboxwarden.rules import Action, Rule

Mode = Literal["observe", "notify", "enforce"]
FLAGGED = "\\Flagged"
BatchKind = Literal["move", "delete", "purge"]


@dataclass(frozen=True, slots=True)
class FlagRecord:
    """Which flags inboxwarden itself set on one message (SPEC §2)."""

    uid: int
    keyword: bool
    flagged: bool


@dataclass(frozen=True, slots=True)
class MailboxFacts:
    """What the server told us about this mailbox that changes the plan."""

    separator: str = "/"
    keywords_allowed: bool = True
    trash: str | None = "Trash"


@dataclass(frozen=True, slots=True)
class Employee:
    """The directory facts the plan needs about the mailbox's owner."""

    email: str
    mode: Mode
    legal_hold: bool = False
    groups: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens to one due message, for ``plan --detail`` and the digest."""

    message: MessageInfo
    rule: Rule
    action: str
    target: str | None
    overdue: bool


@dataclass(frozen=True, slots=True)
class Batch:
    """Messages that leave the INBOX together: one UID MOVE per target and batch."""

    kind: BatchKind
    rule: str
    target: str | None
    uids: tuple[int, ...]
    clear_flagged: tuple[int, ...] = ()
    clear_keyword: tuple[int, ...] = ()
    recorded: tuple[int, ...] = ()
    personal: bool = False
    """The rule's `Rule.folder_names_are_personal`: record `recorded_target`, not `target`."""


@dataclass(frozen=True, slots=True)
class Tally:
    """One row of the plan: how many due and overdue messages a rule sends where."""

    rule: str
    action: str
    target: str | None
    due: int
    overdue: int


@dataclass
class MailboxPlan:
    """Everything a run would do in one mailbox."""

    employee: Employee
    inbox: int = 0
    due: int = 0
    overdue: int = 0
    held: int = 0
    add_keyword: list[int] = field(default_factory=list)
    add_flagged: list[int] = field(default_factory=list)
    remove_keyword: list[int] = field(default_factory=list)
    remove_flagged: list[int] = field(default_factory=list)
    forget: list[int] = field(default_factory=list)
    batches: list[Batch] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    rule_order: dict[str, int] = field(default_factory=dict)

    def tallies(self) -> list[Tally]:
        """Counts per rule, action and target, in the order the rules are tried."""
        due: Counter[tuple[str, str, str | None]] = Counter()
        overdue: Counter[tuple[str, str, str | None]] = Counter()
        for d in self.decisions:
            key = (d.rule.name, d.action, d.target)
            due[key] += 1
            overdue[key] += d.overdue
        keys = sorted(due, key=lambda k: (self.rule_order.get(k[0], 0), k[2] or ""))
        return [Tally(r, a, t, due[(r, a, t)], overdue[(r, a, t)]) for r, a, t in keys]

    @property
    def to_move(self) -> int:
        """Messages this plan moves to a folder other than the trash."""
        return sum(len(b.uids) for b in self.batches if b.kind == "move")

    @property
    def to_delete(self) -> int:
        """Messages this plan deletes (moves to the trash, or purges where configured)."""
        return sum(len(b.uids) for b in self.batches if b.kind != "move")


class TargetRenderer:
    """Renders target folders, remembering each distinct result.

    A 50,000-message INBOX has a few dozen distinct targets; the key holds only the
    fields the template uses, so most messages cost one dictionary look-up.
    """

    def __init__(self, tz: ZoneInfo, separator: str) -> None:
        self.tz, self.separator = tz, separator
        self._fields: dict[str, frozenset[str]] = {}
        self._done: dict[tuple[object, ...], str] = {}

    def __call__(self, template: str, message: MessageInfo, rule: str) -> str:
        fields = self._fields.get(template)
        if fields is None:
            fields = frozenset(f for _, f, _, _ in string.Formatter().parse(template) if f)
            self._fields[template] = fields
        arrival = message.internaldate.astimezone(self.tz) if fields & {"year", "month"} else None
        key = (
            template,
            rule,
            (arrival.year, arrival.month) if arrival else None,
            message.from_domain if "from_domain" in fields else None,
            message.from_address if "from_address" in fields else None,
        )
        done = self._done.get(key)
        if done is None:
            done = render_target(template, message, rule, self.tz, self.separator)
            self._done[key] = done
        return done


def render_target(
    template: str, message: MessageInfo, rule: str, tz: ZoneInfo, separator: str
) -> str:
    """The folder a ``move`` rule files *message* into (SPEC §3).

    ``/`` in the template means one level down; a field's value never adds a level, so
    the server's separator inside a value (the ``.`` of ``kund.se``) becomes ``_``. The
    sender writes ``from_domain`` and ``from_address``: an IMAP wildcard or a control
    character in them becomes ``_`` too, and a value of ``.`` or ``..`` is ``_``.
    """
    arrival = message.internaldate.astimezone(tz)
    values = {
        "year": f"{arrival.year:04d}",
        "month": f"{arrival.month:02d}",
        "from_domain": message.from_domain or "unknown",
        "from_address": message.from_address or "unknown",
        "rule": rule,
    }
    safe = {k: _folder_safe(v, separator) for k, v in values.items()}
    segments = [s.format_map(safe).strip() for s in template.split("/") if s.strip()]
    return separator.join(segments)


def _folder_safe(value: str, separator: str) -> str:
    cleaned = "".join(
        "_" if char in ("*", "%", separator) or unicodedata.category(char) in ("Cc", "Cf") else char
        for char in value
    )
    return "_" if cleaned.strip() in ("", ".", "..") else cleaned


def recorded_target(target: str | None, personal: bool, referencer: Referencer) -> str | None:
    """The name to record or show for *target*: the name, or its HMAC when *personal*.

    *personal* is the rule's `Rule.folder_names_are_personal`. The audit trail, the
    transfer journal and ``plan`` then say ``hmac:…`` for ``Kontakter/anna@kund.se``;
    whoever holds the key can still check which folder a reference means.
    """
    if target is None or not personal:
        return target
    return "hmac:" + referencer.ref_of("folder:" + target)


def folder_of_recorded(recorded: str, folders: Iterable[str], referencer: Referencer) -> str | None:
    """The folder among *folders* that `recorded_target` recorded as *recorded*.

    Resolving a transfer a crash left half done needs the folder itself; the journal
    holds only its HMAC, so the mailbox's folder list is searched for the one that
    matches. A name recorded in the clear is returned as it is.
    """
    if not recorded.startswith("hmac:"):
        return recorded
    return next((f for f in folders if recorded_target(f, True, referencer) == recorded), None)


def plan_mailbox(
    employee: Employee,
    messages: Iterable[MessageInfo],
    *,
    records: Mapping[int, FlagRecord],
    inbox_uids: Sequence[int] | None = None,
    inbox_count: int,
    now: datetime,
    cycle: Cycle,
    rules: RuleBook,
    facts: MailboxFacts,
    keyword: str,
    also_flagged: bool,
) -> MailboxPlan:
    """Decide flags and actions for the fetched INBOX *messages* of one mailbox.

    *records* are the flags inboxwarden set earlier in this folder and UIDVALIDITY;
    *inbox_uids*, when known, lets records of messages that left the INBOX be forgotten.
    """
    plan = MailboxPlan(employee=employee, inbox=inbox_count)
    plan.rule_order = {c.rule.name: i for i, c in enumerate(rules.rules)}
    personal = {c.rule.name for c in rules.rules if c.rule.folder_names_are_personal}
    render = TargetRenderer(cycle.timezone, facts.separator)
    ctx = MatchContext(now=now, mailbox_groups=employee.groups)
    use_flagged = also_flagged or not facts.keywords_allowed
    writes = employee.mode != "observe"
    acts = employee.mode == "enforce"
    leaving: dict[tuple[BatchKind, str, str | None], list[MessageInfo]] = {}
    seen: set[int] = set()

    for msg in messages:
        seen.add(msg.uid)
        record = records.get(msg.uid)
        has_kw = keyword in msg.flags
        due = not msg.is_own and cycle.is_due(msg.internaldate, now)
        rule = rules.first_match(msg, ctx) if due else None
        wants_flag = due and rule is not None and rule.action is not Action.KEEP
        if rule is not None:
            overdue = cycle.is_overdue(msg.internaldate, now)
            plan.due += 1
            plan.overdue += overdue
            kind, target = _disposition(rule, msg, facts, render)
            action = rule.action.value if kind is None else kind
            if kind is not None and employee.legal_hold and kind in ("delete", "purge"):
                plan.held += overdue
                kind, action = None, "hold"
            plan.decisions.append(Decision(msg, rule, action, target, overdue))
            if overdue and acts and kind is not None:
                leaving.setdefault((kind, rule.name, target), []).append(msg)
                continue  # our flags are cleared in the batch, right before it leaves
        if not writes:
            continue
        if wants_flag:
            if facts.keywords_allowed and not has_kw:
                plan.add_keyword.append(msg.uid)
            if use_flagged and FLAGGED not in msg.flags:
                plan.add_flagged.append(msg.uid)
        else:
            # The keyword is ours by name; \Flagged only when our records say we set it.
            if has_kw:
                plan.remove_keyword.append(msg.uid)
            if record is not None and record.flagged and FLAGGED in msg.flags:
                plan.remove_flagged.append(msg.uid)

    for (kind, rule_name, target), msgs in leaving.items():
        uids = tuple(sorted(m.uid for m in msgs))
        clear = tuple(u for u in uids if (r := records.get(u)) is not None and r.flagged)
        with_kw = tuple(sorted(m.uid for m in msgs if keyword in m.flags))
        recorded = tuple(u for u in uids if u in records)
        plan.batches.append(
            Batch(kind, rule_name, target, uids, clear, with_kw, recorded, rule_name in personal)
        )

    if inbox_uids is not None:
        present = set(inbox_uids)
        plan.forget = sorted(uid for uid in records if uid not in present and uid not in seen)
    return plan


def _disposition(
    rule: Rule, msg: MessageInfo, facts: MailboxFacts, render: TargetRenderer
) -> tuple[BatchKind | None, str | None]:
    """Whether the rule makes the message leave the INBOX, and for which folder."""
    if rule.action is Action.MOVE and rule.target is not None:
        return "move", render(rule.target, msg, rule.name)
    if rule.action is Action.DELETE:
        return ("purge", None) if rule.purge else ("delete", facts.trash)
    return None, None
