"""``check``'s look at each mailbox: log in, and say what the server offers.

A :class:`~inboxwarden.mailbox.runner.MailboxJob`, so the mailboxes are checked as
``run`` works them: concurrently (the slowest cost one timeout per
``imap.max_connections`` of them, not one each), with the configured login, and a
failure of one never stops the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inboxwarden.config import Settings
from inboxwarden.errors import ConfigError, MailboxError, PolicyError
from inboxwarden.imap.providers import ProviderProfile, ServerFacts, conclusions
from inboxwarden.mailbox.enforcement import INBOX, find_trash
from inboxwarden.mailbox.folder_probe import folder_lines
from inboxwarden.mailbox.runner import Ending, Visit
from inboxwarden.policy.people import Employee, Mode

__all__ = ["CheckJob", "MailboxCheck"]


@dataclass
class MailboxCheck:
    """``check``'s lines about one mailbox, and whether it passed."""

    lines: list[str] = field(default_factory=list)
    ok: bool = False


@dataclass(frozen=True)
class CheckJob:
    """Log in to a mailbox and describe it; writes only a missing Trash (not in observe)."""

    settings: Settings
    login: str
    """The login method as shown: ``password``, ``xoauth2 with a google token``, …"""
    profile: ProviderProfile
    event: str = "check"
    retries: bool = False

    def start(self, entry: Employee, mode: Mode) -> MailboxCheck:
        return MailboxCheck()

    def work(self, visit: Visit, outcome: MailboxCheck) -> MailboxCheck:
        lines: list[str] = []
        self._check(visit, lines)
        return MailboxCheck(lines, ok=True)

    def finish(self, visit: Visit, outcome: MailboxCheck, ending: Ending) -> MailboxCheck:
        email, exc = visit.entry.email, ending.error
        if ending.status == "ok":
            return outcome
        if isinstance(exc, (MailboxError, PolicyError, ConfigError)):
            # A refused token names the provider's error, a missing per-user password
            # file its path; neither text holds a secret.
            line = f"  {email}: FAILED ({type(exc).__name__}: {exc})"
        elif exc is not None:  # a bug: the type only, as `run` does; the others go on
            line = f"  {email}: FAILED ({type(exc).__name__})"
        else:
            line = f"  {email}: FAILED ({ending.status})"
        return MailboxCheck([*outcome.lines, line], ok=False)

    def _check(self, visit: Visit, lines: list[str]) -> None:
        settings, entry = self.settings, visit.entry
        with visit.open_session() as session:
            # check may write this much: a missing Trash is created before any delete is
            # due (not in observe mode, where no write reaches the server).
            trash, no_trash = find_trash(session, create=visit.mode != "observe")
            caps = " ".join(
                c
                for c in ("MOVE", "UIDPLUS", "CONDSTORE", "SPECIAL-USE", "ESEARCH")
                if session.has(c)
            )
            # SELECT, not EXAMINE: a read-only folder's PERMANENTFLAGS are empty
            # (RFC 3501 §6.3.2), which would hide whether keywords are kept.
            state = session.select(INBOX, readonly=False)
            keywords = "yes" if state.keywords_allowed else "no (\\Flagged only)"
            lines.append(
                f"  {entry.email}: ok, login={self.login}, {state.exists} in INBOX, "
                f"trash={trash or 'NOT FOUND'}, keywords={keywords}, "
                f"capabilities: {caps or 'none of note'}"
            )
            facts = ServerFacts(
                capabilities=session.capabilities,
                keywords_allowed=state.keywords_allowed,
                trash=trash,
                trash_by_attribute=any(
                    e.name == trash and "\\trash" in {f.lower() for f in e.flags}
                    for e in session.folders()
                ),
                max_connections=settings.imap.max_connections,
            )
            for line in conclusions(self.profile, facts, settings.flag.keyword):
                lines.append(f"    {line}")
            if not (session.has("MOVE") or session.has("UIDPLUS")):
                lines.append("    warning: neither MOVE nor UIDPLUS; moves will be refused")
            for line in folder_lines(settings, session, trash, no_trash):
                lines.append(f"    {line}")
