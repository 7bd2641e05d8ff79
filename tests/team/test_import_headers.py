"""Import headers: the template says "Số định danh cá nhân" (the number's name since 1 July 2024),
and sheets made from the old template, headed "Số CCCD", still import the same column."""

import io

from sqlalchemy import select

from lms.extensions import db
from lms.learners.models import Learner
from lms.team.importer import map_header, template_headers
from tests.conftest import post_form


def test_the_template_uses_the_current_name_of_the_number():
    assert template_headers("vi")[4] == "Số định danh cá nhân"
    assert "Số CCCD" not in template_headers("vi")


def test_old_and_new_headers_map_to_the_same_column():
    new, _ = map_header(["Họ và tên", "Năm sinh", "Giới tính", "Số định danh cá nhân"])
    old, ignored = map_header(["Họ và tên", "Năm sinh", "Giới tính", "Số CCCD"])
    assert new["national_id"] == old["national_id"] == 3 and ignored == []


def test_a_sheet_with_the_old_header_imports_the_number(client, team):
    data = ("Họ và tên,Năm sinh,Giới tính,Số điện thoại,Số CCCD,Thôn/Tổ dân phố\n"
            "Lê Văn Cũ,1960,Nam,,001060054321,\n").encode()
    response = post_form(client, "/team/import", {"file": (io.BytesIO(data), "old.csv")},
                         content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    preview_url = response.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "Các cột sau đã được bỏ qua" not in page  # the old header is not an ignored column
    post_form(client, preview_url + "/confirm", {"consent": "y"}, page=preview_url)
    learner = db.session.scalar(select(Learner).where(Learner.name_folded == "le van cu"))
    assert learner is not None and learner.national_id_last4 == "4321"
