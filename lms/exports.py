"""Tables as CSV or XLSX (learner lists, statistics), safe to open in a spreadsheet.

A cell that starts with = + - @, a tab or a carriage return would be read as a
formula (CSV/formula injection), so such cells get a leading apostrophe.
"""

from __future__ import annotations

import csv
import io

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str | int:
    if isinstance(value, int):
        return value
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(header: list[str], rows) -> bytes:
    """UTF-8 with BOM, so Excel shows Vietnamese letters right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(header: list[str], rows, title: str = "Sheet") -> bytes:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append([neutralise(h) for h in header])
    for row in rows:
        sheet.append([neutralise(value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
