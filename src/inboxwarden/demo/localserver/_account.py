"""The account the local server's processes run as, and what it may reach."""

from __future__ import annotations

import grp
import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path

from inboxwarden.errors import LocalServerError

__all__ = ["ServiceAccount", "check_reachable"]


@dataclass(frozen=True)
class ServiceAccount:
    """The unprivileged account every Dovecot process of the local server runs as."""

    user: str
    group: str
    uid: int
    gid: int

    @property
    def needs_privilege_drop(self) -> bool:
        """Tells whether this process is root and must hand files and processes over."""
        return os.geteuid() == 0

    @classmethod
    def for_this_process(cls) -> ServiceAccount:
        """Returns the current user, or a system account when running as root.

        Dovecot refuses to access mail as uid 0 ("userdb returned 0 as uid"), so root
        hands everything to the ``dovecot`` account that the Debian package creates (or
        ``nobody``) and starts the whole server as that account. The server is then the
        same rootless server an ordinary user gets, with one code path for both.
        """
        if os.geteuid() == 0:
            for name in ("dovecot", "nobody"):
                try:
                    entry = pwd.getpwnam(name)
                except KeyError:
                    continue
                return cls(name, _group_name(entry.pw_gid), entry.pw_uid, entry.pw_gid)
            raise LocalServerError("running as root, but there is no dovecot or nobody account")
        try:
            entry = pwd.getpwuid(os.getuid())
        except KeyError:
            raise LocalServerError(
                f"uid {os.getuid()} has no entry in the user database; Dovecot needs an "
                "account name to run as"
            ) from None
        return cls(entry.pw_name, _group_name(os.getgid()), os.getuid(), os.getgid())


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        raise LocalServerError(f"gid {gid} has no entry in the group database") from None


def check_reachable(path: Path, account: ServiceAccount) -> None:
    """Raises unless *account* may enter every directory above *path*.

    Root can read anything, but the server runs as the service account; a base_dir
    under a private directory (``/root``, pytest's ``/tmp/pytest-of-root``) is out of
    its reach, and Dovecot would only say so at the first login.
    """
    for parent in path.parents:
        info = parent.stat()
        if info.st_uid == account.uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid == account.gid:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            raise LocalServerError(
                f"The local Dovecot runs as {account.user!r} when started by root, and "
                f"{account.user!r} cannot enter {parent} (mode {info.st_mode & 0o777:o}), "
                f"so it cannot reach {path}. Use a base_dir under /tmp, for example "
                "tempfile.mkdtemp()."
            )
