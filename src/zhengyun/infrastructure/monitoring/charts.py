"""Bar charts as SVG geometry for the templates: no script, readable without colour, and
each chart has its figures beside it in a table."""

from dataclasses import dataclass

WIDTH, HEIGHT = 600, 120


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: float


def bars(values, width=WIDTH, height=HEIGHT, gap=2.0):
    """``[Bar]`` for ``[(label, value), …]``, scaled so the largest fills the height."""
    if not values:
        return []
    top = max(value for _, value in values) or 1.0
    step = width / len(values)
    return [
        Bar(
            x=round(n * step + gap / 2, 1),
            y=round(height - height * value / top, 1),
            width=round(max(step - gap, 1.0), 1),
            height=round(height * value / top, 1),
            label=label,
            value=value,
        )
        for n, (label, value) in enumerate(values)
    ]
