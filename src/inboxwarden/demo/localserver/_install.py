"""Finding, and on request installing, the Dovecot binaries the local server runs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from inboxwarden.errors import LocalServerError

__all__ = [
    "DOVEADM",
    "DOVECOT",
    "SUPPORTED_SERIES",
    "check_supported_version",
    "dovecot_version",
    "ensure_dovecot_installed",
]

DOVECOT = Path("/usr/sbin/dovecot")
DOVEADM = Path("/usr/bin/doveadm")

# The generated configuration is written in 2.3 syntax; 2.4 changed most setting names
# and is not backwards compatible, so it is refused with a clear message instead of
# failing on the first unknown setting.
SUPPORTED_SERIES = "2.3."


def ensure_dovecot_installed() -> None:
    """Installs Dovecot's IMAP server from the Debian packages when it is missing.

    Only root can install; anyone else gets the command to run, because a test suite
    or a demo that silently asks for a password would hang in CI. Installing the Debian
    package may also start the system-wide Dovecot on ports 143/993; the local server
    does not care, it has its own configuration, directories and ports.
    """
    if DOVECOT.exists() and DOVEADM.exists():
        return
    if os.geteuid() != 0:
        raise LocalServerError(
            f"Dovecot is not installed ({DOVECOT} is missing). "
            "Install it with: sudo apt-get install dovecot-imapd"
        )
    if shutil.which("apt-get") is None:
        raise LocalServerError(
            f"Dovecot is not installed ({DOVECOT} is missing) and apt-get is not available; "
            "install Dovecot 2.3 (the dovecot-imapd package on Debian and Ubuntu)."
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "dovecot-imapd"],
    ):
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise LocalServerError(
                f"{' '.join(command)} failed with exit status {result.returncode}: "
                f"{result.stderr.strip()[-2000:]}"
            )
    if not DOVECOT.exists():
        raise LocalServerError(f"dovecot-imapd was installed but {DOVECOT} is still missing")


def dovecot_version() -> str:
    """Returns the installed Dovecot version, such as ``2.3.19.1``."""
    if not DOVECOT.exists():
        raise LocalServerError(
            f"Dovecot is not installed ({DOVECOT} is missing); call "
            "ensure_dovecot_installed() or run: sudo apt-get install dovecot-imapd"
        )
    result = subprocess.run(
        [str(DOVECOT), "--version"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or not result.stdout.strip():
        raise LocalServerError(f"{DOVECOT} --version failed: {result.stderr.strip()}")
    return result.stdout.split()[0]


def check_supported_version() -> str:
    """Returns the installed version, or refuses a series the configuration is not written for."""
    version = dovecot_version()
    if not version.startswith(SUPPORTED_SERIES):
        raise LocalServerError(
            f"Dovecot {version} is installed, but the local server's configuration is written "
            f"for Dovecot {SUPPORTED_SERIES}x (2.4 renamed most settings)."
        )
    return version
