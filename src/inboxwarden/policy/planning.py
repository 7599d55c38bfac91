"""Turns one mailbox's scan into a plan: which flags to set or clear, what to move where.

Pure code: the clock, the mailbox's facts and the remembered flags are all passed in.
``observe``, ``plan``, ``notify`` and ``enforce`` all build the same plan; they differ
only in how much of it :mod:`inboxwarden.mailbox.actions` applies (docs/behaviour.md §4).
"""

from __future__ import annotations

import dataclasses
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from inboxwarden.policy.cycle import Cycle
from inboxwarden.policy.matching import MatchContext, RuleBook
from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.references import Referencer
from inboxwarden.policy.rules import Action, Rule

Mode = Literal["observe", "notify", "enforce"]
FLAGGED = "\\Flagged"
DELETED = "\\Deleted"
#: What stands in a folder name for a character the server refuses there (its hierarchy
#: separator inside a value, or what it answers ``[CANNOT]`` to): ``kund.se`` → ``kund_se``.
SUBSTITUTE = "_"
BatchKind = Literal["move", "delete", "purge"]


@dataclass(frozen=True, slots=True)
class FlagRecord:
    """Which flags inboxwarden itself set on one message (docs/behaviour.md §2)."""

    uid: int
    keyword: bool
    flagged: bool


@dataclass(frozen=True, slots=True)
class MailboxFacts:
    """What the server told us about this mailbox that changes the plan."""

    separator: str = "/"
    keywords_allowed: bool = True
    trash: str | None = "Trash"
    #: The personal namespace's prefix (RFC 2342), ``INBOX.`` on many hosts.
    prefix: str = ""
    #: Characters the server refuses inside a folder name; each becomes :data:`SUBSTITUTE`.
    refused: frozenset[str] = frozenset()
    #: Why there is no trash (it could not be created), for the plan to say so.
    no_trash_reason: str = "no Trash folder and none could be created"


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
    #: Why the server cannot do it (the response code or what is missing); None when it can.
    blocked: str | None = None


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
    blocked: str | None = None


@dataclass(frozen=True, slots=True)
class Withheld:
    """Overdue messages a rule sends where the server will not take them: not attempted,
    counted as refused, with the reason."""

    rule: str
    kind: BatchKind
    target: str | None
    reason: str
    uids: tuple[int, ...]


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
    withheld: list[Withheld] = field(default_factory=list)
    #: Messages the user marked ``\\Deleted``: their pending decision, left alone.
    user_deleted: int = 0

    def tallies(self) -> list[Tally]:
        """Counts per rule, action and target, in the order the rules are tried."""
        due: Counter[tuple[str, str, str | None, str | None]] = Counter()
        overdue: Counter[tuple[str, str, str | None, str | None]] = Counter()
        for d in self.decisions:
            key = (d.rule.name, d.action, d.target, d.blocked)
            due[key] += 1
            overdue[key] += d.overdue
        keys = sorted(due, key=lambda k: (self.rule_order.get(k[0], 0), k[2] or ""))
        return [Tally(*k[:3], due[k], overdue[k], k[3]) for k in keys]

    @property
    def targets(self) -> list[str]:
        """Every folder this plan would file into or delete to, each once."""
        return list(dict.fromkeys(d.target for d in self.decisions if d.target))

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

    def __init__(
        self, tz: ZoneInfo, separator: str, prefix: str = "", refused: frozenset[str] = frozenset()
    ) -> None:
        self.tz, self.separator = tz, separator
        self.prefix, self.refused = prefix, refused
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
            done = render_target(
                template,
                message,
                rule,
                self.tz,
                self.separator,
                prefix=self.prefix,
                refused=self.refused,
            )
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
    server names it.

    ``/`` in the template means one level down; a field's value never adds a level, so
    the server's separator inside a value (the ``.`` of ``kund.se``) becomes ``_``, as
    does each character in *refused*. The sender writes ``from_domain`` and
    ``from_address``: an IMAP wildcard or a control character in them becomes ``_`` too,
    and a value of ``.`` or ``..`` is ``_``. The name starts with the personal
    namespace's *prefix*: ``Kunder/{from_domain}`` is ``INBOX.Kunder.kund_se`` on an
    ``INBOX.`` server (a template that already starts with ``INBOX/`` is not prefixed
    twice).
    """
    arrival = message.internaldate.astimezone(tz)
    values = {
        "year": f"{arrival.year:04d}",
        "month": f"{arrival.month:02d}",
        "from_domain": message.from_domain or "unknown",
        "from_address": message.from_address or "unknown",
        "rule": rule,
    }
    bad = {separator, *refused} - {SUBSTITUTE}

    def clean(text: str) -> str:
        for char in bad:
            text = text.replace(char, SUBSTITUTE)
        return text

    safe = {k: clean(_folder_safe(v, separator)) for k, v in values.items()}
    segments = [clean(s.format_map(safe).strip()) for s in template.split("/") if s.strip()]
    if prefix and segments and segments[0].upper() == prefix.rstrip(separator).upper():
        segments = segments[1:]
    return prefix + separator.join(segments)


def name_characters(messages: Iterable[MessageInfo], rules: RuleBook) -> frozenset[str]:
    """The punctuation the target names of *rules* could hold for *messages*: the
    characters to ask the server about before naming folders with them."""
    texts: set[str] = set()
    fields: set[str] = set()
    for compiled in rules.rules:
        template = compiled.rule.target
        if template is None:
            continue
        for literal, name, _, _ in string.Formatter().parse(template):
            texts.add(literal)
            if name:
                fields.add(name)
        if "rule" in fields:
            texts.add(compiled.rule.name)
    if fields & {"from_domain", "from_address"}:
        for msg in messages:
            texts.add(msg.from_domain or "")
            if "from_address" in fields:
                texts.add(msg.from_address or "")
    chars = {c for text in texts for c in text}
    return frozenset(c for c in chars if c.isascii() and not c.isalnum() and c not in " _/")


def withhold(plan: MailboxPlan, refusals: Mapping[str, str]) -> None:
    """Mark what goes to a folder the server refuses (*refusals*: folder → reason) as
    blocked, and take its batches out of *plan*: the plan promises only what can be done."""
    if not refusals:
        return
    plan.decisions = [
        dataclasses.replace(d, blocked=refusals[d.target])
        if d.target is not None and d.target in refusals and d.blocked is None
        else d
        for d in plan.decisions
    ]
    kept: list[Batch] = []
    for batch in plan.batches:
        if batch.target is not None and batch.target in refusals:
            reason = refusals[batch.target]
            plan.withheld.append(Withheld(batch.rule, batch.kind, batch.target, reason, batch.uids))
        else:
            kept.append(batch)
    plan.batches = kept


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
    render = TargetRenderer(cycle.timezone, facts.separator, facts.prefix, facts.refused)
    ours = frozenset(uid for uid, record in records.items() if record.flagged)
    ctx = MatchContext(now=now, mailbox_groups=employee.groups, our_flagged=ours)
    use_flagged = also_flagged or not facts.keywords_allowed
    writes = employee.mode != "observe"
    acts = employee.mode == "enforce"
    leaving: dict[tuple[BatchKind, str, str | None], list[MessageInfo]] = {}
    seen: set[int] = set()

    for msg in messages:
        seen.add(msg.uid)
        if any(f.lower() == DELETED.lower() for f in msg.flags):
            # The user's pending decision to delete: not flagged, filed or listed.
            plan.user_deleted += 1
            continue
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
            blocked = facts.no_trash_reason if kind == "delete" and target is None else None
            plan.decisions.append(Decision(msg, rule, action, target, overdue, blocked))
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
        if kind == "delete" and target is None:  # no trash: nothing to send them to
            plan.withheld.append(Withheld(rule_name, kind, None, facts.no_trash_reason, uids))
            continue
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
