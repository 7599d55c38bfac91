"""Importing the detectors (the policy does, for the kinds) loads no scanner library."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_package_loads_neither_phonenumbers_nor_stdnum() -> None:
    code = (
        "import sys, inboxwarden.detectors;"
        " print(sorted({m.split('.')[0] for m in sys.modules} & {'phonenumbers', 'stdnum'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_scanning_loads_them_when_needed() -> None:
    code = (
        "import sys; from inboxwarden.detectors import scan_text;"
        " found = scan_text('Ring 070-123 45 67 eller SE45 5000 0000 0583 9825 7466.');"
        " print(sorted(f.kind.name for f in found),"
        " sorted({m.split('.')[0] for m in sys.modules} & {'phonenumbers', 'stdnum'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['IBAN', 'PHONE'] ['phonenumbers', 'stdnum']"
