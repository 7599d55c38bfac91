"""Fixtures shared by the detector tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .corpus import CORPUS


@pytest.fixture(name="corpus", scope="session")
def _corpus() -> Path:
    """The shared test corpus; the test is skipped where it is absent."""
    if CORPUS is None:
        pytest.skip("shared corpus not found (set INBOXWARDEN_CORPUS)")
    return CORPUS


@pytest.fixture(name="load_json", scope="session")
def _load_json(corpus: Path) -> Any:
    """Read a JSON file of the corpus by its relative path."""

    def load(relative: str) -> Any:
        return json.loads((corpus / relative).read_text(encoding="utf-8"))

    return load
