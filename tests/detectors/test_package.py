"""The package's names: every one resolves, and importing the package loads no scanner."""

from __future__ import annotations

import importlib
import subprocess
import sys

import inboxwarden.detectors as detectors


def test_every_exported_name_resolves_to_its_modules_own_object() -> None:
    for name in detectors.__all__:
        value = getattr(detectors, name)
        module = detectors._LAZY.get(name)
        if module is not None:
            source = importlib.import_module(f"inboxwarden.detectors.{module}")
            assert value is getattr(source, name), name


def test_the_lazy_names_are_exactly_the_exported_ones_not_imported_eagerly() -> None:
    eager = {"Finding", "Kind", "MessageScan", "Part", "TextScan", "kinds_of"}
    assert set(detectors._LAZY) | eager == set(detectors.__all__)
    assert not set(detectors._LAZY) & eager


def test_importing_the_kinds_loads_no_scanner_library() -> None:
    code = (
        "import sys, inboxwarden.detectors.kinds;"
        " print(sorted({m.split('.')[0] for m in sys.modules} & {'phonenumbers', 'stdnum'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
