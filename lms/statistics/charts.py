"""Charts drawn on the server as inline SVG: no JavaScript, readable in print.

Each chart has a <title> and <desc> (read by screen readers, referenced by
aria-labelledby) and a text label on every bar, so the figures can be read without
telling colours apart. Labels and numbers come in already translated and formatted.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

COLOURS = ("#1f5f99", "#d9822b")  # blue and orange: distinct in greyscale print as well


@dataclass
class Series:
    label: str
    values: list[int]
    texts: list[str]  # the values formatted for the locale


def _legend(series: list[Series], x: float, y: float) -> str:
    parts = []
    for i, item in enumerate(series):
        parts.append(f'<rect x="{x + i * 180}" y="{y - 10}" width="12" height="12" fill="{COLOURS[i % 2]}"/>'
                     f'<text x="{x + i * 180 + 18}" y="{y}" font-size="12">{escape(item.label)}</text>')
    return "".join(parts)


def bar_chart(chart_id: str, title: str, description: str, labels: list[str], series: list[Series],
              width: int = 720, height: int = 260) -> Markup:
    """Grouped vertical bars (one group per label, e.g. per month)."""
    top, bottom, left = 30, 40, 10
    plot_height = height - top - bottom
    peak = max([v for item in series for v in item.values] + [1])
    group = (width - left * 2) / max(len(labels), 1)
    bar = max(min(group / (len(series) + 1), 40), 4)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}" role="img" '
             f'viewBox="0 0 {width} {height}" width="100%" aria-labelledby="{chart_id}-title {chart_id}-desc">',
             f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>',
             _legend(series, left, 16)]
    for i, label in enumerate(labels):
        x0 = left + i * group + (group - bar * len(series)) / 2
        for j, item in enumerate(series):
            h = plot_height * item.values[i] / peak
            x, y = x0 + j * bar, top + plot_height - h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" fill="{COLOURS[j % 2]}">'
                         f'<title>{escape(label)} · {escape(item.label)}: {escape(item.texts[i])}</title></rect>')
            if len(labels) <= 18:
                parts.append(f'<text x="{x + (bar - 2) / 2:.1f}" y="{y - 3:.1f}" font-size="10" '
                             f'text-anchor="middle">{escape(item.texts[i])}</text>')
        parts.append(f'<text x="{left + i * group + group / 2:.1f}" y="{height - bottom + 16}" font-size="11" '
                     f'text-anchor="middle">{escape(label)}</text>')
    parts.append(f'<line x1="{left}" x2="{width - left}" y1="{top + plot_height}" y2="{top + plot_height}" stroke="#555"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  # nosec B704: every text is escaped above; ids are ours


def horizontal_bars(chart_id: str, title: str, description: str, labels: list[str], series: list[Series],
                    width: int = 720) -> Markup:
    """Horizontal grouped bars with the category name above each group (e.g. per course)."""
    row, bar, left, label_width = 22 * len(series) + 22, 18, 10, 90
    height = 30 + row * max(len(labels), 1)
    peak = max([v for item in series for v in item.values] + [1])
    span = width - left * 2 - label_width
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}" role="img" '
             f'viewBox="0 0 {width} {height}" width="100%" aria-labelledby="{chart_id}-title {chart_id}-desc">',
             f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>',
             _legend(series, left, 16)]
    for i, label in enumerate(labels):
        y0 = 30 + i * row
        parts.append(f'<text x="{left}" y="{y0 + 14}" font-size="12" font-weight="bold">{escape(label)}</text>')
        for j, item in enumerate(series):
            w = span * item.values[i] / peak
            y = y0 + 20 + j * 22
            parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" fill="{COLOURS[j % 2]}">'
                         f'<title>{escape(label)} · {escape(item.label)}: {escape(item.texts[i])}</title></rect>'
                         f'<text x="{left + w + 6:.1f}" y="{y + 13}" font-size="11">{escape(item.label)}: '
                         f'{escape(item.texts[i])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  # nosec B704: every text is escaped above; ids are ours
