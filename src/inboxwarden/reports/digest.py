"""The employee digest as data: which due messages, grouped by what will happen, and when.

Pure code: the plan's decisions, the fetched headers, the cycle and the clock come in;
a :class:`Digest` that a template can render goes out. The digest is itself a new copy
of what it lists, so every subject passes through the detectors' masking before it is
stored here (SPEC §7): ``Faktura för 770923-1234`` becomes ``Faktura för 770923-****``.

:func:`digest_due` is the scheduler's question, "is a digest due for this mailbox
now?": once at the boundary and once more one business day before the enforcement date.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from inboxwarden.cycle import Cycle
from inboxwarden.detectors import mask_text
from inboxwarden.message import MessageInfo, decode_words
from inboxwarden.planning import Decision, Mode
from inboxwarden.reports.templating import Language

DigestKind = Literal["boundary", "reminder"]

#: Outcomes in the order the digest lists them: what leaves the INBOX for good first.
GROUP_ORDER = ("purge", "delete", "move", "report", "hold")
#: At most this many messages are listed per outcome; the rest are counted. A digest
#: of 5,000 rows helps nobody, and some mail clients cut messages above ~100 kB.
MAX_LISTED_PER_GROUP = 100
_MAX_SUBJECT = 120


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One due message as the digest shows it; the subject is already masked."""

    arrived: datetime
    sender_name: str
    sender_address: str
    subject: str
    size: int
    rule: str
    action: str
    target: str | None
    overdue: bool


@dataclass(frozen=True, slots=True)
class DigestGroup:
    """The due messages that share an outcome (move, delete, report, …)."""

    action: str
    count: int
    overdue: int
    items: tuple[DigestItem, ...]
    targets: tuple[str, ...]
    """The folders a ``move`` group files into, each once, in order of first use."""

    @property
    def more(self) -> int:
        """How many messages of this group are counted but not listed."""
        return self.count - len(self.items)


@dataclass(frozen=True, slots=True)
class Digest:
    """Everything one employee's digest says; templates receive it as ``digest``."""

    mailbox: str
    language: Language
    kind: DigestKind
    mode: Mode
    now: datetime
    boundary: datetime
    enforcement_date: datetime
    reminder_date: datetime
    groups: tuple[DigestGroup, ...]
    organisation: str
    policy_url: str | None

    @property
    def total(self) -> int:
        """Due messages that the digest asks the employee to act on."""
        return sum(g.count for g in self.groups)

    @property
    def overdue(self) -> int:
        """Of those, how many are already past their enforcement date."""
        return sum(g.overdue for g in self.groups)

    @property
    def automatic(self) -> bool:
        """True when inboxwarden itself will move and delete (the ``enforce`` mode)."""
        return self.mode == "enforce"

    @property
    def enforcing(self) -> bool:
        """True when the enforcement date has passed already (a late or manual digest)."""
        return self.now >= self.enforcement_date

    def count(self, action: str) -> int:
        """How many due messages have *action* (``move``, ``delete``, …)."""
        return sum(g.count for g in self.groups if g.action == action)


def digest_kind(cycle: Cycle, now: datetime) -> DigestKind:
    """Which digest fits *now*: the reminder from its date on, else the boundary one."""
    boundary = cycle.boundary(now)
    reminder = cycle.reminder_date(boundary)
    return "reminder" if reminder > boundary and now >= reminder else "boundary"


def digest_due(cycle: Cycle, now: datetime, last_sent: datetime | None) -> DigestKind | None:
    """The digest the scheduler should send to a mailbox at *now*, or None.

    One at the boundary and one on the reminder date (SPEC §7); when the two coincide
    (a grace of 0 or 1 business day) there is a single digest. A digest missed at the
    boundary (the service was down) is sent late, and one missed before the reminder
    date becomes the reminder, so nobody gets two in a row. From the enforcement date
    on nothing is due: the rules act, and the next cycle's digest follows.
    """
    boundary = cycle.boundary(now)
    if now >= cycle.enforcement_date(boundary):
        return None
    kind = digest_kind(cycle, now)
    since = cycle.reminder_date(boundary) if kind == "reminder" else boundary
    if last_sent is not None and last_sent >= since:
        return None
    return kind


def mask_subject(subject: str) -> str:
    """The subject with personal data masked, on one line and at most 120 characters.

    Masking comes before shortening, so a cut can never leave a number unmasked. If
    the detectors fail on some odd text, the subject is dropped rather than shown.
    """
    try:
        masked = mask_text(subject)
    except Exception:  # a detector bug must never turn into an unmasked copy
        return ""
    line = " ".join(masked.split())
    return line if len(line) <= _MAX_SUBJECT else line[: _MAX_SUBJECT - 1].rstrip() + "…"


def _sender(message: MessageInfo) -> tuple[str, str]:
    raw = message.headers.get("from", "")
    name, address = email.utils.parseaddr(decode_words(raw))
    return mask_subject(name) if name else "", address.lower()


def build_digest(
    decisions: Sequence[Decision],
    *,
    mailbox: str,
    language: Language,
    mode: Mode,
    cycle: Cycle,
    now: datetime,
    organisation: str,
    policy_url: str | None,
    headers: Mapping[int, MessageInfo] | None = None,
    max_per_group: int = MAX_LISTED_PER_GROUP,
) -> Digest:
    """Group the due messages of one mailbox by outcome, oldest first, subjects masked.

    *headers* are the same messages fetched again with From and Subject (by UID), for
    when the rules did not need those fields and the scan therefore left them out.
    ``keep`` decisions are left out: a kept message is exempt from the rule.
    """
    fetched = headers or {}
    grouped: dict[str, list[DigestItem]] = {}
    targets: dict[str, dict[str, None]] = {}
    for decision in sorted(decisions, key=lambda d: d.message.internaldate):
        if decision.action == "keep":
            continue
        message = fetched.get(decision.message.uid, decision.message)
        name, address = _sender(message)
        item = DigestItem(
            arrived=decision.message.internaldate.astimezone(cycle.timezone),
            sender_name=name,
            sender_address=address,
            subject=mask_subject(message.subject),
            size=decision.message.size,
            rule=decision.rule.name,
            action=decision.action,
            target=decision.target,
            overdue=decision.overdue,
        )
        grouped.setdefault(decision.action, []).append(item)
        if decision.target:
            targets.setdefault(decision.action, {})[decision.target] = None
    order = [a for a in GROUP_ORDER if a in grouped] + sorted(set(grouped) - set(GROUP_ORDER))
    groups = tuple(
        DigestGroup(
            action=action,
            count=len(grouped[action]),
            overdue=sum(i.overdue for i in grouped[action]),
            items=tuple(grouped[action][:max_per_group]),
            targets=tuple(targets.get(action, {})),
        )
        for action in order
    )
    boundary = cycle.boundary(now)
    return Digest(
        mailbox=mailbox,
        language=language,
        kind=digest_kind(cycle, now),
        mode=mode,
        now=now.astimezone(cycle.timezone),
        boundary=boundary,
        enforcement_date=cycle.enforcement_date(boundary),
        reminder_date=cycle.reminder_date(boundary),
        groups=groups,
        organisation=organisation,
        policy_url=policy_url,
    )
