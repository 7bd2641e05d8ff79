"""CSRF: every state-changing route outside /api refuses a request without a valid token.

The routes come from `app.url_map`. Each is called by a persona allowed to use it, with
the form that succeeds in the route matrix, but without the token, with a token of
another session, and with a forged one: the answer is 400 with the message in the
user's language, and no row of any table changed. The same form *with* the token
succeeds, so the refusal is the token's doing.

The API (/api/v1) is exempt from CSRF because it authenticates by bearer token only:
its state-changing routes are checked to refuse a logged-in browser session that sends
no token.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from lms.extensions import db
from tests.security.conftest import page_token, persona_client
from tests.security.routes import (
    EXPECTED,
    RULES,
    payload_for,
    prepare,
    rolled_back,
    send,
    targets,
    url_values,
)

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
FORM_RULES = [(endpoint, rule, method) for endpoint, rule, methods in RULES if not rule.startswith("/api/")
              for method in methods if method in WRITES]
API_RULES = [(endpoint, rule, method) for endpoint, rule, methods in RULES if rule.startswith("/api/")
             for method in methods if method in WRITES]
MESSAGES = {"vi": "Biểu mẫu đã hết hạn", "en": "The form expired or was sent twice"}


def test_csrf_is_on_in_the_test_configuration(app):
    """The tests run with the production setting: no configuration turns CSRF off, and the
    check runs first for every request (lms.signing runs Flask-WTF's check for writes)."""
    from lms import signing

    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    assert app.before_request_funcs[None][0] is signing._check_csrf
    assert set(app.config["WTF_CSRF_METHODS"]) == WRITES
    assert FORM_RULES and API_RULES


def snapshot() -> dict[str, list]:
    """Every row of every table (sorted), to prove that nothing changed."""
    tables = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table)).all()
        tables[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return tables


def _actor(expect, endpoint):
    """A persona that may use the route, and an object inside its scope."""
    order = ("learner", "team_member", "commune_official", "province_official", "national_admin",
             "village_member", "anonymous")
    persona = next(p for p in order if p in expect.who)
    target = next((t for t, in_scope in targets(expect, persona) if in_scope), None)
    return persona, target


def _request(app, world, client, persona, target, endpoint, rule, method, *, token=None, language="vi"):
    expect = EXPECTED[endpoint]
    values = url_values(world, endpoint, rule, expect, target, persona)
    payload = payload_for(world, endpoint, persona, target)
    return send(client, app, world, persona, endpoint, rule, method, values, payload, expect,
                token=(lambda _client: token) if token is not None else None, language=language)


@pytest.mark.parametrize(("endpoint", "rule", "method"), FORM_RULES, ids=[f"{m} {r}" for _e, r, m in FORM_RULES])
def test_form_without_valid_token_is_refused(app, world, endpoint, rule, method):
    persona, target = _actor(EXPECTED[endpoint], endpoint)
    stolen = page_token(app.test_client())  # a real token, but of another browser's session
    forged = stolen[:-4] + ("AAAA" if not stolen.endswith("AAAA") else "BBBB")
    for token, language in (("", "vi"), (stolen, "en"), (forged, "vi")):
        with rolled_back():
            prepare(world, endpoint)
            client = persona_client(app, world, persona)
            db.session.expire_all()
            before = snapshot()
            url, response = _request(app, world, client, persona, target, endpoint, rule, method,
                                     token=token, language=language)
            where = f"{persona} {method} {url} with token {token[:8]!r}"
            assert response.status_code == 400, where
            page = response.get_data(as_text=True)
            # In the language asked for, unless the account has chosen its own.
            shown = re.search(r'<html lang="(\w+)"', page).group(1)
            chosen = world.users[persona].locale if persona != "anonymous" else None
            assert shown == (chosen or language), where
            assert MESSAGES[shown] in page, where
            db.session.expire_all()
            after = snapshot()
            assert after == before, f"{where} changed {[t for t in before if before[t] != after[t]]}"
    with rolled_back():  # and the same request with the page's token goes through
        prepare(world, endpoint)
        client = persona_client(app, world, persona)
        url, response = _request(app, world, client, persona, target, endpoint, rule, method)
        assert 200 <= response.status_code < 400, f"{persona} {method} {url} → {response.status_code}"


@pytest.mark.parametrize("language", ["vi", "en"])
def test_refusal_is_in_the_visitors_language(app, language):
    response = app.test_client().post("/login", data={"login": "x", "password": "y"},
                                      headers={"Accept-Language": language})
    assert response.status_code == 400
    assert MESSAGES[language] in response.get_data(as_text=True)


def test_login_is_not_recorded_without_a_token(app, world):
    """A login form posted from another site counts no failure and starts no session."""
    client = app.test_client()
    before = db.session.scalar(text("SELECT count(*) FROM login_failures"))
    response = client.post("/login", data={"login": "sec.member", "password": "wrong password"})
    assert response.status_code == 400
    assert db.session.scalar(text("SELECT count(*) FROM login_failures")) == before
    with client.session_transaction() as session:
        assert "_user_id" not in session


@pytest.mark.parametrize(("endpoint", "rule", "method"), API_RULES, ids=[f"{m} {r}" for _e, r, m in API_RULES])
def test_api_writes_ignore_the_browser_session(app, world, endpoint, rule, method):
    """Exempt from CSRF because a session cookie alone never authenticates an API write."""
    from flask import current_app

    expect = EXPECTED[endpoint]
    view = current_app.view_functions[endpoint]
    if getattr(view, "is_public", False):
        # Only the token request: it carries its own credentials in the body.
        assert endpoint == "api.create_token"
        client = persona_client(app, world, "learner")
        response = client.post("/api/v1/tokens", json={"login": "sec.member", "password": "wrong", "name": "x"})
        assert response.status_code == 401
        return
    persona = "learner" if "learner" in expect.who else "team_member"
    client = persona_client(app, world, persona)  # logged in on the website, no bearer token
    with rolled_back():
        before = snapshot()
        values = url_values(world, endpoint, rule, expect, None, persona)
        payload = payload_for(world, endpoint, persona, None)
        url, response = send(client, app, world, persona, endpoint, rule, method, values, payload, expect,
                             bearer=False)
        assert response.status_code == 401, f"{method} {url} → {response.status_code}"
        assert response.get_json()["code"] == "token-missing"
        db.session.expire_all()
        assert snapshot() == before
