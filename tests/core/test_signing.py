"""Signed cookies and CSRF tokens reused across requests (lms/signing.py) stay correct."""

from __future__ import annotations

import time

import pytest
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

from lms import signing
from lms.i18n import select_locale
from tests.conftest import CSRF_RE


@pytest.fixture(autouse=True)
def fresh_tokens():
    signing.csrf_tokens.clear()
    yield
    signing.csrf_tokens.clear()


def _token(client, url="/login") -> str:
    return CSRF_RE.search(client.get(url).get_data(as_text=True)).group(1)


def _raw_secret(client) -> str:
    with client.session_transaction() as session:
        return session["csrf_token"]


class _SignedLongAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 1000


def _old_token(app, raw: str) -> str:
    """A CSRF token for `raw` signed 1,000 s ago: different from any signed now."""
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token", signer=_SignedLongAgo).dumps(raw)


def test_a_page_reuses_the_token_kept_for_its_session_and_it_is_accepted(app, client, db_session, make):
    _token(client)  # the session gets its secret value; the signed token is kept
    raw = _raw_secret(client)
    kept = _old_token(app, raw)
    signing.csrf_tokens.keep(raw, kept)
    assert _token(client) == kept
    user = make.learner()
    response = client.post("/login", data={"csrf_token": kept, "login": user.login_name,
                                           "password": make.password})
    assert response.status_code == 302  # a reused token is a valid token


def test_a_kept_token_is_not_reused_after_the_reuse_window(app, client, monkeypatch):
    _token(client)
    raw = _raw_secret(client)
    kept = _old_token(app, raw)
    signing.csrf_tokens.keep(raw, kept)
    monkeypatch.setitem(app.config, "LMS_CSRF_REUSE_SECONDS", 0)
    fresh = _token(client)
    assert fresh != kept
    URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").loads(fresh, max_age=5)  # signed just now


def test_another_session_never_gets_a_kept_token(app, client):
    first = _token(client)
    other = app.test_client()
    second = _token(other)
    assert _raw_secret(other) != _raw_secret(client)
    assert second != first


def test_the_token_cache_is_bounded_oldest_first():
    tokens = signing.SignedCsrfTokens(limit=3)
    for n in range(5):
        tokens.keep(f"raw{n}", f"token{n}")
    assert [tokens.get(f"raw{n}", 60) for n in range(5)] == [None, None, "token2", "token3", "token4"]


def test_a_post_without_a_token_is_still_refused(client):
    _token(client)
    response = client.post("/login", data={"login": "x", "password": "y"})
    assert response.status_code == 400


def test_the_session_serializer_is_built_once_per_secret_key(app):
    interface = app.session_interface
    first = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is first
    cookie = first.dumps({"a": 1})
    old_key = app.secret_key
    try:
        app.secret_key = "a new secret key for this test only"
        app.config["SECRET_KEY_FALLBACKS"] = [old_key]
        rotated = interface.get_signing_serializer(app)
        assert rotated is not first
        assert rotated.loads(cookie) == {"a": 1}  # still readable through the fallback key
        app.config["SECRET_KEY_FALLBACKS"] = []
        with pytest.raises(BadSignature):
            interface.get_signing_serializer(app).loads(cookie)
    finally:
        app.secret_key = old_key
        app.config["SECRET_KEY_FALLBACKS"] = []
    assert interface.get_signing_serializer(app).loads(cookie) == {"a": 1}


def test_a_signer_that_keeps_its_key_signs_like_itsdangerous():
    for derivation in ("hmac", "concat", "django-concat"):
        plain = TimestampSigner("key", salt="salt", key_derivation=derivation)
        keeping = signing.KeyKeepingSigner("key", salt="salt", key_derivation=derivation)
        assert keeping.derive_key() == plain.derive_key()
        assert keeping.get_signature(b"value") == plain.get_signature(b"value")
        assert keeping.derive_key() != signing.KeyKeepingSigner("other", salt="salt",
                                                                key_derivation=derivation).derive_key()


def test_the_locale_object_is_parsed_once(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        first = select_locale()
        assert (first.language, select_locale()) == ("en", first)
        assert select_locale() is first
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        assert select_locale().language == "vi"


def test_headers_set_by_a_view_are_kept_and_the_others_added_once(app):
    from lms import create_app
    from lms.config import TestConfig

    other = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])

    @other.get("/api/own-headers")
    def own_headers():
        return "ok", {"Cache-Control": "max-age=5", "X-Frame-Options": "SAMEORIGIN"}

    @other.get("/api/plain")
    def plain():
        return "ok"

    client = other.test_client()
    own = client.get("/api/own-headers").headers
    assert (own.getlist("Cache-Control"), own.getlist("X-Frame-Options")) == (["max-age=5"], ["SAMEORIGIN"])
    assert own.getlist("X-Content-Type-Options") == ["nosniff"]
    plain_headers = client.get("/api/plain").headers
    assert plain_headers.getlist("Cache-Control") == ["no-store"]
    assert plain_headers.getlist("X-Frame-Options") == ["DENY"]
