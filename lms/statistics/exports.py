"""The dashboard's tables as data, and as CSV, XLSX and PDF.

`dashboard_tables` is the one description of every table: the page renders it and
each export writes it, so a file always says what the screen says. Exports are plain
bytes; views only send them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from flask_babel import gettext as _

from lms.exports import neutralise  # unit names are typed by staff: no spreadsheet formulas
from lms.statistics.models import METRICS
from lms.statistics.queries import Dashboard, Figures

RATE = "rate"


@dataclass
class Table:
    name: str
    title: str
    headers: list[str]
    kinds: list[str]  # "text", "count" or "rate", per column
    rows: list[list]


def metric_labels() -> dict[str, str]:
    return {"registered": _("Registered"), "enrolled": _("Enrolled"), "started": _("Started"),
            "completed": _("Completed"), "certified": _("Certified")}


def group_labels() -> dict[str, str]:
    return {"female": _("Women"), "male": _("Men"), "unknown": _("Not given"),
            "under-18": _("Under 18"), "18-34": _("18–34"), "35-59": _("35–59"), "60+": _("60 and over"),
            "self": _("Self-study"), "assisted": _("With a helper")}


def _figure_cells(figures: Figures) -> list:
    counts = figures.counts  # a province's table has 170 rows: no method call per cell
    return [*map(counts.__getitem__, METRICS), figures.completion_rate, figures.certification_rate]


def _table(name: str, title: str, first: str, rows: list[list]) -> Table:
    labels = metric_labels()
    return Table(name, title, [first, *(labels[m] for m in METRICS), _("Completion rate"), _("Certification rate")],
                 ["text", *(["count"] * len(METRICS)), RATE, RATE], rows)


def dashboard_tables(board: Dashboard, locale: str, flagged=None) -> dict[str, Table]:
    """Every table of the statistics page of one unit, in display order. With `flagged`
    (lms.quality.queries.FlaggedCounts) the units table ends with each unit's flagged learners."""
    tables = {}
    if board.children:
        tables["units"] = _table("units", _("Units in {unit}").format(unit=board.unit.name), _("Unit"), [
            [row.unit.name if row.unit else _("No village given"), *_figure_cells(row.figures)]
            for row in board.children])
        if flagged is not None:
            _add_flagged(tables["units"], board, flagged)
    tables["months"] = _table("months", _("By month"), _("Month"),
                              [[month, *_figure_cells(figures)] for month, figures in board.months])
    tables["courses"] = _table("courses", _("By course"), _("Course"),
                               [[course.title(locale), *_figure_cells(figures)] for course, figures in board.courses])
    labels = group_labels()
    groups = [*board.by_sex.items(), *board.by_age.items(), *board.by_mode.items()]
    tables["groups"] = _table("groups", _("By group"), _("Group"),
                              [[labels[key], *_figure_cells(figures)] for key, figures in groups])
    return tables


def _add_flagged(table: Table, board: Dashboard, flagged) -> None:
    table.headers.append(_("Flagged learners"))
    table.kinds.append("count")
    for row, cells in zip(board.children, table.rows, strict=True):
        cells.append(flagged.of(row.unit.id if row.unit else None))


def _plain(value, kind: str):
    if kind == RATE:
        return None if value is None else round(value * 100, 1)
    return neutralise(value) if kind == "text" else value


def to_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark, so Excel shows Vietnamese letters correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(h + (" (%)" if k == RATE else "")) for h, k in zip(table.headers, table.kinds, strict=True)])
    for row in table.rows:
        writer.writerow(["" if v is None else _plain(v, k) for v, k in zip(row, table.kinds, strict=True)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(tables: list[Table]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(table.name)
        sheet.append([neutralise(table.title)])
        sheet["A1"].font = Font(bold=True)
        sheet.append([neutralise(h) for h in table.headers])
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([neutralise(v) if k == "text" else v for v, k in zip(row, table.kinds, strict=True)])
            for cell, kind in zip(sheet[sheet.max_row], table.kinds, strict=True):
                cell.number_format = "0.0%" if kind == RATE else ("#,##0" if kind == "count" else "@")
        sheet.column_dimensions["A"].width = 36
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_pdf(title: str, subtitle: str, tables: list[Table], format_cell) -> bytes:
    """A printable A4 report with the bundled Noto Sans (Vietnamese letters)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
    from reportlab.platypus import Table as PdfTable

    from certificates.render import FONT_BOLD, FONT_REGULAR, register_fonts

    register_fonts()
    heading = ParagraphStyle("h", fontName=FONT_BOLD, fontSize=15, leading=19)
    normal = ParagraphStyle("n", fontName=FONT_REGULAR, fontSize=9, leading=12)
    out = io.BytesIO()
    document = SimpleDocTemplate(out, pagesize=landscape(A4), title=title, invariant=1,
                                 leftMargin=28, rightMargin=28, topMargin=28, bottomMargin=28)
    story = [Paragraph(_escape(title), heading), Paragraph(_escape(subtitle), normal), Spacer(0, 10)]
    for table in tables:
        story += [Paragraph(_escape(table.title), ParagraphStyle("t", parent=heading, fontSize=12)), Spacer(0, 4)]
        data = [[Paragraph(_escape(h), normal) for h in table.headers]]
        data += [[format_cell(v, k) for v, k in zip(row, table.kinds, strict=True)] for row in table.rows]
        number_width = min(80, (document.width - 190) / (len(table.headers) - 1))  # the flagged column must fit too
        pdf_table = PdfTable(data, repeatRows=1, colWidths=[190] + [number_width] * (len(table.headers) - 1))
        pdf_table.setStyle([("FONT", (0, 0), (-1, -1), FONT_REGULAR, 9), ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                            ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                            ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.grey)])
        story += [pdf_table, Spacer(0, 12)]
    document.build(story)
    return out.getvalue()


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
