"""Two real app servers over one database: what one changes, the other shows in time.

Each gunicorn process keeps its own copies (lms.cache). This starts two servers on free
loopback ports over one database (a SQLite file; with TEST_DATABASE_URL, a database of
its own on that PostgreSQL server), with the times to live shortened to TTL seconds
through `LMS_CACHE_SECONDS` (production: content and villages 30 s, provinces and
communes 5 minutes), then:

- reloads a lesson with `flask courses load` in a third process: both servers show the
  new text within TTL (and not merely because nothing was kept: both served the old
  text from memory first);
- adds a village through server A: A lists it at once, B within TTL;
- renames a commune as `flask units load` would with a newer official list, in a third
  process: both servers' province pages show the new name within TTL.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
TTL = 2.0
MARGIN = 8.0  # a busy shared machine: requests themselves take time
LESSON = "/courses/scam-safety/lessons/fake-police-and-officials"
LESSON_FILE = "scam-safety/lessons/01-fake-police-and-officials.vi.md"
PASSWORD = "two servers 42"
DATABASE = "lms_cache_processes"

pytestmark = pytest.mark.skipif(shutil.which("gunicorn", path=str(VENV_BIN)) is None, reason="needs gunicorn")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url(tmp_path: Path) -> str:
    """A SQLite file, or a database of its own on the PostgreSQL server of the tests
    (the servers commit: they must not write into the tests' database)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    from sqlalchemy import create_engine, make_url, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {DATABASE}"))
    engine.dispose()
    return make_url(url).set(database=DATABASE).render_as_string(hide_password=False)


class Server:
    def __init__(self, env: dict, log: Path):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log.open("w")
        self.process = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
            [str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"], cwd=ROOT,
            env={**env, "LMS_BIND": f"127.0.0.1:{self.port}", "LMS_WORKERS": "1", "LMS_THREADS": "1"},
            stdout=self.log, stderr=subprocess.STDOUT)
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.get("/healthz")
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"server on {self.port} did not start: {log.read_text()[-2000:]}")

    def get(self, path: str) -> str:
        return self.open(path)[1]

    def open(self, path: str, data: bytes | None = None) -> tuple[str, str]:
        """(the path answered after redirects, the body)."""
        with self.opener.open(self.base + path, data=data, timeout=20) as response:  # noqa: S310 - loopback only
            return urllib.parse.urlsplit(response.geturl()).path, response.read().decode()

    def post(self, path: str, data: dict, page: str) -> str:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', self.get(page)).group(1)
        return self.open(path, urllib.parse.urlencode({**data, "csrf_token": token}).encode())[1]

    def log_in(self, login: str) -> None:
        """Log in as `login` in a new cookie jar (the module's tests share the servers)."""
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.post("/login", {"login": login, "password": PASSWORD}, "/login")
        assert self.open("/account")[0] == "/account", "not logged in"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def _run(env: dict, *args: str) -> str:
    done = subprocess.run([str(VENV_BIN / "flask"), *args], cwd=ROOT, env=env,  # noqa: S603 - fixed arguments
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def _python(env: dict, script: str) -> None:
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,  # noqa: S603 - our own script
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def _seconds_until(condition, limit: float) -> float:
    """How long until `condition()` holds (polling); fails after `limit` seconds."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < limit, f"not seen within {limit} s"
        time.sleep(0.2)
    return time.monotonic() - started


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Built once for the module (a database with the units and courses, two servers):
    each test changes something of its own."""
    tmp_path = tmp_path_factory.mktemp("two-servers")
    courses = tmp_path / "courses"
    shutil.copytree(ROOT / "courses", courses)
    env = {"PATH": f"{VENV_BIN}:/usr/bin:/bin", "PYTHONPATH": str(ROOT), "FLASK_APP": str(ROOT / "wsgi.py"),
           "DATABASE_URL": _database_url(tmp_path), "LMS_INSTANCE_DIR": str(tmp_path / "instance"),
           "SESSION_COOKIE_SECURE": "0", "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
           "LMS_CACHE_SECONDS": ",".join(f"{name}={TTL}" for name in
                                         ("content", "villages", "official_units", "unit_lists", "course_labels"))}
    _run(env, "db", "upgrade")
    _run(env, "units", "load")
    _run(env, "courses", "load", "--courses-dir", str(courses))
    _run(env, "accounts", "create-staff", "--role", "commune_official", "--unit", "00070",
         "--username", "two.commune", "--password", PASSWORD)
    _run(env, "accounts", "create-staff", "--role", "national_admin", "--username", "two.admin",
         "--password", PASSWORD)
    started = [Server(env, tmp_path / "a.log"), Server(env, tmp_path / "b.log")]
    try:
        yield env, courses, started
    finally:
        for server in started:
            server.stop()


def _unit_id(env: dict, level: str, code: str) -> int:
    out = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, "-c", "from lms import create_app\nfrom lms.units.queries import unit_by_code\n"
         f"app = create_app()\nwith app.app_context(): print(unit_by_code({level!r}, {code!r}).id)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    return int(out.stdout.strip())


def test_a_course_load_reaches_every_server(servers):
    env, courses, (a, b) = servers
    assert "Vụ lừa mới: hai máy chủ" not in a.get(LESSON) + b.get(LESSON)  # both keep the old lesson now
    lesson = courses / LESSON_FILE
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\n\nVụ lừa mới: hai máy chủ.\n", encoding="utf-8")
    _run(env, "courses", "load", "--courses-dir", str(courses))
    for server in (a, b):
        _seconds_until(lambda s=server: "Vụ lừa mới: hai máy chủ" in s.get(LESSON), TTL + MARGIN)


def test_a_village_added_on_one_server_shows_on_the_other(servers):
    env, _courses, (a, b) = servers
    commune_id = _unit_id(env, "commune", "00070")
    page = f"/statistics/units/{commune_id}"
    a.log_in("two.commune")
    b.log_in("two.admin")
    assert "Thôn Hai Máy Chủ" not in a.get(page) + b.get(page)  # B keeps the list without it
    a.post("/villages", {"name": "Thôn Hai Máy Chủ", "division_type": "thôn"}, "/villages")
    assert "Thôn Hai Máy Chủ" in a.get(page)  # the process that made the change: at once
    _seconds_until(lambda: "Thôn Hai Máy Chủ" in b.get(page), TTL + MARGIN)


def test_a_units_load_elsewhere_renames_on_every_server(servers):
    env, _courses, (a, b) = servers
    province_id = _unit_id(env, "province", "01")
    page = f"/statistics/units/{province_id}"
    for server in (a, b):
        server.log_in("two.admin")
        assert "Phường Đổi Tên Mới" not in server.get(page)
    _python(env, "from lms import create_app\nfrom lms.extensions import db\n"
                 "from lms.units.operations import _official_rows, load_official_units\n"
                 "def renamed():\n"
                 "    provinces, communes = _official_rows()\n"
                 "    return provinces, [(c[0], 'Phường Đổi Tên Mới' if c[0] == '00070' else c[1], *c[2:])"
                 " for c in communes]\n"
                 "app = create_app()\n"
                 "with app.app_context():\n"
                 "    load_official_units(source=renamed)\n"
                 "    db.session.commit()\n")
    for server in (a, b):
        _seconds_until(lambda s=server: "Phường Đổi Tên Mới" in s.get(page), TTL + MARGIN)


def test_a_logout_on_one_server_ends_the_lesson_page_on_the_other(servers):
    """Issue 15.5 across processes: server A serves the lesson read again from its page
    cache and checks the session on a pooled connection of its own (the production path);
    the learner logs out through server B; the kept cookie then shows no name on A."""
    env, _courses, (a, b) = servers
    _python(env, "from lms import create_app\nfrom lms.extensions import db\n"
                 "from lms.accounts.operations import sign_up_learner\n"
                 "from lms.units.queries import unit_by_code\napp = create_app()\nwith app.app_context():\n"
                 f"    sign_up_learner(full_name='Mùa Thị Sênh', login='mua.senh', password={PASSWORD!r},\n"
                 "                    commune=unit_by_code('commune', '00070'), village=None, consent_given=True,\n"
                 "                    locale='vi')\n    db.session.commit()\n")
    a.log_in("mua.senh")
    a.get(LESSON)  # first visit: recorded
    assert "Mùa Thị Sênh" in a.get(LESSON)  # read again: the name from the cookie
    jar = next(iter(h for h in a.opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor))).cookiejar
    kept = next(c.value for c in jar if c.name == "session")
    b.opener = a.opener  # the same browser, now talking to B
    b.post("/logout", {}, "/account")
    replay = urllib.request.Request(a.base + LESSON, headers={"Cookie": f"session={kept}"})
    with urllib.request.urlopen(replay, timeout=20) as response:  # noqa: S310 - loopback only
        page = response.read().decode()
    assert "Mùa Thị Sênh" not in page and "/logout" not in page
