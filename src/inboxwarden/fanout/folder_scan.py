"""Finds CC fan-out in one mailbox: headers first, then text parts of the few candidates.

A message can only be a finding if it went to more people than the thresholds allow,
so the scan fetches the address headers of every message in the window, and only for
those candidates their BODYSTRUCTURE and then just the first bytes of their text parts
(RFC 3501 §6.4.5 partial fetch). Attachments are never downloaded; their names are read
from BODYSTRUCTURE.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from inboxwarden.errors import FolderError
from inboxwarden.fanout.analysis import Finding, Thresholds
from inboxwarden.fanout.recipients import count_recipients
from inboxwarden.imap.session import ImapSession
from inboxwarden.mailbox.content import personal_data_kinds
from inboxwarden.mailbox.inbox_scan import imap_date
from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.references import Referencer

__all__ = ["HEADER_FIELDS", "FolderScan", "scan_folders"]

log = structlog.get_logger(__name__)
HEADER_FIELDS = ("from", "to", "cc", "bcc", "subject")


@dataclass
class FolderScan:
    """What scanning one folder found and cost."""

    folder: str
    messages: int = 0
    candidates: int = 0
    unreadable: int = 0
    """Candidates over what one message may cost, or not read in full (docs/behaviour.md §5.7)."""
    folder_bytes: int = 0
    fetched_bytes: int = 0
    findings: list[Finding] = field(default_factory=list)


def scan_folders(
    session: ImapSession,
    *,
    mailbox: str,
    folders: list[str],
    since: datetime,
    domains: list[str],
    thresholds: Thresholds,
    referencer: Referencer,
    checkpoint: Callable[[], None] = lambda: None,
) -> list[FolderScan]:
    """Scan each of *folders* (``\\Sent`` names the special-use folder) since *since*.

    *checkpoint* is called between messages; it raises to stop the scan (the service
    is stopping, or the mailbox's time budget is spent). Nothing is written meanwhile.
    """
    results = []
    for wanted in folders:
        checkpoint()
        name = session.special_folder(wanted) if wanted.startswith("\\") else wanted
        if name is None:
            log.warning("fanout_folder_missing", folder=wanted)
            continue
        try:
            results.append(
                _scan_folder(
                    session, mailbox, name, since, domains, thresholds, referencer, checkpoint
                )
            )
        except FolderError:
            log.warning("fanout_folder_unreadable", folder=wanted)
    return results


def _scan_folder(
    session: ImapSession,
    mailbox: str,
    folder: str,
    since: datetime,
    domains: list[str],
    thresholds: Thresholds,
    referencer: Referencer,
    checkpoint: Callable[[], None],
) -> FolderScan:
    result = FolderScan(folder)
    session.select(folder, readonly=True)
    # SINCE is day-granular in the server's zone: search a day wider, cut exactly below.
    uids = session.search(["SINCE", imap_date((since - timedelta(days=1)).date())])
    candidates: dict[int, tuple[MessageInfo, int, int, int]] = {}
    for item in session.fetch_messages(uids, header_fields=HEADER_FIELDS):
        checkpoint()
        if isinstance(item, int) or item.internaldate < since:
            continue
        result.messages += 1
        result.folder_bytes += item.size
        result.fetched_bytes += sum(len(v) for v in item.headers.values())
        counted = count_recipients(item.headers, domains)
        if thresholds.exceeded(counted):
            candidates[item.uid] = (item, counted.total, counted.cc_count, counted.external)
    result.candidates = len(candidates)
    if not candidates:
        return result
    checkpoint()
    content = personal_data_kinds(session, {uid: c[0] for uid, c in candidates.items()})
    result.fetched_bytes += content.fetched_bytes
    result.unreadable = len(content.unreadable)
    for uid, (message, total, cc, external) in candidates.items():
        # What was found in the part read of an unreadable message is still a finding.
        found = content.kinds.get(uid, frozenset())
        if found:
            result.findings.append(
                Finding(
                    mailbox,
                    folder,
                    message.internaldate,
                    referencer.ref(message),
                    total,
                    cc,
                    external,
                    found,
                )
            )
    log.info(
        "fanout_folder_scanned",
        folder=folder,
        messages=result.messages,
        candidates=result.candidates,
        unreadable=result.unreadable,
        findings=len(result.findings),
        fetched_bytes=result.fetched_bytes,
    )
    return result
