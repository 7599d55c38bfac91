"""The employee digest as data: which due messages, grouped by what will happen, and when.

Pure code: the plan's decisions, the fetched headers, the cycle and the clock come in;
a :class:`Digest` that a template can render goes out. The digest is itself a new copy
of what it lists, so every subject passes through the detectors' masking before it is
stored here (docs/behaviour.md §7): ``Faktura för 770923-1234`` becomes ``Faktura för 770923-****``.

:func:`digest_due` is the scheduler's question, "is a digest due for this mailbox
now?": once at the boundary and once more one business day before the enforcement date.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from inboxwarden.detectors import mask_text
from inboxwarden.detectors.swedish_id import SWEDISH_ID
from inboxwarden.policy.cycle import Window
from inboxwarden.policy.message import MessageInfo, decode_words
from inboxwarden.policy.people import Language, Mode
from inboxwarden.policy.planning import Decision

__all__ = [
    "GROUP_ORDER",
    "MAX_LISTED",
    "MAX_LISTED_PER_GROUP",
    "Digest",
    "DigestGroup",
    "DigestItem",
    "DigestKind",
    "build_digest",
    "digest_due",
    "digest_kind",
    "listed_uids",
    "mask_id_shapes",
    "mask_subject",
]

DigestKind = Literal["boundary", "reminder"]

#: Outcomes in the order the digest lists them: what leaves the INBOX for good first.
GROUP_ORDER = ("purge", "delete", "move", "report", "hold")
#: At most this many messages are listed per outcome, and about this many in all; the
#: rest are counted. A digest of 5,000 rows helps nobody, and Gmail clips a message
#: past ~100 kB, cutting off the footer and the policy link. The flag in the INBOX
#: finds every due message anyway.
MAX_LISTED_PER_GROUP = 20
MAX_LISTED = 60
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


def digest_kind(window: Window) -> DigestKind:
    """Which digest fits *window*: the reminder from its date on, else the boundary one."""
    boundary, reminder = window.boundary, window.reminder_date
    return "reminder" if reminder > boundary and window.now >= reminder else "boundary"


def digest_due(window: Window, last_sent: datetime | None) -> DigestKind | None:
    """The digest the scheduler should send to a mailbox as of *window*, or None.

    One at the boundary and one on the reminder date (docs/behaviour.md §7); when the two coincide
    (a grace of 0 or 1 business day) there is a single digest. A digest missed at the
    boundary (the service was down) is sent late, and one missed before the reminder
    date becomes the reminder, so nobody gets two in a row. From the enforcement date
    on nothing is due: the rules act, and the next cycle's digest follows. Without any
    grace (``grace_business_days = 0`` and a boundary on a business day) the rules act
    from the boundary itself; the one digest then still goes out, to say so.
    """
    boundary, enforcement = window.boundary, window.enforcement_date
    if window.now >= enforcement > boundary:
        return None
    kind = digest_kind(window)
    since = window.reminder_date if kind == "reminder" else boundary
    if last_sent is not None and last_sent >= since:
        return None
    return kind


def mask_id_shapes(text: str) -> str:
    """Mask what is written like a personnummer even when its check digit fails.

    The detectors rightly report only valid numbers (docs/behaviour.md §6). But a mistyped
    personnummer (``770923-1234``) still points at a person, and the digest is a new
    copy of the subject, so here a date-shaped ``YYMMDD-NNNN`` or ``YYYYMMDD-NNNN`` is
    masked on its shape alone. The separator is required: bare digit runs are order
    numbers far more often, and the detectors already catch the valid ones.
    """

    def masked(match: re.Match[str]) -> str:
        date = match.group("date8") or match.group("date6")
        separator = match.group("sep8") if match.group("date8") else match.group("sep6")
        if not separator or not _plausible_date(date):
            return match.group(0)
        return match.group(0)[:-4] + "****"

    return SWEDISH_ID.sub(masked, text)


def _plausible_date(yymmdd: str) -> bool:
    """Month 00-12 and day 01-31, or 61-91 for a co-ordination number (day + 60)."""
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    return month <= 12 and (1 <= day <= 31 or 61 <= day <= 91)


def mask_subject(subject: str) -> str:
    """The subject with personal data masked, on one line and at most 120 characters.

    Masking comes before shortening, so a cut can never leave a number unmasked. If
    the detectors fail on some odd text, the subject is dropped rather than shown.
    """
    try:
        masked = mask_id_shapes(mask_text(subject))
    except Exception:  # a detector bug must never turn into an unmasked copy
        return ""
    line = " ".join(masked.split())
    return line if len(line) <= _MAX_SUBJECT else line[: _MAX_SUBJECT - 1].rstrip() + "…"


def _sender(message: MessageInfo) -> tuple[str, str]:
    raw = message.headers.get("from", "")
    name, address = email.utils.parseaddr(decode_words(raw))
    return mask_subject(name) if name else "", address.lower()


def _by_outcome(decisions: Iterable[Decision]) -> dict[str, list[Decision]]:
    """The due decisions by action, in :data:`GROUP_ORDER`, each oldest first; no ``keep``."""
    grouped: dict[str, list[Decision]] = {}
    for decision in sorted(decisions, key=lambda d: d.message.internaldate):
        if decision.action != "keep":  # a kept message is exempt from the rule
            grouped.setdefault(decision.action, []).append(decision)
    order = [a for a in GROUP_ORDER if a in grouped] + sorted(set(grouped) - set(GROUP_ORDER))
    return {action: grouped[action] for action in order}


def _share(groups: int, max_per_group: int, max_listed: int) -> int:
    """How many messages each outcome lists: a share of the whole, at least a few."""
    return min(max_per_group, max(5, max_listed // max(1, groups)))


def listed_uids(
    decisions: Iterable[Decision],
    *,
    max_per_group: int = MAX_LISTED_PER_GROUP,
    max_listed: int = MAX_LISTED,
) -> list[int]:
    """The UIDs the digest will list, so the shell fetches From and Subject of these only."""
    grouped = _by_outcome(decisions)
    share = _share(len(grouped), max_per_group, max_listed)
    return [d.message.uid for listed in grouped.values() for d in listed[:share]]


def _item(decision: Decision, message: MessageInfo, tz: ZoneInfo) -> DigestItem:
    name, address = _sender(message)
    return DigestItem(
        arrived=decision.message.internaldate.astimezone(tz),
        sender_name=name,
        sender_address=address,
        subject=mask_subject(message.subject),
        size=decision.message.size,
        rule=decision.rule.name,
        action=decision.action,
        target=decision.target,
        overdue=decision.overdue,
    )


def build_digest(
    decisions: Sequence[Decision],
    *,
    mailbox: str,
    language: Language,
    mode: Mode,
    window: Window,
    organisation: str,
    policy_url: str | None,
    headers: Mapping[int, MessageInfo] | None = None,
    max_per_group: int = MAX_LISTED_PER_GROUP,
    max_listed: int = MAX_LISTED,
) -> Digest:
    """Group the due messages of one mailbox by outcome, oldest first, subjects masked.

    *headers* are the listed messages fetched again with From and Subject (by UID, see
    :func:`listed_uids`), for when the rules did not need those fields and the scan
    therefore left them out. ``keep`` decisions are left out. *window* is the cycle as
    of the digest's time.
    """
    fetched = headers or {}
    grouped = _by_outcome(decisions)
    share = _share(len(grouped), max_per_group, max_listed)
    groups = tuple(
        DigestGroup(
            action=action,
            count=len(due),
            overdue=sum(d.overdue for d in due),
            items=tuple(
                _item(d, fetched.get(d.message.uid, d.message), window.timezone)
                for d in due[:share]
            ),
            targets=tuple(dict.fromkeys(d.target for d in due if d.target)),
        )
        for action, due in grouped.items()
    )
    return Digest(
        mailbox=mailbox,
        language=language,
        kind=digest_kind(window),
        mode=mode,
        now=window.now,
        boundary=window.boundary,
        enforcement_date=window.enforcement_date,
        reminder_date=window.reminder_date,
        groups=groups,
        organisation=organisation,
        policy_url=policy_url,
    )
