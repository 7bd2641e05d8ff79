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
    assert content_cache._state["loaded_at"] == 0.0  # invalidated: next read reloads
    assert content_cache.courses().keys() == before.keys()
