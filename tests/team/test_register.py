import unicodedata

import pytest
from sqlalchemy import select

from lms.accounts.models import User
from lms.audit.models import AuditEvent
from lms.extensions import db
from lms.learners.models import Consent, Learner
from tests.conftest import post_form

URL = "/team/learners/new"


def _form(**overrides):
    data = {"full_name": "Nguyễn Thị Hoà", "birth_year": "1960", "sex": "female", "village": "",
            "phone": "", "national_id": "", "consent": "y"}
    data.update(overrides)
    return data


def _learners(name_folded=None):
    query = select(Learner)
    if name_folded:
        query = query.where(Learner.name_folded == name_folded)
    return list(db.session.scalars(query))


def test_register_prints_a_card_the_learner_can_log_in_with(client, make, member, login):
    login(member)
    response = post_form(client, URL, _form(phone="0912 345 678", national_id="001160012345"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:2000]
    learner = db.session.scalar(select(Learner).where(Learner.national_id_last4 == "2345"))
    assert learner.full_name == "Nguyễn Thị Hoà" and learner.registered_by_id == member.id
    assert learner.national_id_hash and "001160012345" not in str(learner.__dict__)
    user = learner.user
    assert user.username.startswith("hoa") and user.phone == "+84912345678" and user.must_change_password
    consent = db.session.scalar(select(Consent).where(Consent.learner_id == learner.id))
    assert consent.collected_by_id == member.id and consent.text_version == "learning-2026-01"
    assert user.username in page
    pin = page.split("First password")[1] if "First password" in page else page.split("Mật khẩu đầu tiên")[1]
    pin = pin.split("<strong>")[1].split("</strong>")[0]
    assert len(pin) == 8 and pin.isdigit()
    client.post("/logout", data={"csrf_token": ""})
    from tests.conftest import IsolatedClient  # noqa: F401 - same client class
    fresh = client.application.test_client()
    response = post_form(fresh, "/login", {"login": user.username, "password": pin})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/choose-password")


def test_consent_is_required(client, member, login):
    login(member)
    response = post_form(client, URL, _form(consent=""))
    assert response.status_code == 422
    assert _learners("nguyen thi hoa") == []


@pytest.mark.parametrize("first,second", [
    ("Nguyễn Thị Hoà", unicodedata.normalize("NFD", "Nguyễn Thị Hoà")),
    ("Nguyễn Thị Hòa", "Nguyễn Thị Hoà"),  # tone on o vs on a
    ("NGUYỄN THỊ HÒA", "nguyễn  thị   hoà"),
])
def test_same_name_and_year_is_caught_but_may_be_overridden(client, member, login, first, second):
    login(member)
    assert post_form(client, URL, _form(full_name=first)).status_code == 200
    response = post_form(client, URL, _form(full_name=second))
    assert response.status_code == 409
    assert "register_anyway" in response.get_data(as_text=True)
    assert len(_learners("nguyen thi hoa")) == 1
    response = post_form(client, URL, _form(full_name=second, register_anyway="y"))
    assert response.status_code == 200
    assert len(_learners("nguyen thi hoa")) == 2


@pytest.mark.parametrize("typed", ["+84912345678", "84912345678", "0912.345.678", "0912 345 678"])
def test_same_phone_in_any_format_is_a_duplicate_that_cannot_be_overridden(client, member, login, typed):
    login(member)
    assert post_form(client, URL, _form(phone="0912345678")).status_code == 200
    response = post_form(client, URL, _form(full_name="Trần Văn Nam", sex="male", birth_year="1970",
                                            phone=typed, register_anyway="y"))
    assert response.status_code == 409
    assert "register_anyway" not in response.get_data(as_text=True)
    assert _learners("tran van nam") == []


def test_same_national_id_is_a_duplicate_even_in_another_commune(client, make, member, other_commune, login):
    login(member)
    assert post_form(client, URL, _form(national_id="001160012345")).status_code == 200
    learner = _learners("nguyen thi hoa")[0]
    learner.commune_id = other_commune.id
    learner.province_id = other_commune.province_id
    db.session.flush()
    response = post_form(client, URL, _form(full_name="Lê Thị Hoa", national_id="001 160 012 345"))
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Nguyễn Thị Hoà" not in page  # outside the member's scope: not shown


def test_national_id_must_agree_with_birth_year(client, member, login):
    login(member)
    response = post_form(client, URL, _form(national_id="001165012345"))
    assert response.status_code == 422
    assert "1965" in response.get_data(as_text=True)
    assert _learners("nguyen thi hoa") == []


def test_village_limited_member_must_choose_one_of_their_villages(client, make, login):
    own, other = make.village(name="Thôn Đông"), make.village(name="Thôn Tây")
    member = make.staff("team_member", villages=[own])
    db.session.flush()
    login(member)
    response = post_form(client, URL, _form(village=str(other.id)))
    assert response.status_code == 422
    response = post_form(client, URL, _form(village=str(own.id)))
    assert response.status_code == 200
    assert _learners("nguyen thi hoa")[0].village_id == own.id


def test_reset_card_ends_old_password_and_is_audited(client, make, member, login):
    user = make.learner()
    learner = user.learner
    login(member)
    response = post_form(client, f"/team/learners/{learner.id}/card", {"confirm": "y"},
                         page=f"/team/learners/{learner.id}")
    assert response.status_code == 200
    db.session.refresh(user)
    assert user.must_change_password and user.username in response.get_data(as_text=True)
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.learner_id == learner.id)))
    assert {"learner.view", "learner.card"} <= actions
    assert db.session.scalar(select(User.id).where(User.id == user.id))
