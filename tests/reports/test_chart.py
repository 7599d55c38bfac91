"""The chart is a PNG of the promised size, the same bytes for the same data."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from inboxwarden.reports.chart import HEIGHT_PX, WIDTH_PX, overdue_chart

LABELS = [f"v. {n}" for n in range(39, 47)]


def test_the_chart_is_a_png_at_twice_the_displayed_size():
    png = overdue_chart(LABELS, [None, 3, 0, 12, 5, 8, 0, 2], no_data="ingen data")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (WIDTH_PX * 2, HEIGHT_PX * 2)


def test_the_same_data_gives_the_same_bytes():
    values = [1, 2, 3, 4, 5, 6, 7, 8]
    assert overdue_chart(LABELS, values, no_data="-") == overdue_chart(LABELS, values, no_data="-")
    assert overdue_chart(LABELS, values, no_data="-") != overdue_chart(
        LABELS, values[::-1], no_data="-"
    )


def test_a_chart_without_any_data_still_renders():
    assert overdue_chart(LABELS, [None] * 8, no_data="no data").startswith(b"\x89PNG")


def test_labels_and_values_must_pair_up():
    with pytest.raises(ValueError, match="one label per value"):
        overdue_chart(LABELS, [1, 2], no_data="-")
