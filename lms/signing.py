"""Signed cookies and CSRF tokens with less work per request.

On every request Flask builds a new cookie serializer and itsdangerous derives the
signing key again (one more HMAC), and Flask-WTF signs a fresh CSRF token for every page
with a form. None of that changes between requests: the keys are fixed for the process,
and a CSRF token signed a few minutes ago for the same session is as good as a new one
(it is checked against the session's secret value and stays valid for
WTF_CSRF_TIME_LIMIT). Flask-WTF's check also ran its exemption lookup on every GET;
`_check_csrf` runs the same check for writes only. Together this was about a fifth of the cost of a lesson page read
again (bench/bench_learning.py, docs/performance.md).
"""

from __future__ import annotations

import functools
import time

from flask import Flask, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import want_bytes

from lms import cache
from lms.extensions import csrf

CSRF_FIELD = "csrf_token"  # Flask-WTF's default WTF_CSRF_FIELD_NAME and its key in the session and in g
CSRF_KEPT_TOKENS = 20_000  # per worker process, about 4 MB


@functools.lru_cache(maxsize=32)
def _derived_key(secret_key: bytes, salt: bytes, key_derivation: str, digest_method) -> bytes:
    return TimestampSigner(secret_key, salt=salt, key_derivation=key_derivation,
                           digest_method=digest_method).derive_key()


class KeyKeepingSigner(TimestampSigner):
    """itsdangerous' timestamp signer, deriving each key once per process, not per call."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        key = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        return _derived_key(key, self.salt, self.key_derivation, self.digest_method)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with one serializer per secret key, not per request."""

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)  # current key last
        kept = app.extensions.get("lms.session_serializer")
        if kept is None or kept[0] != keys:
            serializer = URLSafeTimedSerializer(
                list(keys), salt=self.salt, serializer=self.serializer, signer=KeyKeepingSigner,
                signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method})
            kept = app.extensions["lms.session_serializer"] = (keys, serializer)
        return kept[1]


class SignedCsrfTokens:
    """CSRF tokens already signed in this process, by the session's secret value.

    A token is reused for `reuse_seconds` (LMS_CSRF_REUSE_SECONDS, default 10 minutes),
    so it always has most of WTF_CSRF_TIME_LIMIT left. Kept in the named cache
    "csrf_tokens" (lms.cache), bounded, least recently used first out. A token depends
    only on the session's own secret, never on data another process may change.
    """

    def __init__(self, limit: int = CSRF_KEPT_TOKENS):
        self.store = self._tokens = cache.NamedCache("csrf_tokens", maxsize=limit, ttl=None, why=(
            "CSRF tokens signed for a session's secret value; reused within LMS_CSRF_REUSE_SECONDS"))

    def get(self, raw: str, reuse_seconds: float) -> str | None:
        kept = self._tokens.get(raw)
        if kept is None or time.monotonic() - kept[1] >= reuse_seconds:
            return None
        return kept[0]

    def keep(self, raw: str, token: str) -> None:
        self._tokens.set(raw, (token, time.monotonic()))

    def clear(self) -> None:
        self._tokens.clear()


csrf_tokens = SignedCsrfTokens()
cache.register(csrf_tokens.store)


def _check_csrf() -> None:
    """Flask-WTF's CSRF check, run for writes only.

    Its own hook (turned off by WTF_CSRF_CHECK_DEFAULT = False) looks up the view's
    exemption before it looks at the method, on every GET too.
    """
    if current_app.config["WTF_CSRF_ENABLED"] and request.method in current_app.config["WTF_CSRF_METHODS"]:
        csrf.protect(apply_exemptions=True)


def _reuse_csrf_token() -> None:
    """Before a page: put a kept token where Flask-WTF looks first (g.csrf_token)."""
    if request.method != "GET" or current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return
    raw = session.get(CSRF_FIELD)
    token = csrf_tokens.get(raw, current_app.config["LMS_CSRF_REUSE_SECONDS"]) if isinstance(raw, str) else None
    if token is not None:
        setattr(g, CSRF_FIELD, token)
        g.csrf_token_reused = True


def _keep_csrf_token(response):
    """After a page that signed a new token: keep it for the next pages of this session."""
    token = g.get(CSRF_FIELD)
    if token is not None and not g.get("csrf_token_reused"):
        raw = session.get(CSRF_FIELD)
        if isinstance(raw, str):
            csrf_tokens.keep(raw, token)
    return response


def init_app(app: Flask) -> None:
    """After Flask-WTF's CSRFProtect.init_app, whose settings this relies on."""
    app.config.setdefault("LMS_CSRF_REUSE_SECONDS", 600)
    limit = app.config.get("WTF_CSRF_TIME_LIMIT", 3600)
    if limit is not None and app.config["LMS_CSRF_REUSE_SECONDS"] * 2 > limit:
        raise RuntimeError("LMS_CSRF_REUSE_SECONDS must be at most half of WTF_CSRF_TIME_LIMIT")
    app.session_interface = SessionInterface()
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # _check_csrf does it
    app.before_request_funcs.setdefault(None, []).insert(0, _check_csrf)
    app.before_request(_reuse_csrf_token)
    app.after_request(_keep_csrf_token)
