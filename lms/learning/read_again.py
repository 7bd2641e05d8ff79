"""A lesson page read again, answered before Flask's request machinery (WSGI middleware).

The page a learner reads most is a lesson they have opened before: public content, the
name and role in the menu (from the signed session cookie) and a CSRF token. The view
already answers it without loading the account (`views._lesson_read_again`); what is left
is Flask's own work around it (request and session objects, routing, eight request hooks,
a response object), about half of the page's time. This middleware answers the same page
before all that, from the same parts: the session serializer of `lms.signing`, the
session check of `lms.accounts.session` (one primary-key read, so a cookie kept after
logging out, a new password or login card, or erasure shows nobody's name), the page
cache, the security headers of `lms.security`, gzip as `lms.core.delivery` does it, and the
request log line of `lms.core.request_log`.

It answers only when everything the view would look at is known to be as on the usual
path for a page read again, and otherwise passes the request on untouched: a GET without
a query string, a valid session cookie of a logged-in account whose session is current,
this lesson among those the session has seen, no helper, no flashed message, no PIN still
to replace, no "remember me" change, a kept CSRF token and a kept page shell. Nothing is
written, so the cookie is not sent back. `tests/learning/test_read_again.py` compares its
answers with Flask's byte for byte and fails when a request hook is added that it does not
know about.
"""

from __future__ import annotations

import contextlib
import gzip
import re
import time

from flask import current_app, has_app_context
from itsdangerous import BadData
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header, parse_cookie

from lms import security
from lms.accounts.session import IDENTITY_KEY, PASSWORD_PENDING_KEY, session_is_current
from lms.core import delivery, page_cache, request_log
from lms.learning import content_cache
from lms.learning.acting import ASSIST_KEY
from lms.signing import CSRF_FIELD, csrf_tokens

LESSON_PATH = re.compile(r"/courses/([a-z0-9-]{1,80})/lessons/([a-z0-9-]{1,80})")
ENDPOINT = "learning.lesson"
SEEN_KEY = "lessons_seen"  # the lessons whose first visit this session recorded (the view keeps it)
# Session keys that make the view (or a hook) do something else than serve the kept page.
PASS_ON_KEYS = (ASSIST_KEY, PASSWORD_PENDING_KEY, "_flashes", "_remember")


class ReadAgainLessons:
    """WSGI middleware in front of `app.wsgi_app`; `answered` counts the pages it served."""

    def __init__(self, app):
        self.app = app
        self.next_app = app.wsgi_app
        self.enabled = app.config.get("LESSON_READ_AGAIN_FAST_PATH", True)
        self.answered = 0

    def __call__(self, environ, start_response):
        if self.enabled and environ.get("REQUEST_METHOD") == "GET" and not environ.get("QUERY_STRING"):
            match = LESSON_PATH.fullmatch(environ.get("PATH_INFO", ""))
            if match is not None:
                answer = self.answer(environ, *match.groups())
                if answer is not None:
                    self.answered += 1
                    body, headers = answer
                    start_response("200 OK", headers)
                    return [body]
        return self.next_app(environ, start_response)

    def answer(self, environ, course_slug: str, lesson_slug: str) -> tuple[bytes, list] | None:
        """The page and its headers, or None: Flask serves the request as usual."""
        started = time.perf_counter()
        cookie = environ.get("HTTP_COOKIE")
        if not cookie:
            return None
        with self._app_context():  # the session's JSON, the database, the content cache
            return self._answer(environ, cookie, course_slug, lesson_slug, started)

    def _answer(self, environ, cookie: str, course_slug: str, lesson_slug: str, started: float):
        data = self._session(cookie)
        if data is None:
            return None
        who, user_id, csrf_raw = data.get(IDENTITY_KEY), data.get("_user_id"), data.get(CSRF_FIELD)
        if (not isinstance(who, list) or len(who) != 3 or not isinstance(user_id, str) or not isinstance(csrf_raw, str)
                or any(key in data for key in PASS_ON_KEYS)):
            return None
        config = self.app.config
        token = csrf_tokens.get(csrf_raw, config["LMS_CSRF_REUSE_SECONDS"])
        if token is None:
            return None
        seen = data.get(SEEN_KEY)
        found = content_cache.lesson(course_slug, lesson_slug)
        if found is None or not isinstance(seen, list) or found[1].id not in seen:
            return None
        lesson = found[1]
        locale = choose_locale(config, data.get("locale"), environ.get("HTTP_ACCEPT_LANGUAGE"))
        key = lesson_key(lesson, locale, who[0], bool(data.get("large_text")))
        path = environ["PATH_INFO"]
        page = page_cache.cached(key, {"csrf_token()": token, "next_path": path + "?", "user_name": who[1]})
        if page is None or not session_is_current(user_id):
            return None
        body, headers = self._response(page.encode(), environ)
        if config.get("LOG_REQUESTS", True):
            request_id = request_log.start_request(environ.get("HTTP_X_REQUEST_ID", ""), started)
            headers.append((request_log.REQUEST_ID_HEADER, request_id))
            request_log.log_line("GET", path, ENDPOINT, 200)
        return body, headers

    def _app_context(self):
        """This app's context, pushed unless it is already (a test's), as Flask does."""
        if has_app_context() and current_app._get_current_object() is self.app:
            return contextlib.nullcontext()
        return self.app.app_context()

    def _session(self, cookie: str) -> dict | None:
        """The session cookie's content, as Flask's session interface opens it, or None."""
        value = parse_cookie(cookie).get(self.app.config["SESSION_COOKIE_NAME"])
        serializer = self.app.session_interface.get_signing_serializer(self.app)
        if not value or serializer is None:
            return None
        try:
            data = serializer.loads(value, max_age=int(self.app.permanent_session_lifetime.total_seconds()))
        except BadData:  # a bad signature, an expired cookie, a payload that does not decode
            return None
        return data if isinstance(data, dict) else None

    def _response(self, body: bytes, environ) -> tuple[bytes, list]:
        """The headers Flask's hooks give this page (Vary: session read, body compressible)."""
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store"),
                   ("Vary", "Accept-Encoding, Cookie"), *security.headers_for(self.app)]
        if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "").lower() and len(body) >= delivery.MIN_COMPRESS_BYTES:
            body = gzip.compress(body, compresslevel=delivery.GZIP_LEVEL, mtime=0)
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        return body, headers


def lesson_key(lesson, locale: str, role: str | None, large_text: bool) -> tuple:
    """The page cache's key of a lesson page (the view's and this module's)."""
    return ("lesson", lesson.id, lesson.content_hash, locale, role, large_text)


def choose_locale(config, chosen: str | None, accept_language: str | None) -> str:
    """`lms.i18n.locale_for` for an account whose choice is kept in the session."""
    languages = config["LANGUAGES"]
    if chosen in languages:
        return chosen
    accepted = parse_accept_header(accept_language, LanguageAccept)
    return accepted.best_match(languages) or config["BABEL_DEFAULT_LOCALE"]


def init_app(app) -> None:
    app.wsgi_app = ReadAgainLessons(app)
    app.extensions["lms.read_again"] = app.wsgi_app
