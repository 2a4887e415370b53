"""Bar charts as inline SVG, written by hand: drawn when a report is made, so a page
shows them with no script, no chart library and no request to another host (the sites
run on intranets). Every text that goes into the SVG is HTML-escaped."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence

WIDTH, HEIGHT = 640, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 52, 20, 40, 34
_FONT = 12


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _n(value: float) -> str:
    """A coordinate: short, and the same bytes for the same figure."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def text(x: float, y: float, content: object, *, anchor: str = "middle", size: int = _FONT,
         fill: str = "currentColor", weight: str | None = None) -> str:
    bold = f' font-weight="{_e(weight)}"' if weight else ""
    return (f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{_e(anchor)}" font-size="{size}" '
            f'fill="{_e(fill)}"{bold}>{_e(content)}</text>')


def line(x1: float, y1: float, x2: float, y2: float, *, stroke: str = "#999", width: float = 1,
         dash: str | None = None) -> str:
    dashed = f' stroke-dasharray="{_e(dash)}"' if dash else ""
    return (f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
            f'stroke="{_e(stroke)}" stroke-width="{_n(width)}"{dashed}/>')


def rect(x: float, y: float, w: float, h: float, *, fill: str, tooltip: str | None = None) -> str:
    tip = f"<title>{_e(tooltip)}</title>" if tooltip else ""
    return f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" fill="{_e(fill)}">{tip}</rect>'


def nice_ticks(maximum: float, count: int = 4) -> list[float]:
    """0 and round steps (1, 2 or 5 × 10ⁿ) up to at least `maximum`."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(s * power for s in (1, 2, 5, 10) if s * power >= raw)
    if step < 1:
        step = 1.0
    top = math.ceil(maximum / step) * step
    return [i * step for i in range(int(round(top / step)) + 1)]


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float | None], *,
              ticks: Sequence[float] | None = None,
              value_format: Callable[[float], str] = lambda v: f"{v:g}",
              tick_format: Callable[[float], str] = lambda v: f"{v:g}",
              reference: float | None = None, reference_label: str = "",
              colour: str = "#3f6ec6", missing_label: str = "—",
              width: int = WIDTH, height: int = HEIGHT) -> str:
    """One bar per label, its value written above it; a None value draws no bar (shown as
    `missing_label`). `reference` draws a dashed line across the chart (a target)."""
    present = [v for v in values if v is not None]
    ticks = list(ticks) if ticks else nice_ticks(max([*present, reference or 0], default=0))
    top = ticks[-1] or 1
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    base = _TOP + plot_h

    def y(value: float) -> float:
        return base - plot_h * min(max(value, 0), top) / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{_e(title)}" class="kb-chart" '
        f'style="max-width:100%;height:auto">',
        f"<title>{_e(title)}</title>",
        text(_LEFT, 18, title, anchor="start", size=_FONT + 2, weight="bold"),
    ]
    for tick in ticks:
        parts.append(line(_LEFT, y(tick), width - _RIGHT, y(tick), stroke="#ccc" if tick else "#666"))
        parts.append(text(_LEFT - 6, y(tick) + 4, tick_format(tick), anchor="end", size=_FONT - 1))
    slot = plot_w / max(len(labels), 1)
    bar_w = min(slot * 0.6, 48)
    for i, (label, value) in enumerate(zip(labels, values)):
        centre = _LEFT + slot * (i + 0.5)
        parts.append(text(centre, base + 16, label, size=_FONT - 1))
        if value is None:
            parts.append(text(centre, base - 4, missing_label, size=_FONT - 1, fill="#888"))
            continue
        shown = value_format(value)
        parts.append(rect(centre - bar_w / 2, y(value), bar_w, base - y(value), fill=colour,
                          tooltip=f"{label}：{shown}"))
        if y(value) - 4 - _FONT < _TOP + 2 and base - y(value) > _FONT + 6:
            # Near the top a label above the bar would sit on the reference line: inside it.
            parts.append(text(centre, y(value) + _FONT + 2, shown, size=_FONT - 1, fill="#fff"))
        else:
            parts.append(text(centre, y(value) - 4, shown, size=_FONT - 1))
    if reference is not None:
        parts.append(line(_LEFT, y(reference), width - _RIGHT, y(reference), stroke="#d62728", width=1.5, dash="6 4"))
        if reference_label:
            parts.append(text(width - _RIGHT, 18, reference_label, anchor="end", size=_FONT - 1, fill="#d62728"))
    parts.append("</svg>")
    return "".join(parts)


def figure(svg: str, caption: str = "") -> str:
    """The chart as one block of HTML for a Markdown page: a single line, so Markdown
    passes it through untouched."""
    cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return f'<figure class="kb-chart-figure">{svg}{cap}</figure>'
