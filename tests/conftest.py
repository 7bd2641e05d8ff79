"""Test fixtures: one migrated database per run, one rolled-back transaction per test.

The database is a temporary SQLite file, or PostgreSQL when TEST_DATABASE_URL is set
(`.ci/run` does that). It is built with the real migrations and the real official list
of units, then every test runs inside a transaction that is rolled back, so tests
cannot see each other's rows.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import tempfile
from pathlib import Path

import pytest
from flask.globals import _cv_app, _cv_request
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import text

from lms import create_app
from lms.config import TestConfig
from lms.extensions import db


def _database_url(tmp_dir: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_dir / 'test.sqlite3'}"


def _reset_database(app) -> None:
    """Drop everything (PostgreSQL keeps data between runs), then migrate."""
    from flask_migrate import upgrade

    with app.app_context():
        expected = os.environ.get("LMS_TEST_ENGINE")  # .ci/run: the PostgreSQL leg must run on PostgreSQL
        if expected and db.engine.dialect.name != expected:
            pytest.exit(f"LMS_TEST_ENGINE={expected} but the tests would run on {db.engine.dialect.name}: "
                        "is TEST_DATABASE_URL set?", returncode=2)
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()


@pytest.fixture(scope="session")
def app():
    tmp = Path(tempfile.mkdtemp(prefix="lms-test-"))
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=_database_url(tmp))
    app.test_client_class = IsolatedClient
    _reset_database(app)
    with app.app_context():
        from lms.units.operations import load_official_units

        load_official_units()
        db.session.commit()
        _load_fixture_data()
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def _load_fixture_data() -> None:
    """Content that many tests need and that no test changes: the course catalogue."""
    try:
        from lms.learning.content import sync_courses
    except ImportError:
        return
    from flask import current_app

    sync_courses(current_app.config["COURSES_DIR"])


class BoundSession(FlaskSession):
    """Flask-SQLAlchemy's session picks the engine itself and would ignore `bind`,
    escaping the test's transaction; this one stays on the given connection."""

    def get_bind(self, *args, **kwargs):
        return self.bind if self.bind is not None else super().get_bind(*args, **kwargs)


@pytest.fixture(autouse=True)
def db_session(app):
    """Every test runs in a transaction that is rolled back at the end."""
    with app.app_context():
        # Deferred, so tests that commit from other threads are not blocked by it.
        connection = db.engine.connect().execution_options(sqlite_begin="DEFERRED")
        transaction = connection.begin()
        original = db.session
        db.original_session = original
        db.session = db._make_scoped_session(
            {"bind": connection, "join_transaction_mode": "create_savepoint", "class_": BoundSession}
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            _forget_rolled_back_content()
            if transaction.is_active:
                transaction.rollback()
            connection.close()


@contextlib.contextmanager
def rolled_back():
    """Undo whatever the requests inside committed (they commit into this savepoint),
    for tests that send many requests and compare the database before and after."""
    db.session.commit()
    nested = db.session.begin_nested()
    try:
        yield
    finally:
        if nested.is_active:
            nested.rollback()
        db.session.expire_all()


def _forget_rolled_back_content() -> None:
    """Courses and units a test created are rolled back: the in-memory caches must not keep them."""
    from lms import cache

    cache.clear_all()


class IsolatedClient(FlaskClient):
    """A test client whose every request gets its own application context.

    The test itself holds an app context (for the rolled-back session); without this,
    Flask would reuse it for each request and per-request state in `g` (the logged-in
    user, the chosen locale) would leak from one request to the next.
    """

    def open(self, *args, **kwargs):
        def fresh_contexts():
            _cv_app.set(None)
            _cv_request.set(None)
            response = FlaskClient.open(self, *args, **kwargs)
            if response.is_streamed:  # read it here, in the context it was started in
                response.streamed_chunks = list(response.iter_encoded())
                response.response = response.streamed_chunks
            return response

        return contextvars.copy_context().run(fresh_contexts)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url: str = "/login") -> str:
    """The CSRF token a real browser would send, read from a rendered page."""
    page = client.get(url).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def post_form(client, url: str, data: dict, *, page: str | None = None, **kwargs):
    """POST a form the way a browser does: with the token from the page it came from."""
    payload = {"csrf_token": csrf_token(client, page or url), **data}
    return client.post(url, data=payload, **kwargs)


class Factory:
    """Small builders for accounts and learners, with sensible defaults."""

    password = "correct horse 42"

    def __init__(self):
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def unit(self, level: str, code: str):
        from lms.units.queries import unit_by_code

        unit = unit_by_code(level, code)
        assert unit is not None, (level, code)
        return unit

    def commune(self, code: str = "00070"):  # Phường Hoàn Kiếm, Hà Nội
        return self.unit("commune", code)

    def province(self, code: str = "01"):
        return self.unit("province", code)

    def village(self, commune=None, name: str | None = None):
        from lms.units.operations import create_village

        return create_village(commune or self.commune(), name or f"Thôn {self._next()}")

    def staff(self, role: str, unit=None, villages=(), username: str | None = None):
        from lms.accounts.operations import create_staff
        from lms.units.operations import ensure_nation

        if unit is None:
            unit = {"team_member": self.commune, "commune_official": self.commune,
                    "province_official": self.province, "national_admin": ensure_nation}[role]()
        return create_staff(role=role, unit=unit, username=username or f"staff{self._next()}",
                            password=self.password, display_name="Cán bộ", villages=list(villages))

    def learner(self, commune=None, village=None, full_name: str = "Nguyễn Thị Hoà",
                login: str | None = None, **fields):
        from lms.accounts.operations import sign_up_learner

        return sign_up_learner(full_name=full_name, login=login or f"learner{self._next()}",
                               password=self.password, commune=commune or self.commune(),
                               village=village, consent_given=True, locale="vi", **fields)


@pytest.fixture
def make(db_session) -> Factory:
    return Factory()


@pytest.fixture
def login(client):
    """Log `user` in through the real login form."""

    def _login(user, password: str = Factory.password):
        response = post_form(client, "/login", {"login": user.login_name, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return _login


def right_answers(course) -> dict[str, list[int]]:
    """The correct choices of every active question of `course`, as a learner sends them."""
    from lms.learning.operations import active_questions

    return {q.key: sorted(q.correct_indexes) for q in active_questions(course)}


@pytest.fixture
def completions():
    """Ids of the enrolments `course_completed` fired for during the test."""
    from lms.learning import events

    seen = []

    def receiver(enrollment, **extra):
        seen.append(enrollment.id)

    events.course_completed.connect(receiver)
    yield seen
    events.course_completed.disconnect(receiver)
