"""Reading an uploaded table (XLSX or CSV) into rows of cell texts, in bounded memory.

An upload is at most 5 MB, but a workbook is a zip archive: 5 MB of deflated XML can
unpack to gigabytes (one inline-string cell of 400 MB fits in a 412 KB file), and a
general spreadsheet library holds what it reads: openpyxl, even in read-only mode,
builds a tree per row, keeps every finished row element until the sheet ends and
loads the whole shared-strings table as Python strings. So the limits are checked
*while reading*, before anything large is held:

* the archive: at most `MAX_MEMBERS` entries (read from the end record before
  `zipfile` parses the directory), no part declaring more than `MAX_PART_BYTES`
  unpacked, all parts together at most `MAX_PACKAGE_BYTES`; and the bytes actually
  unpacked are counted as they stream, so a part that lies about its size stops there;
* the XML: parsed by expat with a handler per element that keeps only the current
  cell, the current row (first `max_columns` cells) and the rows so far; no DOCTYPE
  or entity is accepted; a cell longer than `MAX_CELL_CHARS` (Excel's own limit) or
  a row with more than `MAX_ROW_CELLS` cells stops the reading at that point;
* shared strings are kept as one UTF-8 `bytearray` plus an offset array (≤
  `MAX_SHARED_STRINGS_BYTES` of XML), not one Python object per string;
* CSV: every physical line at most `MAX_LINE_CHARS`, every cell at most
  `MAX_CELL_CHARS`.

Pure Python, no Flask: problems are `TableError(code, **params)`, which the importer
turns into messages in the user's language. The memory this saves is measured by
`bench/bench_import_bombs.py` (docs/performance.md).
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile
from array import array
from collections.abc import Iterator
from xml.parsers import expat  # nosec B406: no DOCTYPE or entity is accepted (see _parser)

MAX_MEMBERS = 2_000
MAX_PART_BYTES = 64 * 1024 * 1024  # a 50,000-row sheet is ~10-20 MB of XML
MAX_PACKAGE_BYTES = 128 * 1024 * 1024
_MB = 1024 * 1024
MAX_SHARED_STRINGS_BYTES = 16 * 1024 * 1024  # held in memory: ~as many bytes again, at most
MAX_CELL_CHARS = 32_767  # Excel cannot hold a longer cell, so no real list has one
MAX_ROW_CELLS = 16_384  # Excel's column count
MAX_LINE_CHARS = 100_000
CHUNK = 64 * 1024

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SHARED_STRINGS_TYPE = "/sharedStrings"


class TableError(Exception):
    """A file refused as a whole; `code` names the reason, `params` fill its message."""

    def __init__(self, code: str, **params) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def _unreadable() -> TableError:
    return TableError("file-unreadable")


# --- CSV -----------------------------------------------------------------------------------

def read_csv(text: str, *, max_rows: int, max_columns: int) -> list[list[str]]:
    """Rows of a decoded CSV text; delimiter ";" when the first line has more of them."""
    first_line = text.split("\n", 1)[0][:MAX_LINE_CHARS]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    rows: list[list[str]] = []
    try:
        for row in csv.reader(_bounded_lines(text), delimiter=delimiter):
            if len(row) > MAX_ROW_CELLS:
                raise TableError("file-row-wide", limit=MAX_ROW_CELLS)
            if any(len(cell) > MAX_CELL_CHARS for cell in row):
                raise TableError("file-cell-long", limit=MAX_CELL_CHARS)
            rows.append(row[:max_columns])
            if len(rows) > max_rows + 1:
                raise TableError("file-rows", limit=max_rows)
    except csv.Error as error:
        if "field limit" in str(error):  # a quoted cell past csv's own limit (131,072 characters)
            raise TableError("file-cell-long", limit=MAX_CELL_CHARS) from error
        raise _unreadable() from error
    return rows


def _bounded_lines(text: str) -> Iterator[str]:
    """The physical lines of `text`, refusing one longer than MAX_LINE_CHARS."""
    for line in io.StringIO(text, newline=""):
        if len(line) > MAX_LINE_CHARS:
            raise TableError("file-cell-long", limit=MAX_CELL_CHARS)
        yield line


# --- The zip archive -------------------------------------------------------------------------

def _member_count(data: bytes) -> int:
    """Entries in the archive, from its end-of-central-directory record.

    Read before `zipfile` builds an object per entry: a 5 MB archive can list
    100,000 empty entries.
    """
    tail = data[-(65_535 + 22):]
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise _unreadable()
    (entries,) = struct.unpack_from("<H", tail, at + 10)
    return entries  # 0xFFFF (a ZIP64 archive) is above MAX_MEMBERS too


def open_package(data: bytes) -> zipfile.ZipFile:
    """The archive, once its entry count and the declared sizes of its parts are within bounds."""
    if _member_count(data) > MAX_MEMBERS:
        raise TableError("file-inflated", limit=MAX_PACKAGE_BYTES // _MB)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
        raise _unreadable() from error
    members = archive.infolist()
    if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_PACKAGE_BYTES:
        archive.close()
        raise TableError("file-inflated", limit=MAX_PACKAGE_BYTES // _MB)
    if any(m.file_size > MAX_PART_BYTES for m in members):
        archive.close()
        raise TableError("file-inflated", limit=MAX_PART_BYTES // _MB)
    return archive


def _chunks(archive: zipfile.ZipFile, name: str, limit: int) -> Iterator[bytes]:
    """The unpacked bytes of a part, CHUNK at a time, stopping past `limit` whatever it declared."""
    seen = 0
    try:
        with archive.open(name) as part:
            while chunk := part.read(CHUNK):
                seen += len(chunk)
                if seen > limit:
                    raise TableError("file-inflated", limit=limit // _MB)
                yield chunk
    except (KeyError, zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as error:
        raise _unreadable() from error


def _local(name: str) -> str:
    """The local part of an expat name "namespace local" (or a plain name)."""
    return name.rpartition(" ")[2]


def _parser() -> expat.XMLParserType:
    """A namespace-aware expat parser that refuses DTDs, so no entity can be declared or expanded."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True

    def refuse(*_args) -> None:
        raise _unreadable()

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    return parser


def _parse(parser: expat.XMLParserType, chunks: Iterator[bytes]) -> None:
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as error:
        raise _unreadable() from error


def _resolve(base: str, target: str) -> str:
    """A relationship target as a path inside the archive (targets are relative to `base`)."""
    if target.startswith("/"):
        return target.lstrip("/")
    parts = base.split("/")[:-1] + target.split("/")
    out: list[str] = []
    for part in parts:
        if part == "..":
            if out:
                out.pop()
        elif part not in ("", "."):
            out.append(part)
    return "/".join(out)


def _locate(archive: zipfile.ZipFile) -> tuple[str, str | None]:
    """(path of the first worksheet, path of the shared strings or None), from the workbook."""
    workbook = "xl/workbook.xml"
    sheet_ids: list[str] = []
    parser = _parser()

    def workbook_start(name: str, attrs: dict) -> None:
        if _local(name) == "sheet":
            rel = next((value for key, value in attrs.items() if _local(key) == "id" and " " in key), None)
            if rel:
                sheet_ids.append(rel)

    parser.StartElementHandler = workbook_start
    _parse(parser, _chunks(archive, workbook, MAX_PART_BYTES))
    rels: dict[str, str] = {}
    shared: list[str] = []
    parser = _parser()

    def rels_start(name: str, attrs: dict) -> None:
        if _local(name) == "Relationship" and attrs.get("Target"):
            target = _resolve(workbook, attrs["Target"])
            rels[attrs.get("Id", "")] = target
            if attrs.get("Type", "").endswith(_SHARED_STRINGS_TYPE):
                shared.append(target)

    parser.StartElementHandler = rels_start
    _parse(parser, _chunks(archive, "xl/_rels/workbook.xml.rels", MAX_PART_BYTES))
    if not sheet_ids or sheet_ids[0] not in rels:
        raise _unreadable()
    return rels[sheet_ids[0]], (shared[0] if shared else None)


# --- Shared strings ------------------------------------------------------------------------

class SharedStrings:
    """The workbook's string table as one UTF-8 buffer and offsets: ~1 byte per byte of text."""

    def __init__(self) -> None:
        self._text = bytearray()
        self._ends = array("Q")

    def append(self, text: str) -> None:
        self._text += text.encode("utf-8", "surrogatepass")
        self._ends.append(len(self._text))

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < len(self._ends):
            raise _unreadable()
        start = self._ends[index - 1] if index else 0
        return self._text[start:self._ends[index]].decode("utf-8", "surrogatepass")


class _Text:
    """Character data of one cell or string, refused as soon as it passes MAX_CELL_CHARS."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0

    def add(self, data: str) -> None:
        self.length += len(data)
        if self.length > MAX_CELL_CHARS:
            raise TableError("file-cell-long", limit=MAX_CELL_CHARS)
        self.parts.append(data)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts, self.length = [], 0
        return text


def read_shared_strings(archive: zipfile.ZipFile, path: str) -> SharedStrings:
    """Every `<si>` as one string: its `<t>` texts joined, phonetic runs (`<rPh>`) left out."""
    strings = SharedStrings()
    text = _Text()
    state = {"in_t": False, "rph": 0}
    parser = _parser()

    def start(name: str, _attrs: dict) -> None:
        local = _local(name)
        if local == "t":
            state["in_t"] = not state["rph"]
        elif local == "rPh":
            state["rph"] += 1

    def end(name: str) -> None:
        local = _local(name)
        if local == "t":
            state["in_t"] = False
        elif local == "rPh":
            state["rph"] -= 1
        elif local == "si":
            strings.append(text.take())

    def data(chars: str) -> None:
        if state["in_t"]:
            text.add(chars)

    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, data
    _parse(parser, _chunks(archive, path, MAX_SHARED_STRINGS_BYTES))
    return strings


# --- The worksheet ---------------------------------------------------------------------------

def _column_index(ref: str) -> int | None:
    """0-based column of a cell reference such as "AB12" (None if there is none)."""
    index = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            index = index * 26 + ord(ch) - 64
        elif "a" <= ch <= "z":
            index = index * 26 + ord(ch) - 96
        else:
            break
        if index > MAX_ROW_CELLS:
            return MAX_ROW_CELLS
    return index - 1 if index else None


def _number_text(value: str) -> str:
    """A numeric cell as the importer expects it: "1968" for 1968 or 1968.0, "1.5" for 1.5."""
    try:
        if any(ch in value for ch in ".eE"):
            number = float(value)
            return str(int(number)) if number.is_integer() else str(number)
        return str(int(value))
    except (ValueError, OverflowError):
        return value


def _cell_value(kind: str, value: str, inline: str, formula: str | None, strings: SharedStrings) -> str:
    if formula is not None:
        return "=" + formula  # read as written (openpyxl's data_only=False): the importer refuses formulas
    if kind == "s":
        try:
            return strings[int(value)]
        except ValueError as error:
            raise _unreadable() from error
    if kind == "inlineStr":
        return inline
    if kind == "b":
        return "True" if value.strip() == "1" else "False"
    if kind in ("str", "e", "d"):
        return value
    return _number_text(value.strip()) if value.strip() else ""


def read_sheet(archive: zipfile.ZipFile, path: str, strings: SharedStrings, *, max_rows: int,
               max_columns: int) -> list[list[str]]:
    """Rows from sheet row 1 on (missing rows as empty lists, so row numbers stay the sheet's),
    each with its first `max_columns` cells."""
    rows: list[list[str]] = []
    cell = {"kind": "", "column": 0, "field": "", "formula": None, "rph": 0}
    row: list[str] = []
    counts = {"cells": 0, "next_column": 0}
    value, inline, formula_text = _Text(), _Text(), _Text()
    parser = _parser()

    def start(name: str, attrs: dict) -> None:
        local = _local(name)
        if local == "c":
            counts["cells"] += 1
            if counts["cells"] > MAX_ROW_CELLS:
                raise TableError("file-row-wide", limit=MAX_ROW_CELLS)
            column = _column_index(attrs.get("r", ""))
            cell.update(kind=attrs.get("t", "n"), column=counts["next_column"] if column is None else column,
                        formula=None)
        elif local == "row":
            number = attrs.get("r", "")
            index = int(number) - 1 if number.isdigit() and int(number) > 0 else len(rows)
            if index > max_rows + 1:
                raise TableError("file-rows", limit=max_rows)
            while len(rows) < index:
                rows.append([])
            counts.update(cells=0, next_column=0)
            row.clear()
        elif local == "v":
            cell["field"] = "v"
        elif local == "f":
            cell["field"], cell["formula"] = "f", ""
        elif local == "t" and not cell["rph"]:
            cell["field"] = "t"
        elif local == "rPh":
            cell["rph"] += 1

    def end(name: str) -> None:
        local = _local(name)
        if local in ("v", "t", "f"):
            cell["field"] = ""
            if local == "f":
                cell["formula"] = formula_text.take()
        elif local == "rPh":
            cell["rph"] -= 1
        elif local == "c":
            column = cell["column"]
            counts["next_column"] = column + 1
            text = _cell_value(cell["kind"], value.take(), inline.take(), cell["formula"], strings)
            if column < max_columns:
                row.extend([""] * (column + 1 - len(row)))
                row[column] = text
        elif local == "row":
            while row and not row[-1]:
                row.pop()
            rows.append(list(row))
            if len(rows) > max_rows + 1:
                raise TableError("file-rows", limit=max_rows)

    def data(chars: str) -> None:
        field = cell["field"]
        if field == "v":
            value.add(chars)
        elif field == "t":
            inline.add(chars)
        elif field == "f":
            formula_text.add(chars)

    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, data
    _parse(parser, _chunks(archive, path, MAX_PART_BYTES))
    return rows


def read_xlsx(data: bytes, *, max_rows: int, max_columns: int) -> list[list[str]]:
    """Rows of cell texts of the workbook's first sheet, header first, or TableError."""
    archive = open_package(data)
    with archive:
        sheet, shared = _locate(archive)
        strings = read_shared_strings(archive, shared) if shared else SharedStrings()
        return read_sheet(archive, sheet, strings, max_rows=max_rows, max_columns=max_columns)
