"""Import: a corpus of malformed files, each rejected or reported row by row, and
nothing half-imported."""

import io
import unicodedata

import openpyxl
import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.learners.models import Consent, Learner
from tests.conftest import post_form

HEADER = "Họ và tên,Năm sinh,Giới tính,Số điện thoại,Số CCCD,Thôn/Tổ dân phố\n"


def _count():
    return db.session.scalar(select(func.count()).select_from(Learner))


def _upload(client, name, data):
    return post_form(client, "/team/import", {"file": (io.BytesIO(data), name)},
                     content_type="multipart/form-data")


def _xlsx(rows):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _preview(client, response):
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return client.get(response.headers["Location"])


def _confirm(client, preview_url):
    return post_form(client, preview_url + "/confirm", {"consent": "y"}, page=preview_url)


GOOD = (HEADER + "Nguyễn Văn An,1960,Nam,0912345678,001060012345,Thôn Đông\n"
        "Trần Thị Bình,1975,Nữ,,,\n"
        "H'Hen Niê,1990,nữ,+84 987 654 321,,Đông\n")


@pytest.mark.parametrize("bom,sep", [(b"", ","), (b"\xef\xbb\xbf", ","), (b"\xef\xbb\xbf", ";")])
def test_csv_import_commits_every_valid_row_once(client, team, bom, sep):
    before = _count()
    response = _upload(client, "list.csv", bom + GOOD.replace(",", sep).encode())
    preview = _preview(client, response)
    url = response.headers["Location"]
    assert "3" in preview.get_data(as_text=True)
    assert _count() == before  # nothing yet
    assert _confirm(client, url).status_code == 302
    assert _count() == before + 3
    an = db.session.scalar(select(Learner).where(Learner.name_folded == "nguyen van an"))
    assert an.national_id_last4 == "2345" and an.village.name == "Thôn Đông" and an.user.phone == "+84912345678"
    assert an.user.must_change_password and an.user.password_hash == ""
    assert db.session.scalar(select(Consent).where(Consent.learner_id == an.id)).collected_by_id == team.id
    # Confirming twice creates nothing more; re-uploading the same file neither.
    _confirm(client, url)
    assert _count() == before + 3
    again = _upload(client, "list.csv", bom + GOOD.replace(",", sep).encode())
    _preview(client, again)
    _confirm(client, again.headers["Location"])
    assert _count() == before + 3


def test_xlsx_import_and_row_errors_in_vietnamese(client, team):
    data = _xlsx([["Họ và tên", "Năm sinh", "Giới tính", "Số CCCD", "STT"],
                  ["Lê Văn Cường", 1980, "Nam", "001080000001", 1],
                  ["=cmd|' /C calc'!A0", 1980, "Nam", None, 2],
                  ["Lê Thị Dung", 1890, "Nữ", None, 3],
                  ["Lê Thị Em", 1985, "X", None, 4],
                  ["Lê Văn Phúc", 1985, "Nam", "001185000001", 5],
                  [None, None, None, None, None],
                  ["Lê Văn Cường", 1980, "Nam", None, 7]])
    before = _count()
    response = _upload(client, "list.xlsx", data)
    page = _preview(client, response).get_data(as_text=True)
    assert "công thức" in page  # formula reported, in Vietnamese
    assert "Nam hoặc Nữ" in page
    assert "STT" in page  # ignored column is named
    assert "hàng 2" in page or "Same person" in page or "Trùng" in page
    _confirm(client, response.headers["Location"])
    assert _count() == before + 1


@pytest.mark.parametrize("name,data,message", [
    ("list.csv", unicodedata.normalize("NFD", HEADER + "Nguyễn Văn Ân,1960,Nam,,,\n").encode("cp1258", "ignore"), "UTF-8"),
    ("list.csv", (HEADER + "José Ánh,1960,Nữ,,,\n").encode("latin-1", "replace"), "UTF-8"),
    ("list.csv", "Tên,Tuổi\nAn,30\n".encode(), "Họ và tên"),
    ("list.txt", GOOD.encode(), ".xlsx"),
    ("list.xlsx", GOOD.encode(), "không đọc được"),
    ("list.csv", b"PK\x03\x04garbage", ".xlsx"),
    ("list.csv", b"", "không có"),
    ("list.csv", HEADER.encode() + b"\n\n,,,,,\n", "không có"),
    ("list.csv", HEADER.encode() + b"An," + b"x" * 200_000 + b",Nam\n", "ký tự"),
])
def test_bad_files_are_rejected_whole(client, team, name, data, message):
    before = _count()
    response = _upload(client, name, data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _count() == before


def test_huge_cells_and_extra_columns_are_reported_per_row(client, team):
    rows = HEADER.strip() + ",Ghi chú\n" + "Phan Văn Hùng,1970,Nam,,,,ok\n" + "Phan " + "A" * 400 + ",1970,Nam,,,,\n"
    response = _upload(client, "list.csv", rows.encode())
    page = _preview(client, response).get_data(as_text=True)
    assert "300" in page and "Ghi chú" in page
    _confirm(client, response.headers["Location"])
    assert db.session.scalar(select(func.count()).select_from(Learner).where(Learner.name_folded == "phan van hung")) == 1


def test_duplicates_within_the_file_and_against_the_database(client, team, make):
    make.learner(full_name="Võ Thị Hoà", birth_year=1955)
    db.session.flush()
    text = HEADER + ("Võ Thị Hòa,1955,Nữ,,,\n"  # in the database (other tone placement)
                     "Đỗ Văn Long,1966,Nam,0905111222,,\n"
                     "Do Van Long,1966,Nam,84905111222,,\n")  # same phone as the row above
    before = _count()
    response = _upload(client, "list.csv", text.encode())
    page = _preview(client, response).get_data(as_text=True)
    assert "Đã đăng ký" in page or "đã đăng ký" in page
    _confirm(client, response.headers["Location"])
    assert _count() == before + 1


def test_failure_during_commit_leaves_nothing(client, team, monkeypatch):
    from lms.learners import events

    def explode(sender, **kwargs):
        raise RuntimeError("boom")

    response = _upload(client, "list.csv", GOOD.encode())
    _preview(client, response)
    before = _count()
    events.learner_registered.connect(explode)
    try:
        result = _confirm(client, response.headers["Location"])
    finally:
        events.learner_registered.disconnect(explode)
    assert result.status_code == 500
    assert _count() == before


def test_another_member_cannot_confirm_my_upload(client, team, make, app):
    response = _upload(client, "list.csv", GOOD.encode())
    url = response.headers["Location"]
    other = make.staff("team_member")
    db.session.flush()
    other_client = app.test_client()
    post_form(other_client, "/login", {"login": other.login_name, "password": "correct horse 42"})
    assert other_client.get(url).status_code == 404


@pytest.mark.parametrize("name,data,code", [
    ("list.csv", HEADER.encode() + b"x" * (5 * 1024 * 1024), "file-size"),
    ("list.csv", (HEADER + "Trần Văn A,1970,Nam,,,\n" * 50_001).encode(), "file-rows"),
    ("list.xlsx", _xlsx([["Họ và tên", "Năm sinh", "Giới tính"]] + [["Trần Văn A", 1970, "Nam"]] * 50_001), "file-rows"),
])
def test_oversized_files_are_refused_before_validation(app, name, data, code):
    # Called directly: the test client would spool such bodies to temporary files.
    from lms.team.importer import LearnerImportError, read_table

    with app.test_request_context(headers={"Accept-Language": "vi"}):
        with pytest.raises(LearnerImportError) as caught:
            read_table(name, data)
        assert caught.value.code == code
        assert "5 MB" in caught.value.message or "50000" in caught.value.message
