"""Errors are RFC 9457 problem details with today's codes; a 405 says what is allowed."""

from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext

from lms.api import models
from tests.api.conftest import COURSE_SLUG


def _problem(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    models.Problem.model_validate(body)  # the shape the document publishes, and nothing else
    assert (body["type"], body["status"], body["code"]) == ("about:blank", status, code)
    return body


@pytest.mark.parametrize("method, path, allowed", [
    ("get", "/api/v1/tokens", {"POST"}),
    ("put", f"/api/v1/courses/{COURSE_SLUG}", {"GET", "HEAD"}),
    ("post", "/api/v1/me/progress", {"GET", "HEAD"}),
    ("get", "/api/v1/progress", {"POST"}),
])
def test_a_method_not_allowed_is_405_with_allow(api, course, method, path, allowed):
    response = getattr(api.client, method)(path, headers={"Authorization": f"Bearer {api.token}"})
    body = _problem(response, 405, "http-405")
    assert body["title"] == "Method Not Allowed"
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_website_405_pages_say_what_is_allowed_too(client):
    response = client.get("/statistics/units/1/target")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_refusal_has_title_detail_and_code(app, api, lang):
    response = api.get(f"/api/v1/courses/no-such-course?lang={lang}")
    body = _problem(response, 404, "course-not-found")
    with app.test_request_context(), force_locale(lang):
        assert body["detail"] == gettext("There is no such course.")
    assert body["title"] == "Not Found" and "field" not in body


def test_a_bad_field_is_named(api, course):
    response = api.post("/api/v1/progress", json={"events": [{"id": "evt-00001", "lesson_id": 1, "kind": "x"}]})
    body = _problem(response, 400, "invalid-request")
    assert body["field"] == "events[0].kind" and body["detail"].startswith("events[0].kind ")


def test_missing_token_is_a_problem_with_a_challenge(client):
    response = client.get("/api/v1/me/progress")
    _problem(response, 401, "token-missing")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_unknown_paths_and_certificates_are_problems(client):
    _problem(client.get("/api/v1/no-such-thing"), 404, "http-404")
    _problem(client.get("/api/v1/certificates/not-a-code"), 400, "code-mistyped")
