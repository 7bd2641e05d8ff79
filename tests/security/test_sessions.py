"""Login throttling, session fixation, logout, password changes, and security headers.

Everything goes through the real login form (and the API's token request), the way a
browser or an attacker's script would.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from lms.accounts.models import LoginFailure
from lms.db import utcnow
from lms.extensions import db
from tests.conftest import Factory, csrf_token, post_form

THROTTLED = "Thử sai quá nhiều lần"
INVALID = "không đúng"


def _login(client, login: str, password: str, address: str = "10.0.0.1", **extra):
    return post_form(client, "/login", {"login": login, "password": password, **extra},
                     environ_base={"REMOTE_ADDR": address})


# --- Throttling ---------------------------------------------------------------------------

def test_account_locks_after_the_account_limit_from_many_addresses(client, make, app):
    make.learner(login="0912345678")
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for i in range(limit):
        response = _login(client, "0912345678", "wrong password", address=f"10.1.0.{i}")
        assert response.status_code == 422 and INVALID in response.get_data(as_text=True)
    response = _login(client, "0912345678", Factory.password, address="10.2.0.1")
    assert response.status_code == 422
    assert THROTTLED in response.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "_user_id" not in session


@pytest.mark.parametrize("variant", ["+84912345678", "84912345678", "0912 345 678", "0912.345.678", "091-234-5678"])
def test_throttle_counts_the_account_not_the_way_it_is_typed(client, make, app, variant):
    """Writing the same phone number another way must not buy five more guesses."""
    make.learner(login="0912345678")
    for i in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        _login(client, "0912345678" if i % 2 else variant, "wrong password", address=f"10.1.0.{i}")
    response = _login(client, variant, Factory.password, address="10.3.0.1")
    assert response.status_code == 422 and THROTTLED in response.get_data(as_text=True)


def test_username_throttle_ignores_case_and_spaces(client, make, app):
    make.learner(login="bac.hung")
    for typed in ["bac.hung", "BAC.HUNG", " Bac.Hung ", "bac.hung", "BAC.hung"]:
        _login(client, typed, "wrong password", address="10.4.0.1")
    response = _login(client, "bac.hung", Factory.password, address="10.4.0.1")
    assert THROTTLED in response.get_data(as_text=True)


def test_unknown_accounts_are_throttled_like_real_ones(client, app):
    """The answers do not tell whether an account exists."""
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_PAIR"]):
        assert INVALID in _login(client, "khong.ton.tai", "wrong password").get_data(as_text=True)
    assert THROTTLED in _login(client, "khong.ton.tai", "wrong password").get_data(as_text=True)


def test_address_limit_stops_guessing_across_accounts(client, make, app):
    make.learner(login="nguoi.that")
    for i in range(app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]):
        _login(client, f"doan.mo.{i}", "wrong password", address="10.5.0.1")
    assert THROTTLED in _login(client, "nguoi.that", Factory.password, address="10.5.0.1").get_data(as_text=True)
    # The same learner from another address is not locked out.
    assert _login(app.test_client(), "nguoi.that", Factory.password, address="10.5.0.2").status_code == 302


def test_form_and_api_share_the_throttle(client, make, app):
    make.learner(login="bac.hung")
    for i in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        api = app.test_client().post("/api/v1/tokens", json={"login": "bac.hung", "password": "wrong password",
                                                             "name": "guess"},
                                     environ_base={"REMOTE_ADDR": f"10.6.0.{i}"})
        assert api.status_code == 401
    assert THROTTLED in _login(client, "bac.hung", Factory.password).get_data(as_text=True)
    api = app.test_client().post("/api/v1/tokens", json={"login": "bac.hung", "password": Factory.password,
                                                         "name": "x"})
    assert api.status_code == 429 and api.headers["Retry-After"]


def test_lock_ends_after_the_window(client, make, app):
    make.learner(login="bac.hung")
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_PAIR"]):
        _login(client, "bac.hung", "wrong password")
    assert THROTTLED in _login(client, "bac.hung", Factory.password).get_data(as_text=True)
    window = timedelta(seconds=app.config["LOGIN_WINDOW_SECONDS"] + 1)
    db.session.execute(update(LoginFailure).values(failed_dt=utcnow() - window))
    db.session.commit()
    assert _login(client, "bac.hung", Factory.password).status_code == 302


def test_throttled_message_is_translated(client, make, app):
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_PAIR"] + 1):
        response = post_form(client, "/login", {"login": "ai.do", "password": "wrong password"},
                             headers={"Accept-Language": "en"})
    assert "Too many failed attempts" in response.get_data(as_text=True)


# --- Sessions -----------------------------------------------------------------------------

def _cookie(client, name: str = "session") -> str | None:
    cookie = client.get_cookie(name)
    return cookie.value if cookie else None


def _with_cookie(app, value: str, name: str = "session"):
    other = app.test_client()
    other.set_cookie(name, value)
    return other


def _logged_in(client) -> bool:
    response = client.get("/account")
    return response.status_code == 200


def test_login_issues_a_new_session_cookie(client, make, app):
    make.learner(login="bac.hung")
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    before = _cookie(client)
    assert before
    assert _login(client, "bac.hung", Factory.password).status_code == 302
    after = _cookie(client)
    assert after and after != before
    with client.session_transaction() as session:
        assert "planted" not in session and session.get("_user_id")
    # The cookie an attacker planted (or saw) before the login does not get them in.
    assert not _logged_in(_with_cookie(app, before))
    assert _logged_in(_with_cookie(app, after))


def test_logout_ends_the_session_for_a_replayed_cookie(client, make, app):
    make.learner(login="bac.hung")
    _login(client, "bac.hung", Factory.password)
    stolen = _cookie(client)
    assert _logged_in(_with_cookie(app, stolen))
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert not _logged_in(client)
    assert not _logged_in(_with_cookie(app, stolen)), "a cookie copied before logout still works"


def test_logout_ends_the_remember_me_cookie(client, make, app):
    make.learner(login="bac.hung")
    _login(client, "bac.hung", Factory.password, remember="y")
    remembered = _cookie(client, "remember_token")
    assert remembered
    assert _logged_in(_with_cookie(app, remembered, "remember_token"))
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert not _logged_in(_with_cookie(app, remembered, "remember_token"))


def test_password_change_ends_other_sessions_and_api_tokens(client, make, app):
    make.learner(login="bac.hung")
    other = app.test_client()
    _login(client, "bac.hung", Factory.password)
    _login(other, "bac.hung", Factory.password)
    old_cookie = _cookie(client)
    token = app.test_client().post("/api/v1/tokens", json={"login": "bac.hung", "password": Factory.password,
                                                           "name": "phone"}).get_json()["token"]
    response = post_form(client, "/account", {"current_password": Factory.password, "new_password": "a new pass 77"})
    assert response.status_code == 302
    assert _logged_in(client), "the session that changed the password continues"
    assert not _logged_in(other)
    assert not _logged_in(_with_cookie(app, old_cookie))
    api = app.test_client().get("/api/v1/me/progress", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401


def test_new_login_card_ends_the_learners_sessions(client, make, app):
    member = make.staff("team_member")
    learner = make.learner(login="bac.hung")
    own = app.test_client()
    _login(own, "bac.hung", Factory.password)
    assert _logged_in(own)
    _login(client, member.login_name, Factory.password)
    response = post_form(client, f"/team/learners/{learner.learner.id}/card", {"confirm": "y"},
                         page=f"/team/learners/{learner.learner.id}")
    assert response.status_code == 200
    assert not _logged_in(own)


def test_session_cookie_flags(client, make, app):
    make.learner(login="bac.hung")
    response = _login(client, "bac.hung", Factory.password, remember="y")
    cookies = response.headers.getlist("Set-Cookie")
    for name in ("session=", "remember_token="):
        (line,) = [c for c in cookies if c.startswith(name)]
        assert "HttpOnly" in line and "SameSite=Lax" in line, line
    from lms.config import Config

    assert Config.REMEMBER_COOKIE_SECURE == Config.SESSION_COOKIE_SECURE


# --- Security headers ---------------------------------------------------------------------

def _assert_headers(response, where: str, *, personal: bool) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, where
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin-when-cross-origin"), where
    if personal:
        assert "no-store" in headers.get("Cache-Control", ""), f"{where} may be cached"


@pytest.fixture
def personal(make, app, client):
    """A learner with a certificate, logged in; a team member and their client."""
    from lms.certs.queries import certificates_of
    from tests.certs.conftest import build_course, complete_course

    course = build_course(db.session, lessons=1, questions=1)
    user = make.learner(login="bac.hung")
    complete_course(user.learner, course)
    (certificate,) = certificates_of(user.learner)
    member = make.staff("team_member")
    db.session.commit()
    _login(client, "bac.hung", Factory.password)
    team = app.test_client()
    _login(team, member.login_name, Factory.password)
    return user, certificate, team


def test_headers_on_every_kind_of_response(app, client, personal):
    user, certificate, team = personal
    anonymous = app.test_client()
    token = anonymous.post("/api/v1/tokens", json={"login": "bac.hung", "password": Factory.password,
                                                   "name": "phone"}).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    cases = [  # (client, url, kwargs, mimetype, personal)
        (anonymous, "/", {}, "text/html", False),
        (anonymous, "/no-such-page", {}, "text/html", False),
        (anonymous, "/healthz", {}, "application/json", False),
        (anonymous, "/open-data/statistics.json", {}, "application/json", False),
        (anonymous, "/static/css/site.css", {}, "text/css", False),
        (anonymous, "/team/static/cards.css", {}, "text/css", False),
        (anonymous, f"/verify/{certificate.verification_code}", {}, "text/html", False),
        (anonymous, "/api/v1/openapi.json", {}, "application/json", False),
        (anonymous, "/api/v1/courses", {}, "application/problem+json", True),  # a 401 answer
        (anonymous, "/api/v1/me/progress", {"headers": bearer}, "application/json", True),
        (client, "/", {}, "text/html", True),
        (client, "/my-data", {}, "text/html", True),
        (client, "/my-data.json", {}, "application/json", True),
        (client, f"/certificates/{certificate.serial}.pdf", {}, "application/pdf", True),
        (client, "/team/learners", {}, "text/html", True),  # a 403 page, still personal
        (team, "/team/learners", {}, "text/html", True),
        (team, f"/team/learners/{user.learner.id}", {}, "text/html", True),
        (team, "/team/learners/export.csv", {}, "text/csv", True),
        (team, "/team/learners/export.xlsx", {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         True),
        (team, f"/certificates/print.pdf?status=all&upto={certificate.id}", {}, "application/pdf", True),
        (team, f"/statistics/units/{user.learner.commune_id}/report.pdf", {}, "application/pdf", False),
        (team, f"/statistics/units/{user.learner.commune_id}/months.csv", {}, "text/csv", False),
        # The website's cookie is no API credential: a 401 problem, kept out of caches all the same.
        (team, f"/api/v1/statistics/units/{user.learner.commune_id}", {}, "application/problem+json", True),
    ]
    for who, url, kwargs, mimetype, is_personal in cases:
        response = who.get(url, buffered=True, **kwargs)
        assert response.status_code < 500, url
        assert response.mimetype == mimetype, f"{url}: {response.mimetype}"
        _assert_headers(response, url, personal=is_personal)
    csrf_refused = anonymous.post("/login", data={})
    assert csrf_refused.status_code == 400
    _assert_headers(csrf_refused, "CSRF refusal", personal=False)


def test_strict_transport_security_when_cookies_are_secure(app):
    from lms import create_app
    from lms.config import TestConfig

    secure = create_app(TestConfig, SESSION_COOKIE_SECURE=True,
                        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        response = secure.test_client().get("/privacy")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        assert "Strict-Transport-Security" not in app.test_client().get("/privacy").headers
    finally:
        with secure.app_context():
            db.engine.dispose()
