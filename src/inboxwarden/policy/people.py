"""Who a mailbox belongs to and how it is treated: the one `Employee` type.

The directory's loaders (:mod:`inboxwarden.directory`) build it from a file or LDAP;
the plan, the jobs and the reports read it. Pure: no I/O, no validation that needs a
library beyond the standard one (addresses are validated by the loaders).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

from inboxwarden.errors import ConfigError, quoted

__all__ = ["MAX_LOGIN_LENGTH", "Employee", "Language", "Mode", "login_problem"]

Mode = Literal["observe", "notify", "enforce"]
"""How much of a plan is applied (docs/behaviour.md §4): nothing, the flags, or all."""
Language = Literal["sv", "en"]
"""The languages digests and reports are written in."""

#: Longer than any login a mail server accepts (Dovecot: 255 bytes by default).
MAX_LOGIN_LENGTH = 320


@dataclass(frozen=True, slots=True)
class Employee:
    """One mailbox that the inbox rule applies to, and how it is treated.

    `language` and `mode` are ``None`` when the directory leaves them to the
    organisation's defaults (``organisation.language``, ``mode.default``), so a change
    of default reaches everyone who has no override.
    """

    email: str
    login: str = ""
    """The IMAP login; the address when left empty."""
    manager: str | None = None
    team: str | None = None
    language: Language | None = None
    mode: Mode | None = None
    legal_hold: bool = False
    """Nothing is ever deleted or purged from this mailbox (docs/behaviour.md §5.5)."""
    excluded: bool = False
    """Listed (e.g. as a manager) but not processed."""
    groups: tuple[str, ...] = ()
    """Names for the rule condition ``mailbox_group``."""

    def __post_init__(self) -> None:
        """Default the login to the address, as most IMAP servers log in by address.

        Whatever source built it, a login that could inject an IMAP command or name a
        file is refused here, before anything can send it (see `login_problem`).
        """
        if not self.login:
            object.__setattr__(self, "login", self.email)
        problem = login_problem(self.login)
        if problem is not None:
            raise ConfigError(f"directory: login {quoted(self.login)} {problem}")


def login_problem(login: str) -> str | None:
    """What makes *login* unsafe to use, or ``None`` when it is a plain name.

    A login is sent to the IMAP server and, with ``auth = "password"``, names a file
    under ``imap.passwords_dir``. A control character (CR/LF would end the IMAP command
    and start another, RFC 3501 §9) or a path (``/``, ``\\``, ``..``) must never get there.
    """
    if len(login) > MAX_LOGIN_LENGTH:
        return f"is longer than {MAX_LOGIN_LENGTH} characters"
    if any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in login):
        return "contains a control character (a line break, NUL, tab or the like)"
    if "/" in login or "\\" in login:
        return "contains a path separator ('/' or '\\')"
    if ".." in login or login in (".", ""):
        return "is not a plain name ('..' or '.')"
    return None
