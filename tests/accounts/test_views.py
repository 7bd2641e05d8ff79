import re

import pytest
from sqlalchemy import select

from lms.accounts.models import User
from lms.extensions import db
from tests.conftest import Factory, csrf_token, post_form


def test_login_with_phone_in_any_format(client, make):
    make.learner(login="0912 345 678")
    for typed in ("+84912345678", "84912345678", "0912.345.678"):
        response = post_form(client, "/login", {"login": typed, "password": Factory.password})
        assert response.status_code == 302, typed
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def test_login_with_username_and_wrong_password(client, make):
    make.learner(login="bac.hung")
    bad = post_form(client, "/login", {"login": "bac.hung", "password": "wrong password"})
    assert bad.status_code == 422
    assert "không đúng" in bad.get_data(as_text=True)
    good = post_form(client, "/login", {"login": "BAC.HUNG", "password": Factory.password})
    assert good.status_code == 302


def test_post_without_csrf_token_is_rejected(client, make):
    make.learner(login="bac.hung")
    response = client.post("/login", data={"login": "bac.hung", "password": Factory.password})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)
    response = client.post("/language", data={"language": "en"})
    assert response.status_code == 400


def test_account_is_throttled_after_five_failures_from_one_address(client, make, app):
    make.learner(login="bac.hung")
    for _ in range(5):
        post_form(client, "/login", {"login": "bac.hung", "password": "nope nope"})
    # Even the right password is refused now from that address; not from another (issue 15.8).
    response = post_form(client, "/login", {"login": "bac.hung", "password": Factory.password})
    assert response.status_code == 422
    assert "Thử sai quá nhiều lần" in response.get_data(as_text=True)
    response = post_form(app.test_client(), "/login", {"login": "bac.hung", "password": Factory.password},
                         environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert response.status_code == 302


def test_shared_address_is_not_locked_by_one_person(client, make, app):
    """A commune hall: one address, many learners; one person's mistakes lock only them."""
    make.learner(login="nguoi.mot")
    make.learner(login="nguoi.hai")
    for _ in range(6):
        post_form(client, "/login", {"login": "nguoi.mot", "password": "nope nope"})
    response = post_form(client, "/login", {"login": "nguoi.hai", "password": Factory.password})
    assert response.status_code == 302


def test_address_is_throttled_after_many_failures(client, make, app):
    make.learner(login="nguoi.ba")
    limit = app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    for i in range(limit):
        post_form(client, "/login", {"login": f"khong.co.{i}", "password": "nope nope"})
    response = post_form(client, "/login", {"login": "nguoi.ba", "password": Factory.password})
    assert response.status_code == 422


def test_login_starts_a_fresh_session(client, make):
    make.learner(login="bac.hung")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    post_form(client, "/login", {"login": "bac.hung", "password": Factory.password})
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("_user_id")


def test_password_change_ends_other_sessions(app, make):
    user = make.learner(login="bac.hung")
    first, second = app.test_client(), app.test_client()
    for c in (first, second):
        assert post_form(c, "/login", {"login": "bac.hung", "password": Factory.password}).status_code == 302
    response = post_form(first, "/account", {"current_password": Factory.password, "new_password": "a new pass 77"})
    assert response.status_code == 302
    assert first.get("/account").status_code == 200
    assert second.get("/account").status_code == 302  # sent to login
    assert user.password_hash.startswith("scrypt:")


def test_signup_steps_work_without_javascript(client):
    page = client.get("/signup").get_data(as_text=True)
    assert page.count("<option value=") == 35  # "choose" + 34 provinces
    page = client.get("/signup?province=01").get_data(as_text=True)
    options = re.findall(r'<option value="(\d{5})"', page)
    assert "00070" in options and len(options) < 200  # only Hà Nội's communes, not all 3,321
    page = client.get("/signup?province=01&commune=00070").get_data(as_text=True)
    assert 'name="full_name"' in page and "Phường Hoàn Kiếm" in page


def test_signup_creates_learner_with_consent(client):
    url = "/signup?province=01&commune=00070"
    response = post_form(client, url, {
        "full_name": "Nguyễn Thị Hoà", "login": "0987 654 321", "password": "mat khau 123",
        "birth_year": "1960", "sex": "female", "village": "", "consent": "y"})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.phone == "+84987654321"))
    assert user.role == "learner" and user.learner.full_name == "Nguyễn Thị Hoà"
    assert user.learner.commune.code == "00070"
    from lms.learners.models import Consent

    consent = db.session.scalar(select(Consent).where(Consent.learner_id == user.learner.id))
    assert consent.text_version == "learning-2026-01" and consent.withdrawn_dt is None


def test_signup_without_consent_is_refused_in_vietnamese(client):
    response = post_form(client, "/signup?province=01&commune=00070", {
        "full_name": "Trần Văn Ba", "login": "tranvanba", "password": "mat khau 123"})
    assert response.status_code == 422
    assert "đồng ý" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "tranvanba")) is None


@pytest.mark.parametrize(("field", "value", "message"), [
    ("login", "12", "số điện thoại"),
    ("password", "short", "ít nhất 8"),
    ("full_name", "\u200b\u200b", "họ và tên"),
])
def test_signup_errors_are_clear(client, field, value, message):
    data = {"full_name": "Trần Văn Ba", "login": "tranvanba", "password": "mat khau 123", "consent": "y"}
    data[field] = value
    response = post_form(client, "/signup?province=01&commune=00070", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True).lower()


def test_name_is_normalised_to_nfc(client):
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Hoà")
    post_form(client, "/signup?province=01&commune=00070", {
        "full_name": nfd + "\u200b", "login": "hoa.nfd", "password": "mat khau 123", "consent": "y"})
    user = db.session.scalar(select(User).where(User.username == "hoa.nfd"))
    assert user.learner.full_name == "Nguyễn Thị Hoà"
    assert unicodedata.is_normalized("NFC", user.learner.full_name)


@pytest.mark.parametrize("url", ["/account", "/my-learning", "/villages"])
def test_pages_need_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
