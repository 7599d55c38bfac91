"""Reads one INBOX: a coarse server-side search, then batched fetches of what rules need.

SEARCH BEFORE compares dates only, in the server's notion of a day (RFC 3501 §6.4.4), so
the search is deliberately generous and the exact cut is made on the fetched
INTERNALDATE by the pure cycle code. Only the header fields the rules read are fetched,
with ``BODY.PEEK`` so nothing is marked ``\\Seen`` (docs/behaviour.md §2).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date

from inboxwarden.imap.session import ImapSession
from inboxwarden.policy.cycle import Window
from inboxwarden.policy.matching import RuleBook
from inboxwarden.policy.message import MessageInfo

__all__ = ["ScanResult", "add_personal_data", "arriving", "imap_date"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def imap_date(day: date) -> str:
    """A date as IMAP writes it (RFC 3501 §9 ``date``), independent of the C locale."""
    return f"{day.day}-{_MONTHS[day.month - 1]}-{day.year}"


@dataclass
class ScanResult:
    """The fetched messages of one folder, and how many could not be read."""

    messages: list[MessageInfo] = field(default_factory=list)
    skipped_uids: list[int] = field(default_factory=list)
    fetched_bytes: int = 0

    @property
    def skipped(self) -> int:
        """How many messages were skipped because their answer could not be read."""
        return len(self.skipped_uids)

    @property
    def uids(self) -> list[int]:
        """UIDs of every message that answered the fetch, readable or not."""
        return [m.uid for m in self.messages] + self.skipped_uids


def arriving(
    session: ImapSession,
    result: ScanResult,
    *,
    window: Window,
    rules: RuleBook,
    keyword: str | None,
    known_uids: Iterable[int] = (),
    batch_size: int = 5000,
) -> Iterator[MessageInfo]:
    """Fetch every INBOX message that may be due, carries our keyword, or that we flagged,
    and yield each as soon as it is read; *result* keeps them, and the UIDs whose answer
    could not be read, as they come.

    *keyword* is None where the folder keeps no keywords (then only *known_uids*, the
    UIDs our records say we flagged, bring back messages that are no longer due).
    *window* is the cycle as this run sees it. The caller can plan each message while
    the server sends the next. Their text is not read here: for rules with a
    ``personal_data`` condition, read them all, then `add_personal_data`.
    """
    before = imap_date(window.search_before)
    criteria: list[str] = ["BEFORE", before]
    if keyword is not None:
        criteria = ["OR", "BEFORE", before, "KEYWORD", keyword]
    uids = set(session.search(criteria)) | set(known_uids)
    if not uids:
        return
    for item in session.fetch_messages(
        sorted(uids),
        header_fields=sorted(rules.header_names()),
        bodystructure=rules.needs_bodystructure,
        batch_size=batch_size,
    ):
        if isinstance(item, int):
            result.skipped_uids.append(item)
        else:
            result.messages.append(item)
            yield item


def add_personal_data(session: ImapSession, result: ScanResult, window: Window) -> None:
    """Scan the due messages' text for the ``personal_data`` rule condition (docs/behaviour.md §3).

    Only due messages are read: rules decide nothing about the others. Messages that
    could not be read move to the skipped ones.
    """
    due = {m.uid: m for m in result.messages if not m.is_own and window.is_due(m.internaldate)}
    if not due:
        return
    from inboxwarden.mailbox.content import (
        personal_data_kinds,  # loads the detectors: only when asked
    )

    content = personal_data_kinds(session, due)
    result.fetched_bytes += content.fetched_bytes
    # A message over what one message may cost, or not read in full, is skipped and
    # counted (docs/behaviour.md §5.7): rules must not decide on a guess about its content.
    result.skipped_uids += sorted(content.unreadable)
    result.messages = [
        replace(m, personal_data=content.kinds[m.uid]) if m.uid in content.kinds else m
        for m in result.messages
        if m.uid not in content.unreadable
    ]
