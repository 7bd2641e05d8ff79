"""The learner's own data pages: see, download, correct, withdraw, delete."""

import json

from sqlalchemy import select

from lms.accounts.models import User
from lms.audit.models import AuditEvent
from lms.extensions import db
from lms.learners import events
from lms.learners.models import Consent
from tests.conftest import post_form


def test_learner_sees_downloads_and_corrects_their_data(client, make, login):
    user = make.learner(full_name="Nguyễn Thị Hoà", birth_year=1960)
    db.session.flush()
    login(user)
    assert "Nguyễn Thị Hoà" in client.get("/my-data").get_data(as_text=True)
    data = json.loads(client.get("/my-data.json").get_data(as_text=True))
    assert data["learner"]["full_name"] == "Nguyễn Thị Hoà" and data["consents"][0]["text_version"]
    response = post_form(client, "/my-data", {"full_name": "Nguyễn Thị Hòa Bình", "birth_year": "1961", "village": ""})
    assert response.status_code == 302
    db.session.refresh(user.learner)
    assert user.learner.full_name == "Nguyễn Thị Hòa Bình" and user.learner.birth_year == 1961


def test_the_privacy_notice_lists_what_is_kept(client):
    page = client.get("/privacy", headers={"Accept-Language": "vi"}).get_data(as_text=True)
    assert "Chúng tôi lưu gì, và lưu bao lâu" in page and "Thu hồi và xóa tên" in page and "/my-data" in page


def test_withdraw_consent(client, make, login):
    user = make.learner()
    db.session.flush()
    login(user)
    post_form(client, "/my-data/withdraw", {"confirm": "y"}, page="/my-data")
    consent = db.session.scalar(select(Consent).where(Consent.learner_id == user.learner.id))
    db.session.refresh(consent)
    assert consent.withdrawn_dt is not None


def test_deletion_erases_personal_data_and_frees_the_login(client, make, login):
    user = make.learner(full_name="Trần Văn Xoá", login="0912000111", birth_year=1950)
    learner = user.learner
    db.session.flush()
    seen = []

    def receiver(sender, **kwargs):
        seen.append(sender.full_name)

    events.learner_deleted.connect(receiver)
    try:
        login(user)
        response = post_form(client, "/my-data/delete", {"confirm": "y"}, page="/my-data")
    finally:
        events.learner_deleted.disconnect(receiver)
    assert response.status_code == 302
    assert seen == ["Trần Văn Xoá"]  # sent before erasing
    user_id = user.id
    db.session.expire_all()
    assert learner.is_deleted and learner.full_name == "" and learner.national_id_hash is None
    assert learner.birth_year is None and learner.sex is None and learner.village_id is None
    assert db.session.get(User, user_id) is None and learner.user_id is None  # the account is gone
    assert learner.commune_id  # anonymous counts survive
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "learner.erase",
                                                         AuditEvent.learner_id == learner.id))
    assert client.get("/my-data").status_code == 302  # logged out: the session ended with the account
    # The phone number is free for a new account.
    again = make.learner(full_name="Trần Văn Mới", login="0912000111")
    assert again.phone == "+84912000111"
