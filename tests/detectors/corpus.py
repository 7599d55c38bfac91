"""Where the shared test corpus lives, found without copying it into the repository.

The corpus (``/work/shared/corpus``, see its SOURCES.md) is looked for, in order, at
``$INBOXWARDEN_CORPUS``, at ``/work/shared/corpus``, and at ``<repo>/../shared/corpus``.
The environment variable is read at import, before any fixture that clears
``INBOXWARDEN_*`` variables runs.
"""

from __future__ import annotations

import os
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]
_CANDIDATES = [
    os.environ.get("INBOXWARDEN_CORPUS"),
    "/work/shared/corpus",
    str(_REPO.parent / "shared" / "corpus"),
]


def find_corpus() -> Path | None:
    """Return the corpus directory, or None when it is not on this machine."""
    for candidate in _CANDIDATES:
        if candidate and (Path(candidate) / "SOURCES.md").is_file():
            return Path(candidate)
    return None


CORPUS = find_corpus()
