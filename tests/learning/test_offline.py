"""What a phone keeps to learn a course offline (lms/learning/offline.py) and the pages' hooks."""

from __future__ import annotations

import re

from lms.learning import content_cache
from lms.learning.queries import course_by_slug

SLUG = "scam-safety"


def test_the_manifest_lists_every_lesson_image_the_quiz_and_the_styles(client):
    course = content_cache.courses()[SLUG]
    response = client.get(f"/courses/{SLUG}/offline.json")
    assert response.status_code == 200
    body = response.get_json()
    urls = [item["url"] for item in body["files"]]
    for lesson in course.lessons:
        assert f"/courses/{SLUG}/lessons/{lesson.slug}" in urls
    assert [lesson["id"] for lesson in body["lessons"]] == [lesson.id for lesson in course.lessons]
    assert f"/courses/{SLUG}" in urls and "/help/offline" in urls
    quiz = next(item for item in body["files"] if item.get("key") == f"/courses/{SLUG}/quiz")
    assert quiz["url"] == f"/courses/{SLUG}/quiz?offline=1"
    assert any(re.fullmatch(r"/static/css/site\.css\?v=[0-9a-f]{12}", url) for url in urls)
    assert "/course-media/scam-safety/read-domain-right-to-left.svg" in urls
    assert body["total_bytes"] == sum(item["bytes"] for item in body["files"]) > 20_000
    for item in body["files"]:  # every file it names is there to fetch
        assert client.get(item["url"], buffered=True).status_code in (200, 302), item["url"]


def test_the_manifest_follows_the_language_and_the_content(client):
    vi = client.get(f"/courses/{SLUG}/offline.json").get_json()
    en = client.get(f"/courses/{SLUG}/offline.json", headers={"Accept-Language": "en"}).get_json()
    assert vi["language"] == "vi" and en["language"] == "en" and vi["hash"] != en["hash"]
    session = client.get("/offline/session").get_json()
    assert session["courses"][SLUG] == vi["hash"]
    course = course_by_slug(SLUG)
    course.content_hash = "f" * 64  # the course changed on the server
    from lms.extensions import db

    db.session.commit()
    assert client.get("/offline/session").get_json()["courses"][SLUG] != vi["hash"]


def test_an_unknown_course_has_no_manifest(client):
    assert client.get("/courses/no-such-course/offline.json").status_code == 404


def test_the_quiz_kept_for_offline_shows_its_form_before_the_lessons_are_done(client, make, login):
    user = make.learner()
    login(user)
    locked = client.get(f"/courses/{SLUG}/quiz").get_data(as_text=True)
    assert 'class="quiz"' not in locked
    kept = client.get(f"/courses/{SLUG}/quiz?offline=1").get_data(as_text=True)
    assert 'class="quiz"' in kept and 'data-course="scam-safety"' in kept
    assert "<strong>(" not in kept  # which choices are right never reaches the phone before an attempt


def test_course_and_lesson_pages_carry_the_offline_controls_hidden(client, make, login):
    login(make.learner())
    page = client.get(f"/courses/{SLUG}").get_data(as_text=True)
    assert re.search(r'<section class="offline-save" hidden', page)
    assert "Lưu khoá học trên điện thoại này" in page and "Đã lưu trên điện thoại này" in page
    lesson = client.get(f"/courses/{SLUG}/lessons/{content_cache.courses()[SLUG].lessons[0].slug}").get_data(as_text=True)
    assert re.search(r'<p class="listen" hidden><button[^>]*data-lang="vi-VN"[^>]*>Nghe bài này</button>', lesson)
    assert 'class="lesson-complete"' in lesson and "data-lesson=" in lesson
    assert "data-strings=" in lesson and ("1 bài học đang chờ gửi" in lesson or "\\u0111ang ch\\u1edd g\\u1eedi" in lesson)
