"""Decompression bombs and absurd cells: refused while the file is read, in bounded memory.

Every bomb is built here (tests/team/xlsx_bombs.py). Memory is measured with
tracemalloc (what Python allocates while reading); the benchmark
bench/bench_import_bombs.py measures a worker's RSS in a separate process.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.learners.models import Learner
from lms.team import tables
from lms.team.models import LearnerImport
from tests.conftest import post_form
from tests.team import xlsx_bombs as bombs

MB = 1024 * 1024


def _counts():
    return (db.session.scalar(select(func.count()).select_from(Learner)),
            db.session.scalar(select(func.count()).select_from(LearnerImport)))


def _upload(client, name, data, language="vi"):
    return post_form(client, "/team/import", {"file": (io.BytesIO(data), name)},
                     content_type="multipart/form-data", headers={"Accept-Language": language})


def _read(app, name: str, data: bytes, language: str = "vi"):
    from lms.team.importer import LearnerImportError, read_table

    with app.test_request_context(headers={"Accept-Language": language}):
        with pytest.raises(LearnerImportError) as caught:
            read_table(name, data)
        return caught.value.code, str(caught.value.message)


def _peak_mb(function) -> float:
    tracemalloc.start()
    try:
        function()
    except Exception:  # noqa: S110, BLE001 - only the memory it took matters here
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / MB


BOMBS = {  # name → (file, error code); each unpacks far beyond what a list needs
    "inline 400 MB cell (the 412 KB file of the report)": (lambda: bombs.inline_bomb(400 * MB), "file-inflated"),
    "shared-strings 400 MB cell": (lambda: bombs.shared_strings_bomb(400 * MB), "file-inflated"),
    "inline 40 MB cell (within the part bound)": (lambda: bombs.inline_bomb(40 * MB), "file-cell-long"),
    "shared-strings 12 MB cell (within the part bound)": (lambda: bombs.shared_strings_bomb(12 * MB), "file-cell-long"),
    "shared-strings table of 20 MB tiny entries": (lambda: bombs.many_strings_bomb(20 * MB), "file-inflated"),
    "row of 2 million empty cells": (lambda: bombs.wide_row_bomb(8 * MB), "file-row-wide"),
}


@pytest.fixture(scope="module")
def bomb_files():
    return {name: (build(), code) for name, (build, code) in BOMBS.items()}


@pytest.mark.parametrize("name", list(BOMBS))
@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_bomb_is_refused_with_a_clear_422_and_nothing_is_stored(client, team, bomb_files, name, language):
    data, code = bomb_files[name]
    assert len(data) < 500_000  # the test client spools larger bodies to a file it never closes
    before = _counts()
    response = _upload(client, "danh sách.xlsx", data, language)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    expected = {"vi": {"file-inflated": "giải nén", "file-cell-long": "ký tự", "file-row-wide": "ô"},
                "en": {"file-inflated": "unpacks to more than", "file-cell-long": "characters",
                       "file-row-wide": "cells"}}[language][code]
    assert expected in page
    assert _counts() == before


@pytest.mark.parametrize("name", list(BOMBS))
def test_reading_a_bomb_stays_in_bounded_memory(app, bomb_files, name):
    data, code = bomb_files[name]
    assert _read(app, "x.xlsx", data)[0] == code
    assert _peak_mb(lambda: _read(app, "x.xlsx", data)) < 50


def test_the_limits_are_generous_for_a_real_list(app):
    """A cell of 32,767 characters (Excel's maximum) and an ordinary 50,000-row list still read."""
    from lms.team.importer import read_table

    long_note = "ễ" * tables.MAX_CELL_CHARS
    data = bombs.package(bombs.sheet_xml([bombs._row(1, [*bombs.HEADER, "Ghi chú"]),
                                          bombs._row(2, ["Lê Thị Hoa", 1960, "Nữ", long_note])]))
    with app.test_request_context():
        rows = read_table("x.xlsx", data)
    assert rows[1][:3] == ["Lê Thị Hoa", "1960", "Nữ"] and len(rows[1][3]) == tables.MAX_CELL_CHARS


def test_a_part_that_lies_about_its_size_stops_at_the_declared_size(app):
    """Sizes in the zip directory are set small; the reader must not trust them."""
    data = bytearray(bombs.wide_row_bomb(30 * MB))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    name = info.filename.encode()
    at = data.find(b"PK\x01\x02")
    while at >= 0:  # central directory entries: uncompressed size at +24, name length at +28, name at +46
        length = int.from_bytes(data[at + 28:at + 30], "little")
        if data[at + 46:at + 46 + length] == name:
            data[at + 24:at + 28] = (1024).to_bytes(4, "little")
        at = data.find(b"PK\x01\x02", at + 1)
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size == 1024
    assert info.file_size > 30 * MB
    code, _message = _read(app, "x.xlsx", bytes(data))
    assert code == "file-unreadable"  # the part ends after the declared 1 KB, in the middle of the XML
    assert _peak_mb(lambda: _read(app, "x.xlsx", bytes(data))) < 50


def test_too_many_zip_entries_are_refused_before_the_directory_is_parsed(app):
    data = bombs.package(bombs.sheet_xml([bombs._row(1, bombs.HEADER)]), extra_members=tables.MAX_MEMBERS + 1)
    assert _read(app, "x.xlsx", data)[0] == "file-inflated"


def test_a_row_far_below_the_list_is_refused_without_filling_the_gap(app):
    data = bombs.package(bombs.sheet_xml([bombs._row(1, bombs.HEADER), bombs._row(10_000_000, ["Lê Hoa", 1960, "Nữ"])]))
    assert _read(app, "x.xlsx", data)[0] == "file-rows"
    assert _peak_mb(lambda: _read(app, "x.xlsx", data)) < 20


def test_entities_are_refused(app):
    laughs = ('<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
              '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>')
    sheet = [f'<?xml version="1.0"?>{laughs}<worksheet xmlns="{bombs.MAIN}"><sheetData>'.encode(),
             bombs._row(1, bombs.HEADER).encode(),
             b'<row r="2"><c r="A2" t="inlineStr"><is><t>&c;</t></is></c></row></sheetData></worksheet>']
    assert _read(app, "x.xlsx", bombs.package(sheet))[0] == "file-unreadable"


@pytest.mark.parametrize("data", [
    bombs.csv_line_bomb(4 * MB),
    bombs.csv_line_bomb(400_000),
    "Họ và tên,Năm sinh,Giới tính\n\"".encode() + b"A\n" * (200_000) + b"\",1960,Nam\n",
    "Họ và tên,Năm sinh,Giới tính\n".encode() + b"A" * 40_000 + b",1960,Nam\n",
], ids=["4 MB line", "400 KB line", "quoted cell of 200,000 lines", "40,000-character cell"])
def test_a_csv_with_a_huge_line_or_cell_is_refused(app, client, team, data):
    code, message = _read(app, "x.csv", data)
    assert code == "file-cell-long" and "32767" in message.replace(".", "").replace(",", "")
    assert _peak_mb(lambda: _read(app, "x.csv", data)) < 50
    if len(data) < 500_000:  # the test client spools larger bodies to a file it never closes
        before = _counts()
        assert _upload(client, "x.csv", data).status_code == 422
        assert _counts() == before


def test_a_good_hand_built_workbook_still_imports(client, team):
    response = _upload(client, "x.xlsx", bombs.good_workbook())
    assert response.status_code == 302
    staged = db.session.get(LearnerImport, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert staged.valid_count == 1 and staged.payload["rows"][0]["full_name"] == "Lê Thị Hoa"
