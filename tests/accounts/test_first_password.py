"""Issue 15.4: a login card's PIN is not a password.

After logging in with the PIN of a login card the only way on is choosing a password:
every route of the application (read from `app.url_map`, so a new route is covered the
day it is added) redirects there or, for JSON, answers 403, except choosing it, logging
out, language, text size and static files.
"""

from __future__ import annotations

import re

import pytest
from flask import url_for

from lms.extensions import db
from tests.conftest import csrf_token, post_form

CHOOSE = "/account/choose-password"
ALLOWED = {"accounts.choose_password", "accounts.logout", "core.choose_language", "core.toggle_text_size",
           "static", "team.static"}
NEW_PASSWORD = "my own pass 2026"


@pytest.fixture
def carded(make, client):
    """A learner whose team just issued a new login card; (user, username, PIN)."""
    from lms.team.operations import issue_login_card

    user = make.learner(full_name="Lò Thị Hoa")
    member = make.staff("team_member")
    card = issue_login_card(user.learner, by=member)
    db.session.commit()
    return user, card.username, card.pin


def _pin_session(client, carded, **extra):
    _user, username, pin = carded
    response = post_form(client, "/login", {"login": username, "password": pin, **extra})
    assert response.status_code == 302 and response.headers["Location"].endswith(CHOOSE)
    return response


def _url(app, rule) -> str:
    """A URL for `rule` with placeholder arguments: the refusal comes before the view."""
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        values[name] = 1 if converter.__class__.__name__ in ("IdConverter", "IntegerConverter") else "x"
    if rule.endpoint.endswith("static"):
        values["filename"] = "css/site.css"
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def test_every_route_but_choosing_the_password_is_closed(app, client, carded):
    _pin_session(client, carded)
    token = csrf_token(client, CHOOSE)
    checked, problems = 0, []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ALLOWED:
            continue
        url = _url(app, rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": token} if method != "GET" else None
            page = client.open(url, method=method, data=data, headers={"Accept": "text/html"})
            as_json = client.open(url, method=method, data=data, headers={"Accept": "application/json"})
            checked += 1
            if rule.rule.startswith("/api/"):
                page_ok = page.status_code == 403  # the API answers JSON whatever is asked
            else:
                page_ok = page.status_code == 302 and page.headers["Location"].endswith(CHOOSE)
            json_ok = (as_json.status_code == 403
                       and as_json.get_json()["code"] == "password-change-required")
            if not (page_ok and json_ok):
                problems.append(f"{method} {url}: {page.status_code} {page.headers.get('Location')}, "
                                f"JSON {as_json.status_code}")
    assert checked > 60 and not problems, "\n".join(problems)
    user = carded[0]
    db.session.refresh(user)
    assert user.must_change_password  # nothing on the way changed the account


def test_the_allowed_routes_are_the_listed_ones(app):
    from lms.accounts.session import may_use_while_pending

    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert {e for e in endpoints if may_use_while_pending(e)} == ALLOWED


def test_pin_session_can_switch_language_and_log_out(client, carded):
    _pin_session(client, carded)
    response = post_form(client, "/language", {"language": "en", "next": CHOOSE}, page=CHOOSE)
    assert response.status_code == 302 and response.headers["Location"].endswith(CHOOSE)
    assert "Choose your password" in client.get(CHOOSE).get_data(as_text=True)
    assert client.get("/static/css/site.css", buffered=True).status_code == 200
    assert post_form(client, "/logout", {}, page=CHOOSE).status_code == 302
    assert client.get(CHOOSE).status_code == 302  # logged out: to the login page
    assert "/login" in client.get(CHOOSE).headers["Location"]


def test_choosing_the_password_opens_the_site(client, carded):
    user, username, pin = carded
    _pin_session(client, carded)
    assert client.get("/my-data").headers["Location"].endswith(CHOOSE)
    response = post_form(client, CHOOSE, {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    db.session.refresh(user)
    assert not user.must_change_password and user.password_hash.startswith("scrypt:1024:")  # full cost in production
    assert client.get("/my-data").status_code == 200
    assert client.get(CHOOSE).headers["Location"].endswith("/account")  # nothing left to choose
    fresh = client.application.test_client()
    assert post_form(fresh, "/login", {"login": username, "password": pin}).status_code == 422  # the PIN is gone
    assert post_form(fresh, "/login", {"login": username, "password": NEW_PASSWORD}).status_code == 302


@pytest.mark.parametrize(("data", "message"), [
    ({"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD + "x"}, "không giống nhau"),
    ({"new_password": "12345678", "confirm_password": "12345678"}, "quá dễ đoán"),
    ({"new_password": "", "confirm_password": ""}, "Vui lòng điền mục này"),
])
def test_a_bad_choice_is_explained_and_changes_nothing(client, carded, data, message):
    user = carded[0]
    _pin_session(client, carded)
    response = post_form(client, CHOOSE, data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.must_change_password
    assert client.get("/my-data").headers["Location"].endswith(CHOOSE)


def test_a_pin_login_is_never_remembered(client, carded):
    response = _pin_session(client, carded, remember="y")
    assert not any(re.match(r"remember_token=", h) for h in response.headers.getlist("Set-Cookie"))


def test_the_lesson_page_read_again_is_closed_too(client, carded, make):
    """The page served without loading the account (the cookie's name) is behind the gate as well."""
    from lms.learning.queries import course_by_slug

    _pin_session(client, carded)
    course = course_by_slug("scam-safety")
    response = client.get(f"/courses/{course.slug}/lessons/{course.lessons[0].slug}")
    assert response.status_code == 302 and response.headers["Location"].endswith(CHOOSE)
    assert "Lò Thị Hoa" not in response.get_data(as_text=True)
