"""Hand-built workbooks for the decompression-bomb tests and benchmark.

A minimal SpreadsheetML package (what openpyxl and Excel need to open it), written
part by part so a part can be made of a repeated chunk: a cell of hundreds of MB
costs a few hundred KB in the file and no memory to build.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
HEADER = ["Họ và tên", "Năm sinh", "Giới tính"]

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>")
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'sharedStrings" Target="sharedStrings.xml"/></Relationships>')


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def _row(number: int, cells: list) -> str:
    out = []
    for index, value in enumerate(cells):
        ref = f"{chr(65 + index)}{number}"
        out.append(f'<c r="{ref}"><v>{value}</v></c>' if isinstance(value, int) else _inline(ref, value))
    return f'<row r="{number}">{"".join(out)}</row>'


def package(sheet: Iterable[bytes], shared: Iterable[bytes] = (b'<sst xmlns="' + MAIN.encode() + b'"/>',),
            extra_members: int = 0) -> bytes:
    """An .xlsx whose sheet and shared-strings parts are the concatenated chunks given."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        for name, chunks in (("xl/worksheets/sheet1.xml", sheet), ("xl/sharedStrings.xml", shared)):
            with archive.open(name, "w", force_zip64=True) as part:
                for chunk in chunks:
                    part.write(chunk)
        for index in range(extra_members):
            archive.writestr(f"customXml/item{index}.xml", "")
    return out.getvalue()


def sheet_xml(rows_xml: Iterable[str | bytes]) -> Iterable[bytes]:
    yield f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'.encode()
    for row in rows_xml:
        yield row if isinstance(row, bytes) else row.encode()
    yield b"</sheetData></worksheet>"


def good_workbook() -> bytes:
    """Header and one valid learner: what a bomb's other rows look like."""
    return package(sheet_xml([_row(1, HEADER), _row(2, ["Lê Thị Hoa", 1960, "Nữ"])]))


def _repeat(chunk: bytes, total: int) -> Iterable[bytes]:
    block = chunk * max(1, (1 << 20) // len(chunk))
    written = 0
    while written < total:
        yield block
        written += len(block)


def inline_bomb(cell_bytes: int) -> bytes:
    """One inline-string name cell of `cell_bytes` letters in the second row."""
    return package(sheet_xml([
        _row(1, HEADER),
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>', *_repeat(b"A", cell_bytes), b"</t></is></c>"
        b'<c r="B2"><v>1960</v></c>' + _inline("C2", "Nữ").encode() + b"</row>",
        _row(3, ["Lê Thị Hoa", 1960, "Nữ"])]))


def shared_strings_bomb(cell_bytes: int) -> bytes:
    """The same cell as entry 0 of the shared-strings table, referenced by the second row."""
    shared = [f'<sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>'.encode(), *_repeat(b"A", cell_bytes),
              b"</t></si></sst>"]
    return package(sheet_xml([_row(1, HEADER), '<row r="2"><c r="A2" t="s"><v>0</v></c>'
                              '<c r="B2"><v>1960</v></c>' + _inline("C2", "Nữ") + "</row>"]), shared)


def many_strings_bomb(part_bytes: int) -> bytes:
    """A shared-strings table of `part_bytes` made of tiny distinct-looking entries."""
    shared = [f'<sst xmlns="{MAIN}">'.encode(), *_repeat(b"<si><t>ab</t></si>", part_bytes), b"</sst>"]
    return package(sheet_xml([_row(1, HEADER), _row(2, ["Lê Thị Hoa", 1960, "Nữ"])]), shared)


def wide_row_bomb(part_bytes: int) -> bytes:
    """One row of `part_bytes` of empty cells (each a tree node in openpyxl's reader)."""
    return package(sheet_xml([_row(1, HEADER), b'<row r="2">', *_repeat(b"<c/>", part_bytes), b"</row>"]))


def csv_line_bomb(size: int) -> bytes:
    """A CSV whose second line is one name cell of `size` letters."""
    return "Họ và tên,Năm sinh,Giới tính\n".encode() + b"A" * size + b",1960,Nam\n"
