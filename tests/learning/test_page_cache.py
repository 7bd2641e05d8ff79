"""Cached lesson pages never mix people: names, tokens and messages are per request."""

import re

from sqlalchemy import func, select

from lms.extensions import db
from lms.learning import content_cache
from lms.learning.models import LessonProgress
from tests.conftest import Factory, post_form

LESSON = "/courses/scam-safety/lessons/fake-police-and-officials"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_two_learners_see_their_own_name_and_token(app, make):
    first = make.learner(full_name="Nguyễn Thị Hoà", login="hoa.mot")
    second = make.learner(full_name="Trần Văn Bình", login="binh.hai")
    pages = []
    for user in (first, second):
        client = app.test_client()
        post_form(client, "/login", {"login": user.login_name, "password": Factory.password})
        pages.append((client, client.get(LESSON).get_data(as_text=True)))
        pages.append((client, client.get(LESSON).get_data(as_text=True)))  # served from the cache
    assert "Nguyễn Thị Hoà" in pages[1][1] and "Trần Văn Bình" not in pages[1][1]
    assert "Trần Văn Bình" in pages[3][1] and "Nguyễn Thị Hoà" not in pages[3][1]
    assert TOKEN.search(pages[1][1]).group(1) != TOKEN.search(pages[3][1]).group(1)
    assert "\u2983" not in pages[3][1]  # no marker left unfilled
    # The token in the cached page is the one this session accepts.
    client, page = pages[3]
    done = client.post(LESSON + "/complete", data={"csrf_token": TOKEN.search(page).group(1)})
    assert done.status_code == 302


def test_first_visit_is_recorded_once(client, make, login):
    user = make.learner(login="hoa.ba")
    login(user)
    for _ in range(3):
        assert client.get(LESSON).status_code == 200
    rows = db.session.scalar(select(func.count()).select_from(LessonProgress).where(
        LessonProgress.learner_id == user.learner.id))
    assert rows == 1


def test_flash_messages_are_not_cached(client, make, login):
    login(make.learner(login="hoa.bon"))
    client.get(LESSON)
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Thông báo riêng")]
    assert "Thông báo riêng" in client.get(LESSON).get_data(as_text=True)
    assert "Thông báo riêng" not in client.get(LESSON).get_data(as_text=True)


def test_content_cache_follows_a_sync(app, tmp_path):
    from lms.learning.content import sync_courses

    before = content_cache.courses()
    assert "scam-safety" in before
    sync_courses(app.config["COURSES_DIR"])
    assert len(content_cache._content) == 0  # invalidated: next read reloads
    assert content_cache.courses().keys() == before.keys()


class _Statements:
    """Counts the SQL statements the engine runs (a real listener on the real engine)."""

    def __init__(self):
        self.count = 0
        self.statements = []

    def __call__(self, _conn, _cursor, statement, *args):
        self.count += 1
        self.statements.append(statement)

    def __enter__(self):
        from sqlalchemy import event

        event.listen(db.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event

        event.remove(db.engine, "before_cursor_execute", self)


def test_a_lesson_read_again_reads_only_the_session(client, make, login):
    """One primary-key read of the account's session state (issue 15.5), nothing else."""
    user = make.learner(full_name="Nguyễn Thị Hoà", login="hoa.nam")
    login(user)
    client.get(LESSON)  # first visit: recorded
    with _Statements() as statements:
        response = client.get(LESSON)
        page = response.get_data(as_text=True)
    reads = [s for s in statements.statements if not s.startswith(("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK"))]
    assert len(reads) == 1 and "FROM users" in reads[0] and "learners" not in reads[0], statements.statements
    assert "Nguyễn Thị Hoà" in page and "/complete" in page  # the learner's menu and button
    # A name on it: never kept in a shared phone's cache, and the usual security headers.
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "text/html" and "default-src 'self'" in response.headers["Content-Security-Policy"]
    with _Statements() as statements:  # another lesson's first visit does use the database
        assert client.get("/courses/scam-safety/lessons/otp-and-bank-messages").status_code == 200
    assert statements.count > 0


def test_a_lesson_read_again_follows_a_name_correction(client, make, login):
    user = make.learner(full_name="Nguyen Thi Hoa", login="hoa.sau")
    login(user)
    client.get(LESSON)
    post_form(client, "/my-data", {"full_name": "Nguyễn Thị Hoà", "birth_year": "1960", "village": ""})
    page = client.get(LESSON).get_data(as_text=True)
    assert "Nguyễn Thị Hoà" in page and "Nguyen Thi Hoa" not in page


def test_a_replayed_cookie_after_logout_records_nothing(app, make):
    """The cached lesson shows only what the cookie holds; anything that writes or shows
    personal data checks the account, so an old cookie achieves nothing there."""
    user = make.learner(full_name="Nguyễn Thị Hoà", login="hoa.bay")
    client = app.test_client()
    post_form(client, "/login", {"login": user.login_name, "password": Factory.password})
    page = client.get(LESSON).get_data(as_text=True)
    token = TOKEN.search(page).group(1)
    old_cookie = client.get_cookie("session").value
    post_form(client, "/logout", {}, page=LESSON)
    db.session.expire_all()
    other = app.test_client()
    other.set_cookie("session", old_cookie)
    assert other.get(LESSON).status_code == 200
    assert other.get("/my-data").status_code == 302  # personal data: the account is checked
    other.post(LESSON + "/complete", data={"csrf_token": token})
    done = db.session.scalar(select(func.count()).select_from(LessonProgress).where(
        LessonProgress.learner_id == user.learner.id, LessonProgress.completed_dt.is_not(None)))
    assert done == 0


def test_a_lesson_read_again_without_a_kept_page_loads_the_account(client, make, login):
    """When the page shell is not kept (another worker, a restart), the page is rendered
    with the real account: the menu of a team member needs their scope."""
    from lms.core import page_cache

    lesson_id = content_cache.lesson("scam-safety", LESSON.rsplit("/", 1)[1])[1].id
    for user in (make.learner(login="hoa.tam"), make.staff("team_member")):
        login(user)
        client.get(LESSON)
        with client.session_transaction() as session:
            session["lessons_seen"] = [lesson_id]  # "read again", for staff too
        page_cache.clear()
        response = client.get(LESSON)
        assert response.status_code == 200
        assert user.display_name in response.get_data(as_text=True)
        post_form(client, "/logout", {}, page=LESSON)
