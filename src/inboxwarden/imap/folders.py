"""Finding the special folders (Trash, Sent) on servers that name them differently.

SPECIAL-USE attributes (RFC 6154) come first. Servers without them, and Exchange
mailboxes whose folder names follow the user's language, need the localised names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["FALLBACK_NAMES", "FolderEntry", "find_special"]


@dataclass(frozen=True, slots=True)
class FolderEntry:
    """One LIST answer (RFC 3501 §7.2.2): name, attributes and hierarchy separator."""

    name: str
    flags: frozenset[str]
    separator: str


#: Localised names, tried in order after the SPECIAL-USE attribute, case-insensitively.
FALLBACK_NAMES: dict[str, tuple[str, ...]] = {
    "\\Trash": (
        "Trash",
        "Deleted Items",
        "Deleted Messages",
        "Deleted",
        "Bin",
        "Borttaget",
        "Borttagna objekt",
        "Papperskorgen",
        "Papperskorg",
        "[Gmail]/Trash",
        "[Gmail]/Bin",
        "[Google Mail]/Trash",
    ),
    "\\Sent": (
        "Sent",
        "Sent Items",
        "Sent Messages",
        "Sent Mail",
        "Skickat",
        "Skickade objekt",
        "Skickade meddelanden",
        "[Gmail]/Sent Mail",
        "[Google Mail]/Sent Mail",
    ),
}


def find_special(folders: Sequence[FolderEntry], use: str) -> str | None:
    """The folder carrying attribute *use* (``\\Trash``), else the first localised name."""
    wanted = use.lower()
    for entry in folders:
        if any(flag.lower() == wanted for flag in entry.flags):
            return entry.name
    by_name = {entry.name.lower(): entry.name for entry in folders}
    for name in FALLBACK_NAMES.get(use, ()):
        for candidate in (name, f"INBOX.{name}", f"INBOX/{name}"):
            found = by_name.get(candidate.lower())
            if found is not None:
                return found
    return None
