"""Bar charts drawn on the server as SVG (no JavaScript): the geometry here, the markup in
templates/partials/bar_chart.html. The SVG scales to its container through its viewBox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

WIDTH, HEIGHT = 300, 120
LEFT, BOTTOM, TOP = 4, 1, 4  # labels are HTML around the SVG


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # e.g. the day
    text: str  # the value as shown in the tooltip


@dataclass(frozen=True)
class BarChart:
    title: str
    width: int
    height: int
    bars: tuple[Bar, ...]
    peak_text: str  # the top of the scale, e.g. "1,200 tokens"
    first_label: str
    last_label: str
    baseline: float
    empty: bool


def bar_chart(title: str, points: Sequence[tuple[str, float]], fmt: Callable[[float], str]) -> BarChart:
    """One bar per (label, value), equal widths, scaled to the largest value (>= 0)."""
    peak = max((v for _, v in points), default=0) or 0
    plot_w, plot_h = WIDTH - 2 * LEFT, HEIGHT - BOTTOM - TOP
    step = plot_w / max(1, len(points))
    bars = []
    for i, (label, value) in enumerate(points):
        h = 0.0 if peak <= 0 else plot_h * max(0.0, value) / peak
        bars.append(Bar(x=round(LEFT + i * step + step * 0.1, 2), y=round(TOP + plot_h - h, 2),
                        width=round(step * 0.8, 2), height=round(h, 2), label=label, text=fmt(value)))
    return BarChart(title=title, width=WIDTH, height=HEIGHT, bars=tuple(bars), peak_text=fmt(peak),
                    first_label=points[0][0] if points else "", last_label=points[-1][0] if points else "",
                    baseline=TOP + plot_h, empty=peak <= 0)
