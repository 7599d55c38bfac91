"""The exceptions inboxwarden raises.

Every error the service can meet derives from one root, so the scheduler loop and the
CLI need to catch only that::

    InboxWardenError
    ├── ConfigError                  bad configuration or directory: exit code 2
    ├── MailboxError                 one mailbox could not be processed (others go on)
    │   ├── ConnectionLost           the socket broke, timed out or TLS failed
    │   ├── AuthenticationFailed     the server refused the credentials
    │   │   └── TokenUnavailable     the identity provider issued no OAuth2 token (oauth/)
    │   ├── MissingCapability        the server lacks what a safe action needs
    │   ├── FolderError              a folder could not be selected or created
    │   ├── ServerError              the server answered NO/BAD to a command
    │   └── TimeBudgetExceeded       the mailbox took longer than imap.mailbox_budget_seconds
    ├── PolicyError                  an action would break a safety invariant (docs/behaviour.md §5)
    ├── Interrupted                  the service is stopping; a mailbox was left between commands
    ├── StateError                   the state database failed (state/)
    ├── DeliveryError                a report or digest could not be sent (reports/smtp.py)
    └── LocalServerError             the demo's or tests' Dovecot failed (demo/localserver/)

Every class of the tree is defined here, so what the CLI catches is readable in one file.
"""

from __future__ import annotations

import reprlib

__all__ = [
    "QUOTE_LIMIT",
    "AuthenticationFailed",
    "ConfigError",
    "ConnectionLost",
    "DeliveryError",
    "FolderError",
    "InboxWardenError",
    "Interrupted",
    "LocalServerError",
    "MailboxError",
    "MissingCapability",
    "PolicyError",
    "ServerError",
    "StateError",
    "TimeBudgetExceeded",
    "TokenUnavailable",
    "quoted",
]


class InboxWardenError(Exception):
    """Root of every error inboxwarden raises on purpose."""


class ConfigError(InboxWardenError):
    """The configuration or the directory is invalid; the message says where."""


#: The most characters of a value an error message quotes: a hostile file must not be
#: able to make its own error message huge, nor a secret typed into the wrong field be
#: shown whole.
QUOTE_LIMIT = 80


def quoted(value: object, limit: int = QUOTE_LIMIT) -> str:
    """*value* as ``repr`` shows it, cut to about *limit* characters (``…`` marks a cut).

    A string is cut before ``repr`` and any other value goes through :mod:`reprlib`, so
    quoting a huge value never builds its full text.
    """
    if isinstance(value, str):
        text = repr(value[:limit])
        return text if len(value) <= limit else f"{text[:-1]}…{text[-1]}"
    bounded = reprlib.Repr()  # keyword arguments only from Python 3.12
    bounded.maxlevel, bounded.maxstring, bounded.maxother = 2, limit, limit
    text = bounded.repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class MailboxError(InboxWardenError):
    """One mailbox could not be processed; the run goes on with the others."""


class ConnectionLost(MailboxError):
    """The connection to the IMAP server broke, timed out, or failed TLS."""


class AuthenticationFailed(MailboxError):
    """The IMAP server refused the login."""


class TokenUnavailable(AuthenticationFailed):
    """The identity provider refused to issue an OAuth2 token; the text names its error.

    Permanent, like a refused password: retrying with the same client secret or service
    account key cannot help, so the mailbox (or, for an app token, the run) stops here.
    """


class MissingCapability(MailboxError):
    """The server lacks a capability a safe action needs (RFC 6851 MOVE, RFC 4315 UIDPLUS)."""


class FolderError(MailboxError):
    """A folder could not be selected, found or created."""


class ServerError(MailboxError):
    """The server answered NO or BAD to a command."""


class TimeBudgetExceeded(MailboxError):
    """The mailbox took longer than its time budget; it is left between two commands.

    Not retried: the next run goes on where this one stopped, and the other mailboxes
    get their turn meanwhile.
    """


class PolicyError(InboxWardenError):
    """An action was refused because it would break a safety invariant."""


class Interrupted(InboxWardenError):
    """The service is stopping: the mailbox was left between two journalled commands.

    Not a failure of the mailbox: the next run recovers the journal and goes on.
    """


class StateError(InboxWardenError):
    """The state database could not be reached or written."""


class DeliveryError(InboxWardenError):
    """A message could not be handed to the SMTP relay (or appended to a mailbox)."""


class LocalServerError(InboxWardenError):
    """The disposable local Dovecot could not be installed, started, or asked something.

    Derives from the package root so that ``inboxwarden demo`` reports it like any other
    failure; the message always says what to do next (install a package, pick another
    directory, read the log at a given path).
    """
