"""Incremental scans: when the last scan's conclusion still stands (RFC 7162 CONDSTORE/QRESYNC).

Pure code: the engine asks the server and the state, and this module decides.

A *mark* remembers, per mailbox and folder, the conclusion of the last scan: "at
HIGHESTMODSEQ *m* under UIDVALIDITY *u*, in this window of the cycle and with these
settings, the plan had nothing to write; it counted *d* due, *o* overdue and *h* held".
No message facts are kept, so the state holds no personal data: only numbers, the
cycle's dates and a keyed digest of the settings. A later scan that finds the same
UIDVALIDITY and HIGHESTMODSEQ (nothing in the folder changed: no message added,
expunged or re-flagged, RFC 7162 §3.1.1), the same window and the same settings would
build the very same plan, so it reuses the counts and sends no FETCH. Where only new
mail arrived that is not due yet, one ``FETCH … (CHANGEDSINCE …)`` of flags and dates
shows it, and the conclusion stands at the new HIGHESTMODSEQ. Anything else (an old
message changed or expunged, a boundary or an enforcement date passed, a changed rule,
mode, legal hold or group, a server without CONDSTORE) means the full scan.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from inboxwarden.policy.cycle import Window
from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.people import Employee, Mode
from inboxwarden.policy.planning import MailboxPlan
from inboxwarden.policy.references import Referencer
from inboxwarden.policy.rules import Rule

__all__ = [
    "Arrival",
    "ScanMark",
    "after_changes",
    "describes",
    "nothing_to_write",
    "only_new_mail_that_is_not_due",
    "settings_key",
    "window_key",
]


@dataclass(frozen=True, slots=True)
class ScanMark:
    """The conclusion of one mailbox folder's last scan, as the state remembers it."""

    uidvalidity: int
    modseq: int
    #: UIDNEXT and EXISTS then: what is new since, and whether anything was expunged.
    uidnext: int
    messages: int
    #: `window_key`: which messages were due and overdue at that scan.
    cycle_window: str
    #: `settings_key`: everything else the plan depended on, as a keyed digest.
    settings: str
    due: int
    overdue: int
    held: int


def window_key(window: Window, min_age_days: int, rules: Sequence[Rule]) -> str:
    """What decides, besides the messages, which are due and overdue in *window*.

    Within one cycle that is the boundary and the latest enforced boundary (and the
    ``SEARCH BEFORE`` date that follows from the boundary): the key changes when a
    boundary or an enforcement date passes. A minimum age that is stricter than the
    boundary, or a rule with ``older_than``, moves with the clock itself: then the
    window's *now* is part of the key, which makes every scan a full one.
    """
    parts = [
        window.boundary.isoformat(),
        window.overdue_before.isoformat() if window.overdue_before else "-",
        window.search_before.isoformat(),
    ]
    age_cutoff = window.now - timedelta(days=min_age_days)
    by_clock = min_age_days and age_cutoff < window.boundary
    if by_clock or any(rule.match.older_than is not None for rule in rules):
        parts.append(window.now.isoformat())
    return "|".join(parts)


def settings_key(
    referencer: Referencer,
    *,
    settings_json: str,
    employee: Employee,
    mode: Mode,
    keywords_allowed: bool,
) -> str:
    """A keyed digest of the settings (with the program's version: a new release may
    plan differently), the employee's facts and the server's answers the plan depends
    on; the legal hold and the groups are not stored in the clear."""
    facts = {
        "settings": settings_json,
        "mode": mode,
        "legal_hold": employee.legal_hold,
        "groups": sorted(employee.groups),
        "keywords_allowed": keywords_allowed,
    }
    return referencer.ref_of("scan-mark:" + json.dumps(facts, sort_keys=True))


def describes(mark: ScanMark | None, *, uidvalidity: int, window: str, settings: str) -> bool:
    """True when *mark* is about this folder (same UIDVALIDITY) under the same window and
    settings; whether the folder changed since is the HIGHESTMODSEQ's to say."""
    return (
        mark is not None
        and mark.uidvalidity == uidvalidity
        and mark.cycle_window == window
        and mark.settings == settings
    )


@dataclass(frozen=True, slots=True)
class Arrival:
    """What ``UID FETCH … (CHANGEDSINCE …)`` tells about one changed or new message."""

    flags: frozenset[str]
    internaldate: datetime


def only_new_mail_that_is_not_due(
    mark: ScanMark,
    *,
    exists: int,
    changed: Mapping[int, Arrival],
    is_due: Callable[[datetime], bool],
    keyword: str,
) -> bool:
    """True when what changed since *mark* cannot change its conclusion: every changed
    message is new (its UID at or above the mark's UIDNEXT), none is due, none carries
    our keyword, and none of the old ones left (EXISTS grew by exactly the new ones).

    A new message that is not due and does not carry our keyword is neither flagged,
    filed nor unflagged by any rule, so the plan stays empty and the counts stay. A
    message moved into the INBOX keeps its old INTERNALDATE and may be due: then, as
    for any change to an old message or an expunge, the full scan decides.
    """
    if any(uid < mark.uidnext for uid in changed):
        return False
    if exists != mark.messages + len(changed):
        return False
    return not any(
        is_due(arrival.internaldate) or keyword in arrival.flags for arrival in changed.values()
    )


def nothing_to_write(plan: MailboxPlan) -> bool:
    """True when applying *plan* would change nothing, on the server or in the state."""
    return not (
        plan.add_keyword
        or plan.add_flagged
        or plan.remove_keyword
        or plan.remove_flagged
        or plan.forget
        or plan.batches
        or plan.withheld
    )


def after_changes(
    messages: Iterable[MessageInfo],
    gone: Callable[[int], bool],
    changed: Mapping[int, frozenset[str]],
) -> list[MessageInfo] | None:
    """The scanned *messages* as they are now, given what the server says changed since
    the scan: expunged ones (*gone*) dropped, re-flagged ones with their new flags.

    None when a message the scan did not read changed or arrived: the scan's view
    cannot be brought up to date without reading it, so no conclusion is drawn.
    """
    out: list[MessageInfo] = []
    seen: set[int] = set()
    for message in messages:
        seen.add(message.uid)
        if gone(message.uid):
            continue
        flags = changed.get(message.uid)
        if flags is not None and flags != message.flags:
            message = dataclasses.replace(message, flags=flags)
        out.append(message)
    if any(uid not in seen for uid in changed):
        return None
    return out
