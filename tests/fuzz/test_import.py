"""Property-based fuzzing of the CSV/XLSX import.

Files are generated from rows whose fate is known: valid rows (names in NFC or NFD,
with zero-width characters or a right-to-left override that cleaning removes, phones
in every way people write them, consistent ID numbers, a village or none) mixed with
rows each broken in one way (formula, 10,000-character cell, digits in a name,
impossible year, unknown sex, bad phone, ID number of another birth year, unknown
village, empty required cell) and blank rows; written as CSV (UTF-8 with or without
BOM, comma or semicolon, CRLF or LF, Vietnamese or English headers, extra columns) or
XLSX (numbers as numbers or text). Other files are broken as a whole: other encodings,
odd delimiters, random bytes, a truncated workbook, a missing column.

For every upload: no 500; a broken file is refused with a message from the catalog
and nothing is staged; otherwise every broken row is reported by its row number and
every valid row is ready; after confirming, exactly the valid rows are registered —
all of them — and a failure half-way registers none.
"""

from __future__ import annotations

import csv
import io
import unicodedata

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from lms.extensions import db
from lms.learners.models import Learner
from lms.team.models import LearnerImport
from tests.conftest import csrf_token
from tests.fuzz.conftest import FUZZ, assert_translated_errors, rolled_back, snapshot
from tests.security.conftest import log_in

HEADERS = {"vi": ["Họ và tên", "Năm sinh", "Giới tính", "Số điện thoại", "Số CCCD", "Thôn/Tổ dân phố"],
           "en": ["Full name", "Birth year", "Sex", "Phone", "National ID number", "Village"]}
GIVEN = ["An", "Bình", "Cúc", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Minh", "Ngọc", "Phúc", "Quỳnh", "Sơn", "Thảo",
         "Uyên", "Vinh", "Xuân", "Yến"]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Vũ", "Đặng", "Bùi", "Đỗ", "H'"]
LETTERS = "abcdeghiklmnopqrstuvxy"
DEFECTS = ["formula", "huge", "digits", "year", "sex", "phone", "national_id", "village", "empty_name",
           "empty_year", "empty_sex", "at_sign"]


def _unique_word(n: int) -> str:
    """A letters-only word per number, so generated names never collide."""
    word = ""
    n += len(LETTERS)
    while n:
        n, r = divmod(n, len(LETTERS))
        word = LETTERS[r] + word
    return word.capitalize()


def _national_id(year: int, sex: str, serial: int) -> str:
    century_sex = {(1900, "male"): "0", (1900, "female"): "1", (2000, "male"): "2", (2000, "female"): "3"}
    return f"001{century_sex[(year // 100 * 100, sex)]}{year % 100:02d}{serial:06d}"


@st.composite
def valid_row(draw, n: int):
    year = draw(st.integers(1930, 2005))
    sex = draw(st.sampled_from(["male", "female"]))
    name = f"{draw(st.sampled_from(FAMILY))} {draw(st.sampled_from(GIVEN))} {_unique_word(n)}".replace("H' ", "H'")
    shown = draw(st.sampled_from(["nfc", "nfd", "zero-width", "rtl", "spaces"]))
    if shown == "nfd":
        name = unicodedata.normalize("NFD", name)
    elif shown == "zero-width":
        name = name.replace(" ", " \u200b", 1)
    elif shown == "rtl":
        name = "\u202e" + name + "\u202c"
    elif shown == "spaces":
        name = f"  {name.replace(' ', '   ')}  "
    phone = draw(st.sampled_from(["", "{0}", "+84 {1}", "84{1}", "{0:.4} {0[4]}{0[5]}{0[6]} {0[7]}{0[8]}{0[9]}"]))
    digits = f"09{n:08d}"
    phone = phone.format(digits, digits[1:]) if phone else ""
    national_id = _national_id(year, sex, n) if draw(st.booleans()) else ""
    village = draw(st.sampled_from(["", "Thôn Đông", "thôn đông", "Đông"]))
    sex_text = draw(st.sampled_from({"male": ["Nam", "nam", "Male", "M"], "female": ["Nữ", "nữ", "Female", "F"]}[sex]))
    return {"full_name": name, "birth_year": year, "sex": sex_text, "phone": phone, "national_id": national_id,
            "village": village}


@st.composite
def broken_row(draw, n: int):
    row = draw(valid_row(n))
    defect = draw(st.sampled_from(DEFECTS))
    if defect == "formula":
        row[draw(st.sampled_from(["full_name", "village", "phone"]))] = "=HYPERLINK(\"http://x\",\"y\")"
    elif defect == "at_sign":
        row["full_name"] = "@SUM(A1:A2)"
    elif defect == "huge":
        row[draw(st.sampled_from(["full_name", "village", "national_id"]))] = "ễ" * 10_000
    elif defect == "digits":
        row["full_name"] = row["full_name"] + " 2"
    elif defect == "year":
        row["birth_year"] = draw(st.sampled_from(["1800", "3000", "19x0", "năm 1960", "-1960"]))
    elif defect == "sex":
        row["sex"] = draw(st.sampled_from(["X", "khác", "0", "\u200b"]))
    elif defect == "phone":
        row["phone"] = draw(st.sampled_from(["12345", "0123456789", "+1 202 555 0100", "09x1234567"]))
    elif defect == "national_id":
        year = int(row["birth_year"])
        row["national_id"] = _national_id(1999 if year != 1999 else 1998, "male", n)
        row["sex"] = "Nam"
    elif defect == "village":
        row["village"] = "Thôn Không Có"
    elif defect == "empty_name":
        row["full_name"] = "\u200b "
    elif defect == "empty_year":
        row["birth_year"] = ""
    elif defect == "empty_sex":
        row["sex"] = ""
    return row


@st.composite
def table(draw):
    """(rows as dicts in file order, kinds: 'valid', 'broken' or 'blank')."""
    size = draw(st.integers(1, 12))
    rows, kinds = [], []
    for n in range(size):
        kind = draw(st.sampled_from(["valid", "valid", "broken", "blank"]))
        kinds.append(kind)
        if kind == "valid":
            rows.append(draw(valid_row(n)))
        elif kind == "broken":
            rows.append(draw(broken_row(n)))
        else:
            rows.append({column: "" for column in ("full_name", "birth_year", "sex", "phone", "national_id",
                                                   "village")})
    return rows, kinds


COLUMNS = ("full_name", "birth_year", "sex", "phone", "national_id", "village")


@st.composite
def layout(draw):
    language = draw(st.sampled_from(["vi", "en"]))
    order = draw(st.permutations(range(6)))
    extra = draw(st.sampled_from([[], ["STT"], ["Ghi chú", ""]]))
    suffix = draw(st.sampled_from(["", " *", ":"]))
    return language, list(order), extra, suffix


def _matrix(rows, language, order, extra, suffix, numbers_as_numbers=False):
    header = [HEADERS[language][i] + suffix for i in order] + extra
    out = [header]
    for row in rows:
        cells = [row[COLUMNS[i]] for i in order]
        if numbers_as_numbers:
            cells = [int(c) if isinstance(c, int) else c for c in cells]
        else:
            cells = ["" if c is None else str(c) for c in cells]
        blank = not any(str(cell).strip() for cell in cells)
        out.append(cells + ["" if blank else "x"] * len(extra))
    return out


def write_csv(matrix, *, delimiter=",", bom=True, newline="\n") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=newline).writerows(matrix)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def write_xlsx(matrix) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in matrix:
        sheet.append(row)  # a text starting with "=" becomes a formula cell, as in Excel
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def team(make, app):
    village = make.village(name="Thôn Đông")
    member = make.staff("team_member")
    db.session.commit()
    client = app.test_client()
    log_in(client, member)
    return client, village


def _counts():
    return (db.session.scalar(select(func.count()).select_from(Learner)),
            db.session.scalar(select(func.count()).select_from(LearnerImport)))


def upload(client, name: str, data: bytes, language: str = "vi"):
    token = csrf_token(client, "/privacy")
    return client.post("/team/import", data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", headers={"Accept-Language": language})


def check_file(client, name: str, data: bytes, rows, kinds, language: str = "vi"):
    """Upload, check the preview against the rows' known fate, confirm, check what was stored."""
    learners_before, imports_before = _counts()
    response = upload(client, name, data, language)
    assert response.status_code < 500, name
    if all(kind == "blank" for kind in kinds):
        assert response.status_code == 422
        assert_translated_errors(response.get_data(as_text=True), language, name)
        assert _counts() == (learners_before, imports_before)
        return
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    preview = response.headers["Location"]
    staged = db.session.get(LearnerImport, int(preview.rsplit("/", 1)[1]))
    numbers = {kind: {i + 2 for i, k in enumerate(kinds) if k == kind} for kind in ("valid", "broken")}
    reported = {problem["row"] for problem in staged.payload["problems"]}
    assert reported == numbers["broken"], (reported, numbers)
    assert staged.row_count == len(numbers["valid"]) + len(numbers["broken"])
    assert staged.valid_count == len(numbers["valid"]), staged.payload["problems"]
    page = client.get(preview, headers={"Accept-Language": language})
    assert page.status_code == 200
    assert _counts()[0] == learners_before  # nothing registered before the confirmation
    confirm = client.post(preview + "/confirm", data={"csrf_token": csrf_token(client, "/privacy"), "consent": "y"})
    assert confirm.status_code == 302
    db.session.expire_all()
    assert _counts()[0] == learners_before + len(numbers["valid"])
    names = set(db.session.scalars(select(Learner.full_name).order_by(Learner.id.desc()).limit(len(numbers["valid"]))))
    expected = {" ".join(unicodedata.normalize("NFC", rows[n - 2]["full_name"]).replace("\u200b", "")
                         .replace("\u202e", "").replace("\u202c", "").split()) for n in numbers["valid"]}
    assert names == expected


@given(content=table(), shape=layout(), delimiter=st.sampled_from([",", ";"]), bom=st.booleans(),
       newline=st.sampled_from(["\n", "\r\n"]))
@FUZZ
def test_csv_rows_are_judged_one_by_one(app, team, content, shape, delimiter, bom, newline):
    client, _village = team
    rows, kinds = content
    language, order, extra, suffix = shape
    matrix = _matrix(rows, language, order, extra, suffix)
    with rolled_back():
        check_file(client, "danh sach.csv", write_csv(matrix, delimiter=delimiter, bom=bom, newline=newline),
                   rows, kinds, language)


@given(content=table(), shape=layout(), numbers=st.booleans())
@FUZZ
def test_xlsx_rows_are_judged_one_by_one(app, team, content, shape, numbers):
    client, _village = team
    rows, kinds = content
    language, order, extra, suffix = shape
    matrix = _matrix(rows, language, order, extra, suffix, numbers_as_numbers=numbers)
    with rolled_back():
        check_file(client, "Danh sách.xlsx", write_xlsx(matrix), rows, kinds, language)


def _broken_files(draw_rows):
    good = write_csv(_matrix(draw_rows, "vi", list(range(6)), [], ""), bom=False)
    text = good.decode("utf-8")
    xlsx = write_xlsx(_matrix(draw_rows, "vi", list(range(6)), [], ""))
    return {
        "cp1258.csv": text.encode("cp1258", errors="replace"),
        "utf16.csv": text.encode("utf-16"),
        "latin1.csv": "Họ và tên,Năm sinh,Giới tính\nÉlise,1960,Nữ\n".encode("latin-1", errors="replace"),
        "surrogate.csv": (text + "Lê\ud800,1960,Nữ\n").encode("utf-8", "surrogatepass"),
        "tabs.csv": text.replace(",", "\t").encode(),
        "pipes.csv": text.replace(",", "|").encode(),
        "no-name-column.csv": "Năm sinh,Giới tính\n1960,Nữ\n".encode(),
        "twice.csv": "Họ và tên,Họ tên,Năm sinh,Giới tính\nA,B,1960,Nữ\n".encode(),
        "empty.csv": b"",
        "header-only.csv": "Họ và tên,Năm sinh,Giới tính\n".encode(),
        "nul.csv": b"H\x00o\x00",
        "truncated.xlsx": xlsx[: len(xlsx) // 2],
        "zip-not-xlsx.xlsx": b"PK\x03\x04" + b"\x00" * 100,
        "csv-named.xlsx": good,
        "xlsx-named.csv": xlsx,
        "picture.png": b"\x89PNG\r\n\x1a\n",
        "unclosed-quote.csv": 'Họ và tên,Năm sinh,Giới tính\n"Lê Văn,1960,Nam\n'.encode(),
        "huge-cell.csv": ("Họ và tên,Năm sinh,Giới tính\n" + "A" * 200_000 + ",1960,Nam\n").encode(),
    }


@given(garbage=st.binary(max_size=2048), name=st.sampled_from(["x.csv", "x.xlsx", "x.CSV", "x", "x.xls"]),
       language=st.sampled_from(["vi", "en"]))
@FUZZ
def test_random_bytes_never_break_the_import(app, team, garbage, name, language):
    client, _village = team
    with rolled_back():
        before = _counts()
        response = upload(client, name, garbage, language)
        assert response.status_code in (302, 422), response.status_code
        if response.status_code == 422:
            assert_translated_errors(response.get_data(as_text=True), language, name)
            assert _counts() == before
        assert _counts()[0] == before[0]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_files_broken_as_a_whole_are_refused_clearly(app, team, language):
    client, _village = team
    rows = [{"full_name": "Lê Thị Hoa", "birth_year": 1960, "sex": "Nữ", "phone": "", "national_id": "",
             "village": ""}]
    for name, data in _broken_files(rows).items():
        with rolled_back():
            before = _counts()
            stored = snapshot(ignore=("login_failures",))
            response = upload(client, name, data, language)
            assert response.status_code in (302, 422), f"{name} → {response.status_code}"
            if response.status_code == 422:
                assert_translated_errors(response.get_data(as_text=True), language, name)
                assert snapshot(ignore=("login_failures",)) == stored, name
            else:  # read after all (tabs and pipes are one column; a bad quote swallows the row)
                staged = db.session.get(LearnerImport, int(response.headers["Location"].rsplit("/", 1)[1]))
                assert staged.valid_count <= 1, name
            assert _counts()[0] == before[0], name


def test_a_failure_half_way_registers_nobody(app, team, monkeypatch):
    """All or nothing: if registering the third row fails, the first two are not kept."""
    from lms.learners import events
    from lms.team.importer import LearnerImportError

    client, _village = team
    rows = [{"full_name": f"Lê Thị {_unique_word(n)}", "birth_year": 1960, "sex": "Nữ", "phone": f"09{n:08d}",
             "national_id": "", "village": ""} for n in range(5)]
    response = upload(client, "list.csv", write_csv(_matrix(rows, "vi", list(range(6)), [], "")))
    preview = response.headers["Location"]
    seen = []

    def fail_on_third(learner, **extra):
        seen.append(learner.id)
        if len(seen) == 3:
            raise LearnerImportError("import-failed", "Thử lỗi")

    events.learner_registered.connect(fail_on_third)
    try:
        before = _counts()[0]
        confirm = client.post(preview + "/confirm", data={"csrf_token": csrf_token(client, "/privacy"),
                                                          "consent": "y"})
    finally:
        events.learner_registered.disconnect(fail_on_third)
    assert confirm.status_code == 302
    db.session.expire_all()
    assert len(seen) == 3
    assert _counts()[0] == before
    staged = db.session.get(LearnerImport, int(preview.rsplit("/", 1)[1]))
    assert staged.status == "pending" and staged.valid_count == 5  # can be confirmed again later
