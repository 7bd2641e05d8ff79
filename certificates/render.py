"""Course-completion certificates as PDF: ``CertificateData`` in, PDF bytes out.

Design
------
* Plain Python on top of reportlab's canvas: no Flask, no database, no gettext.
  The caller passes everything to print, already looked up; the two languages'
  fixed wording lives in ``labels.py``.
* Vietnamese needs a real font: Helvetica has no "ệ" or "Ơ". Noto Sans regular
  and bold ship in ``certificates/fonts/`` (Latin + Vietnamese subset, OFL, see
  the README there) and reportlab embeds only the glyphs a PDF actually uses.
  All text is NFC-normalised first so each letter is one precomposed glyph
  (reportlab does no shaping, so combining accents would be misplaced).
* Two steps per page: :func:`plan_page` decides where every piece of text goes
  (pure arithmetic, testable: nothing overlaps, nothing leaves the page), then
  :func:`draw_page` paints the plan on a canvas. Long names and course titles
  shrink, then wrap to two lines (see ``layout.py``).
* The QR code is drawn from segno's module matrix as one filled path of
  rectangles, one rectangle per horizontal run of dark modules. The whole
  certificate renders ~4-5x faster than with reportlab's QR widget (which
  encodes again and draws module by module; see bench/), and one path means
  no hairline seams between modules.
* Deterministic output: same data, same bytes. ``invariant=1`` plus a creation
  date and document ID derived from the data (no clock, no random IDs), so a
  certificate can be re-rendered later and compared or cached.
* :func:`render_many` writes one multi-page PDF for bulk printing in constant
  memory by streaming finished pages to the output (see ``pdfstream.py``).
  :func:`render_certificate` is the same path with one page, so a page from a
  bulk print is exactly the page a learner downloads.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import logging
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import segno
from babel.dates import format_date
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from certificates.codes import format_code, is_well_formed
from certificates.labels import LABELS
from certificates.layout import LINE_SPACING, FittedText, block_height, fit_text, font_extent
from certificates.pdfstream import StreamingPdfWriter
from certificates.text import clean_text

PAGE_WIDTH, PAGE_HEIGHT = PAGE_SIZE = landscape(A4)  # 841.89 x 595.28 pt

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_REGULAR = "Certificates-NotoSans"
FONT_BOLD = "Certificates-NotoSans-Bold"

# Colours (RGB 0..1): a deep red and a muted gold that print well in black and white too.
RED = (0.60, 0.10, 0.12)
GOLD = (0.78, 0.60, 0.20)
INK = (0.12, 0.12, 0.12)
GREY = (0.35, 0.35, 0.35)

BORDER_OUTER = 22.0  # distance of the thick frame from the paper edge
BORDER_INNER = 30.0  # thin frame; all content stays inside it
MARGIN = 70.0  # left/right edge of the text area
CENTER_X = PAGE_WIDTH / 2
WIDE_TEXT = 680.0  # width available to the name and the course title
QR_SIZE = 100.0  # ~35 mm: easy for a phone camera from a printed page
QR_QUIET_MODULES = 4  # blank border the QR standard requires around the code
#: Printed for a character the fonts cannot draw (a stored name from before the name
#: rule, say): the standard replacement character, which the fonts have.
REPLACEMENT = "\ufffd"
#: The fields of CertificateData that are printed as text.
TEXT_FIELDS = ("full_name", "course_title", "commune_name", "province_name", "serial", "verification_code",
               "verify_url")

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CertificateData:
    """Everything printed on one certificate, already looked up by the caller."""

    full_name: str
    course_title: str
    completed_on: datetime.date
    commune_name: str
    province_name: str
    serial: str  # e.g. "2026-000123"
    verification_code: str  # e.g. "K7QM-2XHP-94T"; a valid code is printed grouped either way
    verify_url: str
    locale: str = "vi"  # "vi" or "en"


@dataclass(frozen=True)
class PlacedText:
    """One line of text at its final position; ``x`` is the anchor for ``align``."""

    text: str
    font: str
    size: float
    x: float
    y: float  # baseline
    align: str = "center"  # "left", "center" or "right"
    color: tuple[float, float, float] = INK
    field: str = ""  # what this is ("name", "course", ...); lines of one field share it

    def box(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) of the ink, from the font's ascent/descent."""
        width = pdfmetrics.stringWidth(self.text, self.font, self.size)
        left = {"left": self.x, "center": self.x - width / 2, "right": self.x - width}[self.align]
        ascent, descent = font_extent(self.font)
        return left, self.y + descent * self.size, left + width, self.y + ascent * self.size


@dataclass(frozen=True)
class PagePlan:
    """What goes where on one certificate page."""

    texts: tuple[PlacedText, ...]
    qr_matrix: tuple[bytearray, ...]  # rows of 0/1, row 0 at the top
    qr_x: float
    qr_y: float
    qr_size: float

    def qr_box(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) of the code including its quiet zone."""
        quiet = self.qr_size / len(self.qr_matrix) * QR_QUIET_MODULES
        return (self.qr_x - quiet, self.qr_y - quiet,
                self.qr_x + self.qr_size + quiet, self.qr_y + self.qr_size + quiet)


_font_lock = threading.Lock()
# reportlab cuts the embedded font subsets from one shared font file reader, whose read
# position is not per document: two documents closed at once in threads of one process
# (gunicorn's threaded workers) corrupt each other's subsets. Closing is a few ms of a
# document's time; everything else renders in parallel.
_subset_lock = threading.Lock()


def register_fonts() -> None:
    """Load the bundled fonts into reportlab once per process (parsing costs ~10 ms).

    ``asciiReadable=False`` embeds only the glyphs actually used; reportlab's
    default embeds all of ASCII too, ~7 KB more per certificate.
    """
    with _font_lock:
        registered = pdfmetrics.getRegisteredFontNames()
        for name, filename in ((FONT_REGULAR, "NotoSans-Regular.ttf"), (FONT_BOLD, "NotoSans-Bold.ttf")):
            if name not in registered:
                pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename), asciiReadable=False))


def _glyph_maps() -> tuple[dict[int, int], ...]:
    register_fonts()
    return tuple(pdfmetrics.getFont(name).face.charToGlyph for name in (FONT_REGULAR, FONT_BOLD))


def _drawable(ch: str, maps: tuple[dict[int, int], ...]) -> bool:
    """A glyph of its own in every certificate font (glyph 0 is the empty box, .notdef)."""
    return all(glyphs.get(ord(ch)) for glyphs in maps)


def unsupported_characters(text: str) -> str:
    """Characters of ``text`` the certificate fonts cannot draw (empty string if none)."""
    maps = _glyph_maps()
    return "".join(sorted({ch for ch in clean_text(text) if not _drawable(ch, maps)}))


def printable_text(text: str) -> tuple[str, int]:
    """``text`` as the certificate prints it, and how many characters had to be replaced.

    A character the fonts cannot draw becomes its compatibility form when the fonts
    draw that (full-width "Ａ" → "A", the ligature "ﬁ" → "fi"), else REPLACEMENT: a
    certificate is always printed, never an empty box or an error.
    """
    maps = _glyph_maps()
    out, replaced = [], 0
    for ch in clean_text(text):
        if _drawable(ch, maps):
            out.append(ch)
            continue
        replaced += 1
        compatible = unicodedata.normalize("NFKC", ch)
        out.append(compatible if compatible != ch and all(_drawable(c, maps) for c in compatible) else REPLACEMENT)
    if not out and text.strip():  # stored, but nothing of it prints (control characters only)
        return REPLACEMENT, len(text)
    return "".join(out), replaced


def unprintable_fields(data: CertificateData) -> tuple[str, ...]:
    """Fields of ``data`` that cannot be printed exactly as stored (empty, or with a
    character the fonts cannot draw). A bulk print leaves such certificates out and
    lists them (see :func:`render_many`); a single certificate is still rendered."""
    return tuple(field for field in TEXT_FIELDS
                 if not clean_text(getattr(data, field)) or printable_text(getattr(data, field))[1])


def _format_date(day: datetime.date, locale: str) -> str:
    """vi: 22/11/2026 (explicit pattern: Vietnamese readers expect day first); en: November 22, 2026."""
    if locale == "vi":
        return format_date(day, "dd/MM/yyyy", locale="vi")
    return format_date(day, "long", locale="en")


def _lines_in_band(field: str, fitted: FittedText, font: str, bottom: float, top: float,
                   color: tuple[float, float, float] = INK) -> list[PlacedText]:
    """Centre a fitted block of lines vertically in the band [bottom, top]."""
    ascent, _ = font_extent(font)
    height = block_height(font, fitted.size, len(fitted.lines))
    first_baseline = top - (top - bottom - height) / 2 - ascent * fitted.size
    step = fitted.size * LINE_SPACING
    return [PlacedText(line, font, fitted.size, CENTER_X, first_baseline - i * step, "center", color, field)
            for i, line in enumerate(fitted.lines)]


def plan_page(data: CertificateData) -> PagePlan:
    """Decide the position and size of every element; raises ValueError on bad data."""
    register_fonts()
    if data.locale not in LABELS:
        raise ValueError(f"unknown locale {data.locale!r}; expected one of {sorted(LABELS)}")
    if not isinstance(data.completed_on, datetime.date):
        raise TypeError(f"completed_on must be a datetime.date, got {type(data.completed_on).__name__}")
    label = LABELS[data.locale]
    text = {}
    for field in TEXT_FIELDS:
        value, replaced = printable_text(getattr(data, field))
        if not value:
            raise ValueError(f"{field} is empty")
        if replaced:  # never the characters themselves: they are part of someone's name
            _log.warning("certificate %s: %d character(s) of %s cannot be drawn; printed as U+FFFD",
                         printable_text(data.serial)[0][:40], replaced, field)
        text[field] = value
    name, course, commune, province, serial, code, url = (text[field] for field in TEXT_FIELDS)
    if is_well_formed(code):
        code = format_code(code)  # accept the stored form "K7QM2XHP94T", print "K7QM-2XHP-94T"

    texts = [
        PlacedText(label["programme"], FONT_REGULAR, 15, CENTER_X, 527, color=RED, field="programme"),
        PlacedText(label["title"], FONT_BOLD, 38, CENTER_X, 470, color=RED, field="title"),
        PlacedText(label["certifies"], FONT_REGULAR, 14, CENTER_X, 424, color=GREY, field="certifies"),
        PlacedText(label["completed"], FONT_REGULAR, 14, CENTER_X, 340, color=GREY, field="completed"),
        PlacedText(f"{label['completed_on']}: {_format_date(data.completed_on, data.locale)}",
                   FONT_REGULAR, 12, CENTER_X, 258, field="date"),
    ]
    # Variable-length fields: each gets a band it can never leave.
    texts += _lines_in_band("name", fit_text(name, FONT_BOLD, max_width=WIDE_TEXT, max_height=58,
                                             max_size=32, min_size=16), FONT_BOLD, 360, 418)
    texts += _lines_in_band("course", fit_text(course, FONT_BOLD, max_width=WIDE_TEXT, max_height=46,
                                               max_size=22, min_size=12), FONT_BOLD, 282, 328, RED)
    texts += _lines_in_band("place", fit_text(f"{label['issued_at']}: {commune}, {province}", FONT_REGULAR,
                                              max_width=WIDE_TEXT, max_height=24, max_size=12, min_size=8),
                            FONT_REGULAR, 226, 250)

    # Footer, left: serial and verification code.
    footer_width = 330.0
    serial_fit = fit_text(f"{label['serial']}: {serial}", FONT_REGULAR, max_width=footer_width,
                          max_height=20, max_size=12, min_size=8, max_lines=1)
    code_fit = fit_text(code, FONT_BOLD, max_width=footer_width, max_height=26,
                        max_size=18, min_size=10, max_lines=1)
    texts += [
        PlacedText(serial_fit.lines[0], FONT_REGULAR, serial_fit.size, MARGIN, 130, "left", field="serial"),
        PlacedText(f"{label['code']}:", FONT_REGULAR, 11, MARGIN, 104, "left", GREY, "code_label"),
        PlacedText(code_fit.lines[0], FONT_BOLD, code_fit.size, MARGIN, 80, "left", field="code"),
    ]

    # Footer, right: the URL in small print at the bottom, the QR code above it
    # (its quiet zone, 4 modules wide, must stay blank), a hint above the code.
    right = PAGE_WIDTH - MARGIN
    url_fit = fit_text(url, FONT_REGULAR, max_width=330, max_height=14, max_size=7, min_size=5)
    ascent, descent = font_extent(FONT_REGULAR)
    first = 50 - ascent * url_fit.size
    texts += [PlacedText(line, FONT_REGULAR, url_fit.size, right, first - i * url_fit.size * LINE_SPACING,
                         "right", GREY, "url") for i, line in enumerate(url_fit.lines)]
    matrix = tuple(segno.make(url, error="m", micro=False).matrix)
    quiet = QR_SIZE / len(matrix) * QR_QUIET_MODULES
    qr_x, qr_y = right - QR_SIZE, 52 + quiet
    texts.append(PlacedText(label["scan"], FONT_REGULAR, 9, right, qr_y + QR_SIZE + quiet - descent * 9 + 1,
                            "right", GREY, "scan"))
    return PagePlan(tuple(texts), matrix, qr_x, qr_y, QR_SIZE)


def qr_runs(matrix: tuple[bytearray, ...]) -> list[tuple[int, int, int]]:
    """Horizontal runs of dark modules as (row, first column, length), row 0 at the top."""
    runs = []
    for row_index, row in enumerate(matrix):
        col, n = 0, len(row)
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                runs.append((row_index, start, col - start))
            else:
                col += 1
    return runs


def _draw_qr(canvas: Canvas, matrix: tuple[bytearray, ...], x: float, y: float, size: float) -> None:
    """Fill ONE path made of a rectangle per horizontal run of dark modules.

    Coordinates are scaled so one unit is one module; the rectangles are then
    written as integer ``re`` operators with ``addLiteral`` (reportlab's
    documented way to add raw operators), which is ~10x faster than formatting
    each rectangle through ``canvas.beginPath().rect`` and gives a shorter stream.
    """
    n = len(matrix)
    canvas.saveState()
    canvas.translate(x, y)
    canvas.scale(size / n, size / n)
    canvas.setFillColorRGB(0, 0, 0)
    # PDF y grows upwards while matrix rows go down: row r sits at y = n - 1 - r.
    ops = [f"{col} {n - 1 - row} {length} 1 re" for row, col, length in qr_runs(matrix)]
    canvas.addLiteral("\n".join(ops) + "\nf")
    canvas.restoreState()


def draw_page(canvas: Canvas, plan: PagePlan) -> None:
    """Paint a planned certificate on the current page of ``canvas`` (does not end the page)."""
    canvas.setStrokeColorRGB(*RED)
    canvas.setLineWidth(3)
    canvas.rect(BORDER_OUTER, BORDER_OUTER, PAGE_WIDTH - 2 * BORDER_OUTER, PAGE_HEIGHT - 2 * BORDER_OUTER)
    canvas.setStrokeColorRGB(*GOLD)
    canvas.setLineWidth(0.8)
    canvas.rect(BORDER_INNER, BORDER_INNER, PAGE_WIDTH - 2 * BORDER_INNER, PAGE_HEIGHT - 2 * BORDER_INNER)
    canvas.setLineWidth(1.5)
    canvas.line(CENTER_X - 70, 452, CENTER_X + 70, 452)  # ornament under the title

    draw = {"left": canvas.drawString, "center": canvas.drawCentredString, "right": canvas.drawRightString}
    for text in plan.texts:
        canvas.setFillColorRGB(*text.color)
        canvas.setFont(text.font, text.size)
        draw[text.align](text.x, text.y, text.text)
    _draw_qr(canvas, plan.qr_matrix, plan.qr_x, plan.qr_y, plan.qr_size)


def _fingerprint(data: CertificateData) -> bytes:
    """Stable digest of the data: the seed of the PDF's document ID."""
    fields = (data.full_name, data.course_title, data.completed_on.isoformat(), data.commune_name,
              data.province_name, data.serial, data.verification_code, data.verify_url, data.locale)
    return hashlib.sha256("\x1f".join(fields).encode("utf-8")).digest()


class _FixedTimeStamp:
    """Stands in for reportlab's TimeStamp so CreationDate comes from the data, not the clock."""

    def __init__(self, day: datetime.date) -> None:
        self.YMDhms = (day.year, day.month, day.day, 0, 0, 0)
        self.dhh = self.dmm = 0
        self.t = datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC).timestamp()


def _new_canvas(data: CertificateData) -> Canvas:
    """A canvas set up for reproducible output (no timestamps, no random IDs).

    Its own output buffer stays empty: pages go out through StreamingPdfWriter.
    """
    canvas = Canvas(io.BytesIO(), pagesize=PAGE_SIZE, invariant=1, pageCompression=1, lang=data.locale,
                    initialFontName=FONT_REGULAR,  # else reportlab adds an unused Helvetica
                    pdfVersion=(1, 4))  # the header goes out first; transparency would raise 1.3 to 1.4 later
    canvas.setAuthor(LABELS[data.locale]["programme"])
    canvas.setCreator("certificates")
    canvas._doc._timeStamp = _FixedTimeStamp(data.completed_on)  # no public API for a fixed date
    return canvas


def _pdf_id(digest: bytes) -> bytes:
    """The trailer /ID array (two equal 16-byte strings, as reportlab writes them)."""
    hex_id = digest[:16].hex().upper().encode("ascii")
    return b"[<" + hex_id + b"> <" + hex_id + b">]"


def render_certificate(data: CertificateData) -> bytes:
    """One certificate as a one-page A4 landscape PDF; same data, same bytes."""
    buffer = io.BytesIO()
    render_many([data], buffer)
    return buffer.getvalue()


def _draw_not_printed(canvas: Canvas, label: dict[str, str], items: Sequence[CertificateData]) -> None:
    """The last page(s) of a bulk print: which certificates were left out, and why.

    One line per certificate: serial, then the name as far as the fonts can draw it,
    so the team can find the learner and correct the name.
    """
    per_page = 26
    for start in range(0, len(items), per_page):
        canvas.setFillColorRGB(*RED)
        canvas.setFont(FONT_BOLD, 20)
        canvas.drawString(MARGIN, PAGE_HEIGHT - 80, label["not_printed_title"].format(count=len(items)))
        canvas.setFillColorRGB(*INK)
        hint = fit_text(label["not_printed_hint"], FONT_REGULAR, max_width=PAGE_WIDTH - 2 * MARGIN,
                        max_height=34, max_size=11, min_size=8)
        for i, line in enumerate(hint.lines):
            canvas.setFont(FONT_REGULAR, hint.size)
            canvas.drawString(MARGIN, PAGE_HEIGHT - 104 - i * hint.size * LINE_SPACING, line)
        for i, data in enumerate(items[start:start + per_page]):
            line = f"{printable_text(data.serial)[0]}   {printable_text(data.full_name)[0]}"
            fitted = fit_text(line, FONT_REGULAR, max_width=PAGE_WIDTH - 2 * MARGIN, max_height=16,
                              max_size=11, min_size=6, max_lines=1)
            canvas.setFont(FONT_REGULAR, fitted.size)
            canvas.drawString(MARGIN, PAGE_HEIGHT - 150 - i * 16, fitted.lines[0])
        canvas.showPage()


def render_many(items: Iterable[CertificateData], out: BinaryIO,
                progress: Callable[[int], None] | None = None, *,
                not_printed: Sequence[CertificateData] = ()) -> int:
    """Write all certificates into ONE multi-page PDF on ``out``; returns the certificate count.

    Memory stays flat however many pages: each page is written to ``out`` as
    soon as it is drawn (fonts, shared by all pages, are written at the end).
    ``progress(pages_done)`` is called after every page. The output is
    deterministic for the same sequence of items. At least one item (or one
    ``not_printed``) is required. Document language and date come from the first.

    ``not_printed``: certificates the caller left out (see :func:`unprintable_fields`);
    they are listed on a last page, so whoever prints the batch sees what is missing.

    An invalid item raises ValueError when reached, leaving ``out`` incomplete:
    write to a temporary file and move it into place when this returns.
    """
    canvas: Canvas | None = None
    writer: StreamingPdfWriter | None = None
    first: CertificateData | None = None
    id_digest = hashlib.sha256(b"certificates v1")
    pages = 0

    def start(data: CertificateData) -> tuple[Canvas, StreamingPdfWriter]:
        new = _new_canvas(data)
        return new, StreamingPdfWriter(new, out)

    for data in items:
        plan = plan_page(data)  # validate before anything is written
        if canvas is None:
            first = data
            canvas, writer = start(data)
        draw_page(canvas, plan)
        canvas.showPage()
        writer.write_finished_pages()
        id_digest.update(_fingerprint(data))
        pages += 1
        if progress is not None:
            progress(pages)
    if not_printed:
        if canvas is None:
            first = not_printed[0]
            canvas, writer = start(first)
        _draw_not_printed(canvas, LABELS[first.locale], not_printed)
        writer.write_finished_pages()
        for data in not_printed:
            id_digest.update(b"not printed" + _fingerprint(data))
    if writer is None:
        raise ValueError("render_many needs at least one certificate")
    label = LABELS[first.locale]
    if pages == 1 and not not_printed:
        canvas.setTitle(f"{label['document_title']} {clean_text(first.serial)}")
        canvas.setSubject(clean_text(first.course_title))
    else:
        canvas.setTitle(label["document_title"])
        canvas.setSubject(label["programme"])
    with _subset_lock:
        writer.close(document_id=_pdf_id(id_digest.digest()))
    return pages
