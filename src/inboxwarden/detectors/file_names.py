"""Attachment file names as text the detectors can read.

File names join words with ``_`` (``lonebesked_811218-9876.pdf``), which the
detectors' word boundaries treat as part of a word, so an identity number inside one
went unseen. Here a file-name separator becomes a space: ``_`` always, ``-`` and ``+``
where they touch a letter (between digits a ``-`` belongs to the number). A piece of
the name with an ``@`` in it is an e-mail address, whose ``_``, ``-`` and ``+`` are its
own, and is left alone. The length is kept, so a finding's offsets still point into the
original name.
"""

from __future__ import annotations

import re

__all__ = ["file_name_text"]

_PIECE = re.compile(r"[^\s()\[\]<>]+")
_SEPARATOR = re.compile(r"_|(?<=[^\W\d_])[-+]|[-+](?=[^\W\d_])")


def file_name_text(name: str) -> str:
    """*name* with its word separators as spaces, the same length as *name*."""
    return _PIECE.sub(_spaced, name)


def _spaced(piece: re.Match[str]) -> str:
    text = piece.group(0)
    return text if "@" in text else _SEPARATOR.sub(" ", text)
