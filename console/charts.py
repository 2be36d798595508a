"""Bar charts drawn on the server as SVG geometry (the template draws the rectangles): no chart library.

Values may be negative (a month with more credited than billed): bars then hang below the zero line.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

WIDTH, HEIGHT = 640, 240
TOP, BOTTOM, SIDE = 24, 40, 16  # room for the values above and the labels below


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    text: str  # the value as printed
    x: float
    y: float
    width: float
    height: float

    @property
    def middle(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    zero_y: float
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def label_y(self) -> float:
        return self.height - BOTTOM / 2


def bar_chart(title: str, values: list[tuple[str, Decimal]]) -> BarChart:
    """Bars for ``(label, value)`` pairs, scaled to the largest value (0 always on the scale)."""
    plot = HEIGHT - TOP - BOTTOM
    high = max([Decimal(0), *(value for _, value in values)])
    low = min([Decimal(0), *(value for _, value in values)])
    span = (high - low) or Decimal(1)
    zero_y = TOP + float(high / span) * plot
    slot = (WIDTH - 2 * SIDE) / max(len(values), 1)
    bars = []
    for index, (label, value) in enumerate(values):
        height = float(abs(value) / span) * plot
        bars.append(Bar(label=label, value=value, text=f"{value:,.2f}", x=SIDE + index * slot + slot * 0.15,
                        y=zero_y - height if value >= 0 else zero_y, width=slot * 0.7, height=height))  # fmt: skip
    return BarChart(title=title, bars=bars, zero_y=zero_y)
