"""Bearer tokens: issue, use, revoke; every way in without one is a JSON 401."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.db import utcnow
from lms.extensions import db
from lms.learning.models import ApiToken
from tests.api.conftest import PASSWORD, issue_token


def _token_row(secret: str) -> ApiToken:
    return db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hashlib.sha256(secret.encode()).hexdigest()))


def test_issue_token_stores_only_its_hash(client, learner_user):
    response = client.post("/api/v1/tokens", json={"login": learner_user.login_name, "password": PASSWORD,
                                                   "name": "Điện thoại của Hoà"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["token_type"] == "Bearer" and len(body["token"]) >= 43
    row = _token_row(body["token"])
    assert row.user_id == learner_user.id and row.name == "Điện thoại của Hoà"
    assert body["token"] not in {row.token_hash, row.name}
    assert row.revoked_dt is None


def test_token_works_until_revoked(client, api):
    assert api.get("/api/v1/courses").status_code == 200
    response = api.delete("/api/v1/tokens/current")
    assert response.status_code == 204 and response.data == b""
    assert _token_row(api.token).revoked_dt is not None
    response = api.get("/api/v1/courses")
    assert response.status_code == 401
    assert response.get_json()["code"] == "token-invalid"


def test_each_token_is_revoked_alone(client, learner_user, api):
    other = issue_token(client, learner_user.login_name, name="Tablet")
    api.delete("/api/v1/tokens/current")
    response = client.get("/api/v1/courses", headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 200


@pytest.mark.parametrize("header, code", [
    (None, "token-missing"),
    ("", "token-missing"),
    ("Bearer", "token-invalid"),
    ("Bearer not-a-real-token", "token-invalid"),
    ("Basic dXNlcjpwYXNz", "token-invalid"),
    ("Bearer " + "x" * 5000, "token-invalid"),
])
def test_requests_without_a_valid_token_get_401(client, header, code):
    headers = {} if header is None else {"Authorization": header}
    response = client.get("/api/v1/me/progress", headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == code
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    if code == "token-invalid":
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/courses"), ("get", "/api/v1/courses/x"), ("get", "/api/v1/courses/x/lessons/y"),
    ("get", "/api/v1/courses/x/quiz"), ("post", "/api/v1/courses/x/enrollment"), ("post", "/api/v1/progress"),
    ("post", "/api/v1/courses/x/quiz/attempts"), ("get", "/api/v1/me/progress"),
    ("delete", "/api/v1/tokens/current"),
])
def test_every_endpoint_but_login_needs_a_token(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 401
    assert response.get_json()["code"] == "token-missing"


def test_a_browser_session_is_not_an_api_login(client, learner_user, login):
    login(learner_user)
    response = client.get("/api/v1/me/progress")
    assert response.status_code == 401


def test_wrong_password_is_a_json_401(client, learner_user):
    response = client.post("/api/v1/tokens", json={"login": learner_user.login_name, "password": "wrong password 1",
                                                   "name": "App"})
    assert response.status_code == 401
    assert response.get_json()["code"] == "login-invalid"
    assert "WWW-Authenticate" in response.headers


def test_failed_logins_are_throttled(client, learner_user, app):
    wrong = {"login": learner_user.login_name, "password": "wrong password 1", "name": "App"}
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_PAIR"]):
        assert client.post("/api/v1/tokens", json=wrong).status_code == 401
    response = client.post("/api/v1/tokens", json={**wrong, "password": PASSWORD})
    assert response.status_code == 429
    assert response.get_json()["code"] == "login-throttled"
    assert int(response.headers["Retry-After"]) > 0


def test_disabled_account_loses_its_tokens(api, learner_user):
    learner_user.is_active_account = False
    db.session.commit()
    assert api.get("/api/v1/courses").status_code == 401


def test_password_set_by_the_team_must_be_changed_first(client, learner_user):
    learner_user.must_change_password = True
    db.session.commit()
    response = client.post("/api/v1/tokens", json={"login": learner_user.login_name, "password": PASSWORD,
                                                   "name": "App"})
    assert response.status_code == 403
    assert response.get_json()["code"] == "password-change-required"


def test_staff_tokens_read_courses_but_do_not_learn(client, make, course):
    staff = make.staff("team_member")
    db.session.commit()
    token = issue_token(client, staff.login_name)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/courses", headers=headers).status_code == 200
    response = client.post(f"/api/v1/courses/{course.slug}/enrollment", headers=headers)
    assert response.status_code == 403
    assert response.get_json()["code"] == "learner-required"


def test_last_use_is_recorded_at_most_once_a_minute(api):
    api.get("/api/v1/courses")
    row = _token_row(api.token)
    first = row.last_used_dt
    assert first is not None
    api.get("/api/v1/courses")
    db.session.refresh(row)
    assert row.last_used_dt == first
    row.last_used_dt = first - timedelta(minutes=2)
    db.session.commit()
    api.get("/api/v1/courses")
    db.session.refresh(row)
    assert row.last_used_dt > first - timedelta(seconds=1) and row.last_used_dt <= utcnow()


@pytest.mark.parametrize("payload, field", [
    ({"login": "a", "password": "b"}, "name"),
    ({"login": "a", "password": "b", "name": "   "}, "name"),
    ({"login": "a", "password": "b", "name": "x" * 81}, "name"),
    ({"login": 5, "password": "b", "name": "App"}, "login"),
    ({"login": "a\x00", "password": "b", "name": "App"}, "login"),
    ({"login": "a", "password": "b", "name": "App", "remember": True}, "remember"),
])
def test_token_request_is_checked(client, payload, field):
    response = client.post("/api/v1/tokens", json=payload)
    assert response.status_code == 400
    problem = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert problem == {"type": "about:blank", "title": "Bad Request", "status": 400, "code": "invalid-request",
                       "field": field, "detail": problem["detail"]}
    assert problem["detail"].startswith(field)


@pytest.mark.parametrize("body", [b"{", b"", b"\xff\xfe", b'{"login": NaN}', b'"\\ud800"', b"[" * 100000])
def test_malformed_json_is_400_invalid_json(client, body):
    response = client.post("/api/v1/tokens", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid-json"
