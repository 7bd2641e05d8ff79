"""The name rule on every path that takes a name: refused with the character named,
in Vietnamese and English, and nothing stored.

Paths: self sign-up, the team's registration form, the team's edit form, the
learner's own correction on /my-data, and import rows. (The API takes no names.)
"""

from __future__ import annotations

import html
import io

import pytest
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.extensions import db
from lms.learners.models import Learner
from lms.team.models import LearnerImport
from tests.conftest import post_form

REFUSED = {  # typed name → the character the message must name
    "Nguyễn 😀 An": "😀",
    "محمد علي": "م",
    "王小明": "王",
    "Trần \U0001f1fb\U0001f1f3 Bình": "\U0001f1fb",
    "Lê Văn 2": "2",
}
MESSAGE = {"vi": "Tên không được chứa", "en": "A name cannot contain"}


def _learner_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Learner))


def _assert_refused(response, typed: str, language: str) -> None:
    assert response.status_code == 422, response.status_code
    page = html.unescape(response.get_data(as_text=True))
    assert MESSAGE[language] in page
    char = REFUSED[typed]
    assert f"“{char}” (U+{ord(char):04X})" in page


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("typed", list(REFUSED))
def test_self_sign_up_refuses_a_name_the_certificate_cannot_print(client, typed, language):
    before = _learner_count()
    response = post_form(client, "/signup?province=01&commune=00070", {
        "full_name": typed, "login": "tranvanba", "password": "mat khau 123", "consent": "y"},
        headers={"Accept-Language": language})
    _assert_refused(response, typed, language)
    assert _learner_count() == before
    assert db.session.scalar(select(User).where(User.username == "tranvanba")) is None


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("typed", list(REFUSED))
def test_team_registration_refuses_it(client, member, login, typed, language):
    login(member)
    before = _learner_count()
    response = post_form(client, "/team/learners/new", {
        "full_name": typed, "birth_year": "1960", "sex": "female", "village": "", "phone": "",
        "national_id": "", "consent": "y"}, headers={"Accept-Language": language})
    _assert_refused(response, typed, language)
    assert _learner_count() == before


@pytest.mark.parametrize("typed", list(REFUSED))
def test_the_team_edit_form_refuses_it(client, make, member, login, typed):
    learner = make.learner(full_name="Nguyễn Thị Hoà", birth_year=1960, sex="female").learner
    db.session.flush()
    login(member)
    response = post_form(client, f"/team/learners/{learner.id}/edit", {
        "full_name": typed, "birth_year": "1960", "sex": "female", "village": "", "phone": "", "national_id": ""})
    _assert_refused(response, typed, "vi")
    db.session.refresh(learner)
    assert learner.full_name == "Nguyễn Thị Hoà"


@pytest.mark.parametrize("typed", list(REFUSED))
def test_my_data_correction_refuses_it(client, make, login, typed):
    user = make.learner(full_name="Nguyễn Thị Hoà")
    db.session.flush()
    login(user)
    response = post_form(client, "/my-data", {"full_name": typed, "birth_year": "1961", "village": ""})
    _assert_refused(response, typed, "vi")
    db.session.refresh(user.learner)
    assert user.learner.full_name == "Nguyễn Thị Hoà" and user.display_name == "Nguyễn Thị Hoà"


@pytest.mark.parametrize("language", ["vi", "en"])
def test_import_rows_with_such_names_are_reported_naming_the_character(client, team, language):
    names = list(REFUSED)
    body = "Họ và tên,Năm sinh,Giới tính\n" + "".join(f"{name},1960,Nữ\n" for name in names) + "Lê Thị Hoa,1960,Nữ\n"
    response = post_form(client, "/team/import", {"file": (io.BytesIO(body.encode()), "x.csv")},
                         content_type="multipart/form-data", headers={"Accept-Language": language})
    assert response.status_code == 302
    staged = db.session.get(LearnerImport, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert staged.valid_count == 1
    assert [(p["row"], p["code"]) for p in staged.payload["problems"]] == [(i + 2, "name-character")
                                                                          for i in range(len(names))]
    page = html.unescape(client.get(response.headers["Location"], headers={"Accept-Language": language})
                         .get_data(as_text=True))
    for char in REFUSED.values():
        assert f"“{char}” (U+{ord(char):04X})" in page
    assert MESSAGE[language] in page


@pytest.mark.parametrize("typed,stored", [
    ("H’Hen Niê", "H'Hen Niê"), ("K' Sor", "K' Sor"), ("Y Moan Êban", "Y Moan Êban"),
    ("  nguyễn   văn  ấn ", "nguyễn văn ấn"), ("Nguyễn-Trần Thị Ánh", "Nguyễn-Trần Thị Ánh"),
    ("Hʼ Mai", "H' Mai"), ("Y Ŏk Niê", "Y Ŏk Niê"),
])
def test_names_of_vietnams_peoples_in_latin_script_are_accepted(client, member, login, typed, stored):
    login(member)
    response = post_form(client, "/team/learners/new", {
        "full_name": typed, "birth_year": "1960", "sex": "female", "village": "", "phone": "",
        "national_id": "", "consent": "y"})
    assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
    assert db.session.scalar(select(Learner).where(Learner.full_name == stored)) is not None


@pytest.mark.parametrize("typed,code", [("'An Bình", "name-shape"), ("An--Bình", "name-shape"), ("A", "name-invalid")])
def test_badly_shaped_names_are_refused(app, typed, code):
    from lms.learners.operations import LearnerError, validate_name

    with app.test_request_context(), pytest.raises(LearnerError) as caught:
        validate_name(typed)
    assert caught.value.code == code
