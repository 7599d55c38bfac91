"""Turns one mailbox's scan into a plan: which flags to set or clear, what to move where.

Pure code: the clock, the mailbox's facts and the remembered flags are all passed in.
``observe``, ``plan``, ``notify`` and ``enforce`` all build the same plan; they differ
only in how much of it :mod:`inboxwarden.mailbox.actions` applies (docs/behaviour.md §4).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from inboxwarden.policy.cycle import Window
from inboxwarden.policy.folder_naming import TargetRenderer
from inboxwarden.policy.matching import MatchContext, RuleBook
from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.people import Employee, Mode
from inboxwarden.policy.references import Referencer
from inboxwarden.policy.rules import Action, Rule

__all__ = [
    "DELETED",
    "FLAGGED",
    "Batch",
    "BatchKind",
    "Decision",
    "FlagRecord",
    "MailboxFacts",
    "MailboxPlan",
    "Tally",
    "Withheld",
    "folder_of_recorded",
    "forgettable",
    "plan_mailbox",
    "recorded_target",
    "withhold",
]

FLAGGED = "\\Flagged"
DELETED = "\\Deleted"
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
    #: The mode this run treats the mailbox in: the directory's, else ``mode.default``.
    mode: Mode
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
    mode: Mode,
    records: Mapping[int, FlagRecord],
    inbox_uids: Sequence[int] | None = None,
    inbox_count: int,
    window: Window,
    rules: RuleBook,
    facts: MailboxFacts,
    keyword: str,
    also_flagged: bool,
) -> MailboxPlan:
    """Decide flags and actions for the fetched INBOX *messages* of one mailbox.

    *mode* is the one this run treats the mailbox in (the directory's own or the
    default); *records* are the flags inboxwarden set earlier in this folder and UIDVALIDITY;
    *inbox_uids*, when known, lets records of messages that left the INBOX be forgotten.
    *window* is the cycle as this run sees it, computed once for every mailbox.

    Three steps: what is decided about each message (`_decide`: due, overdue, which
    rule, where to), the flags to set or clear (`_plan_flags`), and the messages that
    leave together (`_batches`).
    """
    plan = MailboxPlan(employee=employee, mode=mode, inbox=inbox_count)
    plan.rule_order = {c.rule.name: i for i, c in enumerate(rules.rules)}
    ours = frozenset(uid for uid, record in records.items() if record.flagged)
    decider = _Decider(
        window,
        rules,
        MatchContext(now=window.now, mailbox_groups=frozenset(employee.groups), our_flagged=ours),
        facts,
        TargetRenderer(window.timezone, facts.separator, facts.prefix, facts.refused),
        employee.legal_hold,
    )
    flags = _FlagStyle(keyword, facts.keywords_allowed, also_flagged or not facts.keywords_allowed)
    leaving: dict[tuple[BatchKind, str, str | None], list[MessageInfo]] = {}
    seen: set[int] = set()

    for msg in messages:
        seen.add(msg.uid)
        if any(f.lower() == DELETED.lower() for f in msg.flags):
            # The user's pending decision to delete: not flagged, filed or listed.
            plan.user_deleted += 1
            continue
        decision, kind = _decide(msg, decider)
        if decision is not None:
            plan.due += 1
            plan.overdue += decision.overdue
            plan.held += decision.overdue and decision.action == "hold"
            plan.decisions.append(decision)
            if decision.overdue and mode == "enforce" and kind is not None:
                leaving.setdefault((kind, decision.rule.name, decision.target), []).append(msg)
                continue  # our flags are cleared in the batch, right before it leaves
        if mode != "observe":
            wanted = decision is not None and decision.rule.action is not Action.KEEP
            _plan_flags(plan, msg, wanted, records.get(msg.uid), flags)

    personal = {c.rule.name for c in rules.rules if c.rule.folder_names_are_personal}
    plan.batches, withheld = _batches(leaving, records, keyword, facts, personal)
    plan.withheld += withheld
    if inbox_uids is not None:
        plan.forget = forgettable(records, [*inbox_uids, *seen])
    return plan


def forgettable(records: Mapping[int, FlagRecord], answered: Iterable[int]) -> list[int]:
    """The flag records of messages that are no longer in the INBOX: every record whose
    UID is not among the *answered* ones (every UID the INBOX's fetch answered for,
    readable or not)."""
    present = set(answered)
    return sorted(uid for uid in records if uid not in present)


@dataclass(frozen=True, slots=True)
class _Decider:
    """What every decision in one mailbox's plan reads."""

    window: Window
    rules: RuleBook
    match: MatchContext
    facts: MailboxFacts
    render: TargetRenderer
    legal_hold: bool


def _decide(msg: MessageInfo, d: _Decider) -> tuple[Decision | None, BatchKind | None]:
    """Whether *msg* is due and under which rule, what happens to it, and whether it
    leaves the INBOX (the batch kind); ``(None, None)`` when nothing is due."""
    if msg.is_own or not d.window.is_due(msg.internaldate):
        return None, None
    rule = d.rules.first_match(msg, d.match)  # the default rule matches what no other does
    overdue = d.window.is_overdue(msg.internaldate)
    kind, target = _disposition(rule, msg, d.facts, d.render)
    action = rule.action.value if kind is None else kind
    if kind is not None and d.legal_hold and kind in ("delete", "purge"):
        kind, action = None, "hold"
    blocked = d.facts.no_trash_reason if kind == "delete" and target is None else None
    return Decision(msg, rule, action, target, overdue, blocked), kind


def _disposition(
    rule: Rule, msg: MessageInfo, facts: MailboxFacts, render: TargetRenderer
) -> tuple[BatchKind | None, str | None]:
    """Whether the rule makes the message leave the INBOX, and for which folder."""
    if rule.action is Action.MOVE and rule.template is not None:
        return "move", render(rule.template, msg, rule.name)
    if rule.action is Action.DELETE:
        return ("purge", None) if rule.purge else ("delete", facts.trash)
    return None, None


@dataclass(frozen=True, slots=True)
class _FlagStyle:
    """How due messages are flagged in this mailbox (docs/behaviour.md §2)."""

    keyword: str
    keywords_allowed: bool
    use_flagged: bool


def _plan_flags(
    plan: MailboxPlan, msg: MessageInfo, wanted: bool, record: FlagRecord | None, style: _FlagStyle
) -> None:
    """Set our flags on a message that is *wanted* flagged, or clear ours from one that is not."""
    has_keyword = style.keyword in msg.flags
    if wanted:
        if style.keywords_allowed and not has_keyword:
            plan.add_keyword.append(msg.uid)
        if style.use_flagged and FLAGGED not in msg.flags:
            plan.add_flagged.append(msg.uid)
        return
    # The keyword is ours by name; \Flagged only when our records say we set it.
    if has_keyword:
        plan.remove_keyword.append(msg.uid)
    if record is not None and record.flagged and FLAGGED in msg.flags:
        plan.remove_flagged.append(msg.uid)


def _batches(
    leaving: Mapping[tuple[BatchKind, str, str | None], list[MessageInfo]],
    records: Mapping[int, FlagRecord],
    keyword: str,
    facts: MailboxFacts,
    personal: set[str],
) -> tuple[list[Batch], list[Withheld]]:
    """One batch per kind, rule and target of the overdue messages that leave; what has
    nowhere to go (a delete without a trash) is withheld instead."""
    batches: list[Batch] = []
    withheld: list[Withheld] = []
    for (kind, rule_name, target), msgs in leaving.items():
        uids = tuple(sorted(m.uid for m in msgs))
        if kind == "delete" and target is None:  # no trash: nothing to send them to
            withheld.append(Withheld(rule_name, kind, None, facts.no_trash_reason, uids))
            continue
        clear = tuple(u for u in uids if (r := records.get(u)) is not None and r.flagged)
        with_kw = tuple(sorted(m.uid for m in msgs if keyword in m.flags))
        recorded = tuple(u for u in uids if u in records)
        batches.append(
            Batch(kind, rule_name, target, uids, clear, with_kw, recorded, rule_name in personal)
        )
    return batches, withheld
