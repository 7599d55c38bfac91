"""Public holidays of one country, loading only that country's calendar.

``holidays.country_holidays`` imports ``holidays.countries``, whose ``__init__`` imports
all of the package's ~250 country modules: about 0.1 s and 9 MB on an idle machine,
several times that when the machine is busy, for every ``run --once``. The one module
asked for is loaded from its file here instead; any code the package does not list, or
a layout this version does not know, goes through ``country_holidays`` as before.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from datetime import date
from types import ModuleType

import holidays
from holidays.registry import COUNTRIES

__all__ = ["UnknownCountry", "public_holidays"]

_PACKAGE = "holidays.countries"
#: Country code (ISO 3166-1 alpha-2 or alpha-3, as the package spells it) → module, class.
_BY_CODE = {
    code: (module, entry[0])
    for module, entry in COUNTRIES.items()
    for code in entry[1:]
    if code.isupper() and len(code) in (2, 3)
}


class UnknownCountry(LookupError):
    """A country code the ``holidays`` package has no calendar for."""


#: importlib is not safe against two threads loading one module from its file at once.
_LOCK = threading.Lock()


def public_holidays(country: str, year: int) -> frozenset[date]:
    """The public holidays (the package's default category) of *country* in *year*.

    Raises :class:`UnknownCountry` for a code the ``holidays`` package does not list.
    """
    known = _BY_CODE.get(country)
    calendar = None
    if known is not None:
        module = _country_module(known[0])
        calendar = getattr(module, known[1], None) if module is not None else None
    if calendar is None:
        # The package's own list (aliases such as UK included); it loads every country,
        # as country_holidays does anyway on this path.
        if country not in holidays.list_supported_countries():
            raise UnknownCountry(country)
        return frozenset(holidays.country_holidays(country, years=year).keys())
    return frozenset(calendar(years=year).keys())


def _country_module(name: str) -> ModuleType | None:
    """``holidays.countries.<name>``, without running ``holidays.countries``'s ``__init__``.

    Nothing else changes: a later ``import holidays.countries`` runs that ``__init__``,
    which finds this module already in ``sys.modules`` and uses it.
    """
    full = f"{_PACKAGE}.{name}"
    with _LOCK:
        if full in sys.modules or _PACKAGE in sys.modules:
            return importlib.import_module(full)
        package = importlib.util.find_spec(_PACKAGE)
        locations = package.submodule_search_locations if package is not None else None
        if not locations:
            return None
        spec = importlib.util.spec_from_file_location(full, f"{locations[0]}/{name}.py")
        if spec is None or spec.loader is None:
            return None
        module = importlib.util.module_from_spec(spec)
        sys.modules[full] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[full]
            raise
        return module
