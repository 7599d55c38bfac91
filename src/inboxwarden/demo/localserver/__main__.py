"""``python -m inboxwarden.demo.localserver --ensure-installed``: what ``make`` runs first.

Installs Dovecot from Debian's packages when it is missing and we are root; otherwise
says which package to install. Exits 1 with that message, so ``make`` stops clearly.
"""

from __future__ import annotations

import argparse
import sys

from inboxwarden.demo.localserver import dovecot_version, ensure_dovecot_installed
from inboxwarden.errors import LocalServerError


def main() -> int:
    """Check (and if possible install) Dovecot; print its version."""
    parser = argparse.ArgumentParser(prog="python -m inboxwarden.demo.localserver")
    parser.add_argument(
        "--ensure-installed", action="store_true", help="install Dovecot if missing"
    )
    args = parser.parse_args()
    try:
        if args.ensure_installed:
            ensure_dovecot_installed()
        print(f"dovecot {dovecot_version()}")
    except LocalServerError as exc:
        print(f"inboxwarden: {exc}", file=sys.stderr)
        return 1
    return 0


sys.exit(main())
