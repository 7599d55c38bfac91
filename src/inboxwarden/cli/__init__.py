"""The command line: :mod:`.commands` defines the commands, :mod:`.tables` what they print."""

from inboxwarden.cli.commands import main

__all__ = ["main"]
