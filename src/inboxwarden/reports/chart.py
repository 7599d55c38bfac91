"""The report's chart: the team's overdue messages over the last weeks, as a PNG.

Drawn with matplotlib's object API on the Agg canvas — no pyplot, so no global figure
state shared between the scheduler's threads and no display needed — with the
DejaVu Sans that matplotlib ships, so a bare container renders the same image as a
workstation. The PNG carries no timestamp, so equal data gives equal bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FONT_PT", "chart_figure", "overdue_chart"]

#: The chart's size in CSS pixels as the HTML shows it (the templates' ``<img width>``
#: says the same); rendered at 2× for sharp screens. Narrow on purpose: on a 390 px
#: phone the mail's column is ~328 px, and the image shrinks with it, text and all.
WIDTH_PX, HEIGHT_PX = 400, 200
#: Every text in the chart, in points at the chart's own size. 11 pt is 14.7 CSS px,
#: about 12 px once a phone shrinks the chart to 328 px (6 px when it was 600 px at 9 pt).
FONT_PT = 11
_SCALE = 2
_BAR = "#d97706"
_BAR_CURRENT = "#b45309"
_ZERO = "#15803d"
_TEXT = "#374151"
_MUTED = "#9ca3af"
_AXIS = "#d1d5db"


def overdue_chart(labels: Sequence[str], values: Sequence[int | None], *, no_data: str) -> bytes:
    """A bar chart of *values* (overdue per week, None where no run saw the team).

    The last bar is the report's week and is drawn darker; a week at zero gets a green
    tick so it reads as "done", not as missing; a week without data gets *no_data*.
    """
    figure = chart_figure(labels, values, no_data=no_data)
    buffer = io.BytesIO()
    # No "Software" or timestamp chunks: the same data gives the same bytes.
    figure.savefig(buffer, format="png", dpi=figure.dpi, metadata={"Software": None})
    return buffer.getvalue()


def chart_figure(labels: Sequence[str], values: Sequence[int | None], *, no_data: str) -> Figure:
    """The chart of :func:`overdue_chart` as a matplotlib figure, before it is saved."""
    if len(labels) != len(values):
        raise ValueError("one label per value")
    # Imported here: matplotlib costs ~0.3 s to import, which `inboxwarden plan` should not pay.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dpi = 96 * _SCALE
    figure = Figure(figsize=(WIDTH_PX / 96, HEIGHT_PX / 96), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.01, 0.16, 0.98, 0.82))
    positions = list(range(len(values)))
    heights = [v or 0 for v in values]
    top = max(heights, default=0)
    colours = [_BAR_CURRENT if i == len(values) - 1 else _BAR for i in range(len(values))]
    axes.bar(positions, heights, width=0.62, color=colours, zorder=2)
    lift = max(top * 0.03, 0.05)
    for x, value in zip(positions, values, strict=True):
        if value is None:
            # One word a line: at a readable size "ingen körning" is wider than a bar.
            words = no_data.replace(" ", "\n")
            axes.text(x, lift, words, ha="center", va="bottom", fontsize=FONT_PT, color=_MUTED)
        elif value == 0:
            axes.plot([x - 0.31, x + 0.31], [0, 0], color=_ZERO, linewidth=3, zorder=3)
            axes.text(x, lift, "0", ha="center", va="bottom", fontsize=FONT_PT, color=_ZERO)
        else:
            axes.text(
                x, value + lift, str(value), ha="center", va="bottom", fontsize=FONT_PT, color=_TEXT
            )
    axes.set_xticks(positions, list(labels))
    axes.set_xlim(-0.6, len(values) - 0.4)
    axes.set_ylim(0, max(top * 1.22, 1))
    # Every bar carries its value, so a y-axis would only repeat it.
    axes.set_yticks([])
    axes.tick_params(axis="x", labelsize=FONT_PT, colors=_TEXT, length=0)
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color(_AXIS)
    return figure
