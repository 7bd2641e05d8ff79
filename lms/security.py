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


def init_app(app) -> None:
    @app.after_request
    def add_security_headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if response.mimetype == "text/html" and current_user and current_user.is_authenticated:
            # Pages with personal data must not stay in a shared phone's cache.
            response.headers.setdefault("Cache-Control", "no-store")
        elif request.path.startswith("/api/"):
            # Every API answer, including those outside the api blueprint (statistics,
            # certificates), like the blueprint's own: tokens and scoped data.
            response.headers.setdefault("Cache-Control", "no-store")
        return response
