"""``python -m inboxwarden``: the same as the ``inboxwarden`` command."""

from __future__ import annotations

from inboxwarden.cli.commands import main

main()
