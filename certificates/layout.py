"""Fitting text of unknown length into a fixed box on the certificate.

Names and course titles come from users and can be long (120+ characters).
A certificate must never let them run off the page or into the next line of
text, so every variable field gets a box (width x height) and this module picks
a font size and line breaks for it:

1. one line, shrinking the font from ``max_size`` down to ``min_size``;
2. if that is not enough, break between words into two (or ``max_lines``)
   balanced lines, at the largest size that fits both the width and the height
   of the box;
3. last resort (a single enormous word, or text far beyond any sane length):
   break anywhere and go below ``min_size`` -- ugly, but never overflowing.

Widths are measured with reportlab's own metrics (``stringWidth``), the same
numbers the PDF uses to place glyphs, so "fits" here means fits on paper.
Everything here is pure arithmetic: no canvas, no PDF.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.pdfbase.pdfmetrics import getFont, stringWidth

#: Distance between baselines, as a multiple of the font size. Noto Sans ink
#: spans -0.242 (descenders) to +1.059 (stacked marks on capitals, e.g. "Ễ"),
#: so 1.32 keeps the lines of a wrapped name from ever touching.
LINE_SPACING = 1.32


def font_extent(font: str) -> tuple[float, float]:
    """(ascent, descent) of a registered font per 1 pt of size; descent is negative.

    Taken from the font's own metrics, which leave room for stacked Vietnamese
    diacritics above capitals (Ấ, Ỗ), so a box built from them holds every glyph.
    """
    face = getFont(font).face
    return face.ascent / 1000, face.descent / 1000


def block_height(font: str, size: float, n_lines: int) -> float:
    """Height from the top of the first line to the bottom of the last."""
    ascent, descent = font_extent(font)
    return size * ((n_lines - 1) * LINE_SPACING + ascent - descent)


@dataclass(frozen=True)
class FittedText:
    """The outcome of fitting: which size, which lines."""

    size: float
    lines: tuple[str, ...]


def _width(text: str, font: str) -> float:
    """Width of ``text`` at 1 pt; widths scale linearly with the size."""
    return stringWidth(text, font, 1.0)


def _pack(tokens: list[str], widths: list[float], sep_width: float, sep: str, limit: float) -> list[str]:
    """Greedy line filling: as many tokens per line as fit in ``limit`` (1 pt units).

    Uses precomputed token widths: reportlab does no kerning, so the width of
    a line is exactly the sum of its parts.
    """
    lines: list[list[str]] = []
    line_width = 0.0
    for token, width in zip(tokens, widths, strict=True):
        if lines and line_width + sep_width + width <= limit:
            lines[-1].append(token)
            line_width += sep_width + width
        else:
            lines.append([token])
            line_width = width
    return [sep.join(line) for line in lines]


def balanced_lines(tokens: list[str], sep: str, font: str, n_lines: int) -> list[str]:
    """Split tokens into at most ``n_lines`` lines whose widest line is as narrow as possible.

    Balanced lines look intentional on a certificate; greedy filling would leave
    a long first line and a one-word second line. Binary search on the line
    width limit, checking each limit with greedy packing (which is optimal for
    "does it fit in n lines").
    """
    widths = [_width(t, font) for t in tokens]
    sep_width = _width(sep, font) if sep else 0.0
    low = max(widths)  # no line can be narrower than its widest token
    high = max(sum(widths) + sep_width * (len(tokens) - 1), low)
    best = _pack(tokens, widths, sep_width, sep, high)
    for _ in range(40):
        if high - low < 1e-4:
            break
        middle = (low + high) / 2
        attempt = _pack(tokens, widths, sep_width, sep, middle)
        if len(attempt) <= n_lines:
            best, high = attempt, middle
        else:
            low = middle
    return best


def fit_text(
    text: str,
    font: str,
    *,
    max_width: float,
    max_height: float,
    max_size: float,
    min_size: float,
    max_lines: int = 2,
) -> FittedText:
    """Choose size and line breaks so ``text`` fits in a ``max_width`` x ``max_height`` box.

    ``max_height`` must hold the whole block, see :func:`block_height`. See the
    module docstring for the order of the attempts. The returned lines always
    fit the box.
    """
    if not text:
        return FittedText(max_size, ("",))

    def largest_size(lines: list[str]) -> float:
        widest = max(_width(line, font) for line in lines) or 1e-9
        by_height = max_height / block_height(font, 1.0, len(lines))
        return min(max_size, max_width / widest, by_height)

    # 1. One line, shrinking down to the minimum size.
    size = largest_size([text])
    if size >= min_size or max_lines == 1:
        return FittedText(_round_down(size), (text,))

    # 2. Break between words into 2..max_lines balanced lines.
    words = text.split(" ")
    for n in range(2, max_lines + 1):
        if len(words) < n:
            break
        lines = balanced_lines(words, " ", font, n)
        size = largest_size(lines)
        if size >= min_size:
            return FittedText(_round_down(size), tuple(lines))

    # 3. Break anywhere (between characters) and accept a size below the minimum.
    lines = balanced_lines(list(text), "", font, max_lines)
    return FittedText(_round_down(largest_size(lines)), tuple(lines))


def _round_down(size: float) -> float:
    """Round down to 0.1 pt: stable, short numbers in the PDF, still within the box."""
    return int(size * 10) / 10
