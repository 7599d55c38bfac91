"""The one error the local server raises."""

from __future__ import annotations

from inboxwarden.errors import InboxWardenError


class LocalServerError(InboxWardenError):
    """The disposable local Dovecot could not be installed, started, or asked something.

    Derives from the package root so that ``inboxwarden demo`` reports it like any other
    failure; the message always says what to do next (install a package, pick another
    directory, read the log at a given path).
    """
