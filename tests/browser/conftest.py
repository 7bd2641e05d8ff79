"""Browser tests: the real app served on loopback, driven by headless Chromium.

One live server and one browser for this package, torn down after its tests. The
server runs the real application in a background thread (Werkzeug's `make_server`) on
a free loopback port, with its own temporary SQLite file set up by the real commands
(`flask db upgrade`, `units load`, `courses load`, `demo load`, `accounts
set-password`): browser requests commit, so they must never touch the test suite's
database, and TEST_DATABASE_URL is ignored here on purpose. Each test gets a fresh
browser context (cookies, storage) at 360 × 740, the size of a small phone.

Chromium is Debian's (/usr/bin/chromium), driven by the `playwright` package with
`executable_path`; Playwright never downloads a browser here. Without Chromium or
Playwright every browser test is skipped with the reason (CI installs both).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from lms import create_app
from lms.config import TestConfig

CHROMIUM = os.environ.get("LMS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling Google's hosts, which
# hangs on a closed network. Playwright adds --headless and a fresh --user-data-dir.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
PASSWORD = "browser-test-pass 42"  # noqa: S105 - a throwaway password for the demo accounts
# The demo accounts, and two of the demo learners: one who passed the first course's quiz
# (has a certificate) and one who read every lesson but has not passed it yet.
DEMO_LOGINS = ("demo-learner", "demo-team", "demo-commune", "demo-province", "demo-admin",
               "demo-hoc-vien-1", "demo-hoc-vien-3")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
MOBILE = {"width": 360, "height": 740}


def _skip_reason() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"Chromium not installed ({CHROMIUM}); apt-get install chromium chromium-driver"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -r requirements-dev.txt)"
    return None


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    reason = _skip_reason()
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def db_session():
    """Replaces the suite's rolled-back transaction: the live server must commit for real,
    and swapping the shared `db.session` would pull its requests into the test database."""
    yield None


class BrowserConfig(TestConfig):
    TESTING = False  # error pages render as in production, exceptions do not escape
    SESSION_COOKIE_SECURE = False  # plain http on loopback
    REMEMBER_COOKIE_SECURE = False


@dataclass
class LiveServer:
    url: str
    app: object
    errors: list = field(default_factory=list)  # errors the app logged (a crash, a 500 page)

    def __call__(self, path: str) -> str:
        return self.url + path


def _run(runner, *args: str) -> str:
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, f"flask {' '.join(args)} failed:\n{result.output}\n{result.exception!r}"
    return result.output


def _prepare_database(app) -> None:
    """The same steps as `make setup`, through the real commands."""
    runner = app.test_cli_runner()
    _run(runner, "db", "upgrade")
    _run(runner, "units", "load")
    _run(runner, "courses", "load")
    _run(runner, "demo", "load")
    for login in DEMO_LOGINS:
        _run(runner, "accounts", "set-password", login, "--password", PASSWORD)


class _ErrorCollector(logging.Handler):
    def __init__(self, errors: list):
        super().__init__(level=logging.ERROR)
        self.errors = errors

    def emit(self, record: logging.LogRecord) -> None:
        self.errors.append(f"{record.getMessage()}: {record.exc_info[1]!r}" if record.exc_info else record.getMessage())


@pytest.fixture(scope="package")
def live_server():
    tmp = Path(tempfile.mkdtemp(prefix="lms-browser-"))
    app = create_app(BrowserConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp / 'browser.sqlite3'}")
    _prepare_database(app)
    server = LiveServer(url="", app=app)

    # The app's catch-all error handler logs every crash, then shows the 500 page.
    collector = _ErrorCollector(server.errors)
    app.logger.addHandler(collector)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    server.url = f"http://127.0.0.1:{httpd.server_port}"
    thread = threading.Thread(target=httpd.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    thread.join(timeout=10)
    httpd.server_close()
    app.logger.removeHandler(collector)
    from lms.extensions import db

    with app.app_context():
        db.engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(autouse=True)
def no_server_errors(request):
    """A page that crashed (500) fails the test that loaded it, with the exception."""
    if "live_server" not in request.fixturenames:
        yield
        return
    server = request.getfixturevalue("live_server")
    seen = len(server.errors)
    yield
    assert server.errors[seen:] == [], f"the server logged errors: {server.errors[seen:]}"


@pytest.fixture(scope="package")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser):
    """A fresh browser profile (cookies, storage) for each test, at phone size."""
    ctx = browser.new_context(viewport=MOBILE, locale="vi-VN", accept_downloads=True)
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


def log_in(page, live_server, login: str, password: str = PASSWORD) -> None:
    """Log in through the real form, as a person would."""
    page.goto(live_server("/login"))
    page.fill("#login", login)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("main form[method=post] button")
    assert "/login" not in page.url, f"login as {login} failed: {page.inner_text('main')[:300]}"


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """build/screenshots/ (outside git), emptied first so it shows this run's pages only."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS
