"""Issue 15.9: API tokens expire, end with the password, "log out everywhere" and
erasure, and a learner sees and revokes them on /account."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from lms.accounts.models import ApiToken
from lms.api.auth import hash_token
from lms.db import utcnow
from lms.extensions import db
from tests.api.conftest import PASSWORD, issue_token
from tests.conftest import post_form


def _row(secret: str) -> ApiToken:
    db.session.expire_all()
    return db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))


def _works(client, secret: str) -> bool:
    status = client.get("/api/v1/courses", headers={"Authorization": f"Bearer {secret}"}).status_code
    assert status in (200, 401)
    return status == 200


def _browser(app, user):
    browser = app.test_client()
    assert post_form(browser, "/login", {"login": user.login_name, "password": PASSWORD}).status_code == 302
    return browser


def test_a_token_expires_after_api_token_days(app, client, learner_user):
    secret = issue_token(client, learner_user.login_name)
    row = _row(secret)
    assert timedelta(days=89, hours=23) < row.expires_dt - row.created_dt <= timedelta(days=90)
    assert _works(client, secret)
    row.expires_dt = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert not _works(client, secret)
    response = client.get("/api/v1/courses", headers={"Authorization": f"Bearer {secret}"})
    assert response.get_json()["code"] == "token-invalid"


def test_the_lifetime_is_a_setting(app, client, learner_user, monkeypatch):
    monkeypatch.setitem(app.config, "API_TOKEN_DAYS", 7)
    row = _row(issue_token(client, learner_user.login_name))
    assert row.expires_dt - row.created_dt == timedelta(days=7)


def test_a_password_change_revokes_every_token(app, client, learner_user):
    secrets = [issue_token(client, learner_user.login_name, name) for name in ("Phone", "Tablet")]
    browser = _browser(app, learner_user)
    response = post_form(browser, "/account", {"current_password": PASSWORD, "new_password": "a new pass 77"})
    assert response.status_code == 302
    assert not any(_works(client, secret) for secret in secrets)
    assert {_row(secret).revoked_reason for secret in secrets} == {"password"}


def test_log_out_everywhere_ends_sessions_and_tokens(app, client, learner_user):
    secret = issue_token(client, learner_user.login_name)
    other_device = _browser(app, learner_user)
    browser = _browser(app, learner_user)
    response = post_form(browser, "/account/logout-everywhere", {}, page="/account")
    assert response.status_code == 302
    assert not _works(client, secret) and _row(secret).revoked_reason == "logout-all"
    assert browser.get("/account").status_code == 302  # this device too
    assert other_device.get("/account").status_code == 302
    assert _browser(app, learner_user).get("/account").status_code == 200  # the password still works


def test_erasure_ends_every_token(app, client, learner_user):
    """Erasure deletes the account and its tokens (lms.privacy.operations): none works after."""
    secret = issue_token(client, learner_user.login_name)
    browser = _browser(app, learner_user)
    assert post_form(browser, "/my-data/delete", {"confirm": "y"}, page="/my-data").status_code == 302
    assert not _works(client, secret)
    assert _row(secret) is None


def test_a_new_login_card_revokes_every_token(app, client, learner_user, make):
    from lms.team.operations import issue_login_card

    secret = issue_token(client, learner_user.login_name)
    issue_login_card(learner_user.learner, by=make.staff("team_member"))
    db.session.commit()
    assert not _works(client, secret) and _row(secret).revoked_reason == "card"


def test_the_account_page_lists_live_tokens(app, client, learner_user, make):
    phone = issue_token(client, learner_user.login_name, "Điện thoại của Hoà")
    revoked = issue_token(client, learner_user.login_name, "Máy cũ")
    client.delete("/api/v1/tokens/current", headers={"Authorization": f"Bearer {revoked}"})
    expired = issue_token(client, learner_user.login_name, "Máy hết hạn")
    _row(expired).expires_dt = utcnow() - timedelta(days=1)
    other = make.learner(login="nguoi.khac")
    db.session.commit()
    issue_token(client, other.login_name, "Máy người khác")
    _works(client, phone)  # a last use to show
    page = _browser(app, learner_user).get("/account").get_data(as_text=True)
    assert "Điện thoại của Hoà" in page
    assert "Máy cũ" not in page and "Máy hết hạn" not in page and "Máy người khác" not in page
    row = _row(phone)
    for moment in (row.created_dt, row.last_used_dt, row.expires_dt):
        assert moment is not None
    assert page.count("Đăng xuất ứng dụng này") == 1
    assert "Dùng được đến" in page and "Dùng lần cuối" in page and "Đăng xuất khỏi mọi nơi" in page


def test_a_learner_revokes_one_token_on_the_account_page(app, client, learner_user):
    phone = issue_token(client, learner_user.login_name, "Phone")
    tablet = issue_token(client, learner_user.login_name, "Tablet")
    browser = _browser(app, learner_user)
    page = browser.get("/account").get_data(as_text=True)
    ids = re.findall(r'name="token" value="(\d+)"', page)
    assert sorted(ids) == sorted([str(_row(phone).id), str(_row(tablet).id)])
    response = post_form(browser, "/account/tokens/revoke", {"token": str(_row(phone).id)}, page="/account")
    assert response.status_code == 302
    assert not _works(client, phone) and _works(client, tablet)
    assert _row(phone).revoked_reason == "account"
    assert browser.get("/account").status_code == 200  # the browser session goes on


def test_another_learners_token_cannot_be_revoked(app, client, learner_user, make):
    other = make.learner(login="nguoi.khac")
    db.session.commit()
    theirs = issue_token(client, other.login_name)
    browser = _browser(app, learner_user)
    for value in (str(_row(theirs).id), "999999999", "abc", ""):
        response = post_form(browser, "/account/tokens/revoke", {"token": value}, page="/account")
        assert response.status_code == 302
    assert _works(client, theirs) and _row(theirs).revoked_dt is None
