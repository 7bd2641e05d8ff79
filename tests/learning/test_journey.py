"""The learner's whole journey through the browser pages (test client, real database)."""

import re

from sqlalchemy import select

from lms.extensions import db
from lms.learning.models import Course, Enrollment, QuizQuestion
from tests.conftest import csrf_token


def correct_form(course):
    questions = db.session.scalars(select(QuizQuestion).where(
        QuizQuestion.course_id == course.id, QuizQuestion.is_active.is_(True))).all()
    return {q.key: [str(i) for i in sorted(q.correct_indexes)] for q in questions}


def test_catalogue_lists_every_course_in_both_languages(client):
    courses = db.session.scalars(select(Course).where(Course.is_published.is_(True))).all()
    assert len(courses) == 5  # the four first courses and family-digital-safety
    page = client.get("/courses").get_data(as_text=True)
    assert len(re.findall(r'<li class="card">', page)) == 5
    assert all(course.title_vi in page for course in courses)
    english = client.get("/courses", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Courses" in english and page != english
    assert "Keeping the whole family safe in daily digital life" in english


def test_whole_journey_resume_complete_and_my_learning(client, make, login):
    user = make.learner(login="bac.hung")
    login(user)
    course = db.session.scalar(select(Course).where(Course.slug == "scam-safety"))
    lessons = course.lessons
    token = csrf_token(client, f"/courses/{course.slug}")
    response = client.post(f"/courses/{course.slug}/enroll", data={"csrf_token": token})
    assert response.headers["Location"].endswith(f"/lessons/{lessons[0].slug}")

    # Read the first lesson, then leave: the home page offers to continue.
    lesson_page = client.get(response.headers["Location"])
    assert lesson_page.status_code == 200
    client.post(f"/courses/{course.slug}/lessons/{lessons[0].slug}/complete", data={"csrf_token": token})
    home = client.get("/").get_data(as_text=True)
    assert "Học tiếp từ chỗ đã dừng" in home and f"/lessons/{lessons[1].slug}" in home

    # The quiz is locked until every lesson is done.
    locked = client.get(f"/courses/{course.slug}/quiz").get_data(as_text=True)
    assert "Hãy học xong tất cả các bài" in locked
    for lesson in lessons[1:]:
        done = client.post(f"/courses/{course.slug}/lessons/{lesson.slug}/complete", data={"csrf_token": token})
        assert done.status_code == 302
    assert done.headers["Location"].endswith("/quiz")

    # A failed attempt shows explanations and allows a retry.
    wrong = {key: [str((int(v[0]) + 1) % 3)] for key, v in correct_form(course).items()}
    failed = client.post(f"/courses/{course.slug}/quiz", data={"csrf_token": token, **wrong})
    assert failed.status_code == 200 and "Làm lại" in failed.get_data(as_text=True)
    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.learner_id == user.learner.id))
    assert enrollment.completed_dt is None

    passed = client.post(f"/courses/{course.slug}/quiz", data={"csrf_token": token, **correct_form(course)})
    text = passed.get_data(as_text=True)
    assert "Chúc mừng" in text and "Bạn đã hoàn thành khóa học" in text
    db.session.refresh(enrollment)
    assert enrollment.completed_dt is not None and enrollment.completed_version == course.version

    mine = client.get("/my-learning").get_data(as_text=True)
    assert course.title_vi in mine and "100%" in mine


def test_incomplete_quiz_is_refused_with_a_clear_message(client, make, login):
    from lms.learning.operations import complete_lesson

    user = make.learner(login="bac.ba")
    course = db.session.scalar(select(Course).where(Course.slug == "e-payments"))
    for lesson in course.lessons:
        complete_lesson(user.learner, lesson)
    login(user)
    answers = dict(list(correct_form(course).items())[:3])
    response = client.post(f"/courses/{course.slug}/quiz",
                           data={"csrf_token": csrf_token(client, "/courses"), **answers})
    assert response.status_code == 422
    assert "Hãy trả lời tất cả các câu hỏi" in response.get_data(as_text=True)


def test_lesson_page_is_small_and_works_without_javascript(client, make, login):
    import gzip

    login(make.learner(login="bac.bon"))
    course = db.session.scalar(select(Course).where(Course.slug == "smartphone-public-services"))
    for lesson in course.lessons:
        response = client.get(f"/courses/{course.slug}/lessons/{lesson.slug}")
        body = response.get_data()
        assert response.status_code == 200
        assert len(gzip.compress(body)) < 30 * 1024
        assert b"<form method=\"post\"" in body  # "done" works as a plain form


def test_anonymous_visitor_can_read_but_not_record(client):
    course_page = client.get("/courses/ai-daily-life")
    assert course_page.status_code == 200
    page = client.get("/courses/ai-daily-life").get_data(as_text=True)
    first = re.search(r'href="(/courses/ai-daily-life/lessons/[^"]+)"', page).group(1)
    assert "Đăng ký để lưu kết quả học" in client.get(first).get_data(as_text=True)
    response = client.post(first + "/complete", data={"csrf_token": csrf_token(client, first)})
    assert "/login" in response.headers["Location"]


def test_unknown_course_and_lesson_are_404(client):
    assert client.get("/courses/no-such-course").status_code == 404
    assert client.get("/courses/scam-safety/lessons/no-such-lesson").status_code == 404


def test_larger_text_option(client):
    token = csrf_token(client, "/")
    client.post("/text-size", data={"csrf_token": token, "next": "/courses"})
    assert 'class="large-text"' in client.get("/courses").get_data(as_text=True)
