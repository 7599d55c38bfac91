"""The detectors' package names its public API explicitly, and every name in it exists."""

from __future__ import annotations

import inboxwarden.detectors as detectors


def test_every_name_in_all_is_defined_by_the_package_itself() -> None:
    """No lazy ``__getattr__`` stands in: each name is a plain attribute of the package."""
    missing = [name for name in detectors.__all__ if name not in vars(detectors)]
    assert not missing, f"inboxwarden.detectors.__all__ names {missing}, which it does not define"
    assert "__getattr__" not in vars(detectors)


def test_the_entry_points_are_public() -> None:
    assert {"scan_message", "scan_text", "extract_text", "mask_text", "Finding", "Kind"} <= set(
        detectors.__all__
    )
