"""Public holidays from one country's module: the package's own answer, loaded cheaply."""

from __future__ import annotations

import subprocess
import sys

import holidays
import pytest

from inboxwarden.policy.public_holidays import UnknownCountry, public_holidays


@pytest.mark.parametrize("code", ["SE", "SWE", "NO", "FI", "DK", "DE", "GB", "US", "AX"])
@pytest.mark.parametrize("year", [1999, 2026, 2031])
def test_the_dates_are_the_packages_own(code, year):
    assert public_holidays(code, year) == frozenset(holidays.country_holidays(code, years=year))


def test_a_code_the_package_does_not_list_raises_unknown_country():
    assert "XX" not in holidays.list_supported_countries()
    with pytest.raises(UnknownCountry):
        public_holidays("XX", 2026)


def test_only_the_configured_countrys_module_is_imported():
    """The package's country index imports every country; this path imports one."""
    code = (
        "import sys; from inboxwarden.policy.public_holidays import UnknownCountry, public_holidays;"
        " assert public_holidays('SE', 2026);"
        " print(sorted(m for m in sys.modules if m.startswith('holidays.countries')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['holidays.countries.sweden']"


def test_the_package_index_loaded_later_shares_the_module():
    code = (
        "import sys; from inboxwarden.policy.public_holidays import UnknownCountry, public_holidays;"
        " public_holidays('SE', 2026); import holidays.countries;"
        " print(holidays.countries.Sweden is sys.modules['holidays.countries.sweden'].Sweden,"
        " len([m for m in sys.modules if m.startswith('holidays.countries.')]) > 100)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]
