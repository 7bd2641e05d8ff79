"""Security headers for every response.

Written by hand rather than with Flask-Talisman: it is a handful of static headers,
and the site loads nothing from outside the server, so the policy is simply 'self'.
"""

from __future__ import annotations

from flask import request
from flask_login import current_user

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "img-src 'self' data:",
    "style-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def headers_for(app) -> list[tuple[str, str]]:
    """The headers every answer of this app carries (HSTS behind HTTPS only)."""
    kept = app.extensions.get("lms.security_headers")
    if kept is None:
        secure_headers = dict(HEADERS)
        if app.config.get("SESSION_COOKIE_SECURE"):
            secure_headers["Strict-Transport-Security"] = "max-age=31536000"
        kept = app.extensions["lms.security_headers"] = list(secure_headers.items())
    return kept


def init_app(app) -> None:
    secure_headers = dict(headers_for(app))

    @app.after_request
    def add_security_headers(response):
        # Header names are looked up once, not once per header: Werkzeug's setdefault
        # raises and catches an exception for every header that is missing.
        present = {name.lower() for name in response.headers.keys()}
        response.headers.extend([(name, value) for name, value in secure_headers.items()
                                 if name.lower() not in present])
        if "cache-control" not in present and must_not_be_kept(response):
            response.headers["Cache-Control"] = "no-store"
        return response


def must_not_be_kept(response) -> bool:
    """Pages with personal data must not stay in a shared phone's cache; nor may any API
    answer, errors included (tokens and scoped data)."""
    if response.mimetype == "text/html" and current_user and current_user.is_authenticated:
        return True
    return request.path.startswith("/api/")
