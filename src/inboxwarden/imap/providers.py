"""What Exchange Online and Gmail do differently, and what inboxwarden concludes from it.

Pure data and functions: a :class:`ProviderProfile` states a provider's conventions
(ecosystem research §1-2), :func:`conclusions` compares them with what a server showed
at login and says, in an administrator's words, how inboxwarden will behave there. The
behaviour itself needs no switch per provider: it follows from what the server
advertises (PERMANENTFLAGS, special-use attributes, capabilities), so a profile only
explains it, sets a default connection limit, and warns where the server differs.

- Exchange Online keeps no custom keywords (PERMANENTFLAGS without ``\\*``), so due
  mail gets ``\\Flagged`` only, and inboxwarden remembers which ``\\Flagged`` it set;
  ``FETCH`` on an empty folder is answered BAD, so an empty folder is never fetched;
  there is no CONDSTORE; Trash is the ``\\Trash`` folder, "Deleted Items" in English.
- Gmail's Trash and Sent are special-use folders under ``[Gmail]`` whose names follow
  the user's language, so they are found by attribute, never by name; a move out of
  INBOX removes the ``INBOX`` label, and deleting means a move to ``\\Trash`` (a
  ``\\Deleted`` + EXPUNGE in INBOX would only archive).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "DOVECOT_LIMITS",
    "PORTABLE_LIMITS",
    "PROFILES",
    "CommandLimits",
    "ProviderProfile",
    "ServerFacts",
    "conclusions",
    "learned_limits",
    "profile_for",
]


@dataclass(frozen=True, slots=True)
class ProviderProfile:
    """One provider's IMAP conventions."""

    name: str
    title: str
    #: Custom keywords are kept (PERMANENTFLAGS has ``\\*``).
    keywords: bool
    condstore: bool
    #: The server answers BAD to FETCH in an empty folder (RFC-correct, but fatal).
    refuses_empty_fetch: bool
    #: Where the Trash is, as an administrator would look for it.
    trash_convention: str
    #: Concurrent connections the provider tolerates from one client (per mailbox/account).
    max_connections: int | None


PROFILES: dict[str, ProviderProfile] = {
    "microsoft": ProviderProfile(
        name="microsoft",
        title="Exchange Online",
        keywords=False,
        condstore=False,
        refuses_empty_fetch=True,
        trash_convention='special-use \\Trash, "Deleted Items" in English (localised)',
        max_connections=20,
    ),
    "google": ProviderProfile(
        name="google",
        title="Gmail",
        keywords=True,
        condstore=True,
        refuses_empty_fetch=False,
        trash_convention="special-use \\Trash under [Gmail] (localised)",
        max_connections=15,
    ),
    "imap": ProviderProfile(
        name="imap",
        title="IMAP server",
        keywords=True,
        condstore=True,
        refuses_empty_fetch=False,
        trash_convention="special-use \\Trash, else a known name",
        max_connections=None,
    ),
}


def profile_for(provider: str | None) -> ProviderProfile:
    """The profile of the configured ``oauth.provider``; a plain IMAP server without one."""
    return PROFILES[provider or "imap"]


@dataclass(frozen=True, slots=True)
class ServerFacts:
    """What one mailbox's server showed after login and SELECT INBOX."""

    capabilities: frozenset[str]
    keywords_allowed: bool
    trash: str | None
    trash_by_attribute: bool
    max_connections: int


def conclusions(profile: ProviderProfile, facts: ServerFacts, keyword: str) -> list[str]:
    """How inboxwarden behaves on this server, and where it differs from the profile."""
    lines = []
    if facts.keywords_allowed:
        lines.append(f"flagging: keyword {keyword} and \\Flagged")
    else:
        lines.append(
            "flagging: \\Flagged only (PERMANENTFLAGS without \\*); "
            "the user's own \\Flagged stays theirs"
        )
    if facts.trash is None:
        lines.append("trash: NOT FOUND: delete rules will be refused")
    else:
        how = "special-use \\Trash" if facts.trash_by_attribute else "found by name only"
        lines.append(f"trash: {facts.trash!r} ({how}); deleting moves mail there")
    if profile.refuses_empty_fetch:
        lines.append("empty folders: never fetched (the server refuses FETCH there)")
    has_condstore = "CONDSTORE" in facts.capabilities
    lines.append(f"CONDSTORE: {'yes' if has_condstore else 'no'} (not needed)")
    limit = f"connections: at most {facts.max_connections} at once"
    if profile.max_connections is not None:
        limit += f" ({profile.title} tolerates about {profile.max_connections})"
    lines.append(limit)
    lines += [f"warning: {text}" for text in _differences(profile, facts, has_condstore)]
    return lines


def _differences(profile: ProviderProfile, facts: ServerFacts, condstore: bool) -> Iterable[str]:
    if profile.name == "imap":
        return
    if profile.keywords != facts.keywords_allowed:
        expected = "keeps" if profile.keywords else "keeps no"
        yield f"{profile.title} usually {expected} custom keywords; this server differs"
    if profile.condstore != condstore:
        expected = "offers" if profile.condstore else "lacks"
        yield f"{profile.title} usually {expected} CONDSTORE; this server differs"
    if facts.trash is not None and not facts.trash_by_attribute:
        yield f"{profile.title} marks its Trash with \\Trash; this one was found by name"
    if profile.max_connections is not None and facts.max_connections > profile.max_connections:
        yield (
            f"imap.max_connections = {facts.max_connections} is above what "
            f"{profile.title} tolerates ({profile.max_connections})"
        )


@dataclass(frozen=True, slots=True)
class CommandLimits:
    """How long one command line may be, and how many messages one command may name."""

    max_line_length: int
    batch_size: int
    #: Where the limits came from, for ``check`` and the DEBUG log (never a secret).
    source: str


#: RFC 7162 §4 asks clients to keep command lines under 8192 octets: what every server
#: is known to accept. Exchange Online and Gmail publish no larger limit.
PORTABLE_LIMITS = CommandLimits(max_line_length=8192, batch_size=5000, source="portable")
#: Dovecot's own ``imap_max_line_length`` default (64 KiB); a larger batch means fewer
#: MOVEs, and Dovecot rewrites its index once per command, not per message.
DOVECOT_LIMITS = CommandLimits(max_line_length=65536, batch_size=20_000, source="Dovecot (ID)")


def learned_limits(profile: ProviderProfile, server_id: Mapping[str, str]) -> CommandLimits:
    """The command limits for a server that identified itself as *server_id* (RFC 2971).

    Only a server that names itself Dovecot gets Dovecot's limit; a provider profile
    (Exchange, Gmail) and any unknown or silent server keep the portable limits, since
    a line the server refuses would fail the whole batch.
    """
    if profile.name != "imap":
        return PORTABLE_LIMITS
    if server_id.get("name", "").strip().lower() == "dovecot":
        return DOVECOT_LIMITS
    return PORTABLE_LIMITS
