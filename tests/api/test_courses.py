"""Reading courses, lessons and the quiz, in Vietnamese by default and English on request."""

from __future__ import annotations

import json

import pytest
from flask_babel import force_locale, gettext

from tests.api.conftest import COURSE_SLUG, build_course


def _our_course(response) -> dict:
    return next(course for course in response.get_json()["courses"] if course["slug"] == COURSE_SLUG)


def test_catalogue_lists_published_courses_in_vietnamese_by_default(api, course):
    build_course("api-hidden-course", published=False)
    response = api.get("/api/v1/courses")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Accept-Language" in response.headers["Vary"]
    assert _our_course(response) == {
        "slug": COURSE_SLUG, "title": "Khoá học thử", "summary": "Tóm tắt", "domains": ["safety"],
        "pass_mark": 70, "version": 2, "lesson_count": 3, "estimated_minutes": 15,
    }
    assert "api-hidden-course" not in {c["slug"] for c in response.get_json()["courses"]}


@pytest.mark.parametrize("query, headers, title", [
    ("?lang=en", {}, "Test course"),
    ("?lang=vi", {"Accept-Language": "en"}, "Khoá học thử"),
    ("", {"Accept-Language": "en-GB,en;q=0.9"}, "Test course"),
    ("", {"Accept-Language": "fr"}, "Khoá học thử"),
])
def test_language_from_query_or_accept_language(api, course, query, headers, title):
    response = api.get(f"/api/v1/courses{query}", headers=headers)
    assert _our_course(response)["title"] == title


def test_unknown_language_is_a_400(api):
    response = api.get("/api/v1/courses?lang=fr")
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid-language"


def test_course_lists_its_lessons_in_order(api, course):
    body = api.get(f"/api/v1/courses/{COURSE_SLUG}?lang=en").get_json()
    assert body["title"] == "Test course"
    assert [(lesson["slug"], lesson["position"], lesson["title"]) for lesson in body["lessons"]] == [
        ("lesson-1", 1, "Lesson 1"), ("lesson-2", 2, "Lesson 2"), ("lesson-3", 3, "Lesson 3")]
    assert all(isinstance(lesson["id"], int) for lesson in body["lessons"])


@pytest.mark.parametrize("lang, lesson, title, body_html, previous, following", [
    ("vi", "lesson-1", "Bài 1", "<p>Nội dung 1</p>", None, "lesson-2"),
    ("en", "lesson-2", "Lesson 2", "<p>Body 2</p>", "lesson-1", "lesson-3"),
    ("en", "lesson-3", "Lesson 3", "<p>Body 3</p>", "lesson-2", None),
])
def test_lesson_in_both_languages(api, course, lang, lesson, title, body_html, previous, following):
    response = api.get(f"/api/v1/courses/{COURSE_SLUG}/lessons/{lesson}?lang={lang}")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["title"], body["body_html"], body["previous"], body["next"]) == (title, body_html, previous,
                                                                                  following)
    assert body["course"] == COURSE_SLUG


def test_quiz_shows_questions_but_never_the_answers(api, course):
    response = api.get(f"/api/v1/courses/{COURSE_SLUG}/quiz?lang=en")
    assert response.status_code == 200
    body = response.get_json()
    assert len(body["questions"]) == 10 and body["pass_mark"] == 70
    first = body["questions"][0]
    assert first == {"key": "q1", "position": 1, "text": "Question 1", "multiple": False,
                     "choices": ["Answer 0", "Answer 1", "Answer 2", "Answer 3"]}
    assert [q["key"] for q in body["questions"] if q["multiple"]] == ["q5", "q10"]
    text = json.dumps(body)
    assert "correct" not in text and "Explanation" not in text and "explanation" not in text
    vi = api.get(f"/api/v1/courses/{COURSE_SLUG}/quiz").get_json()
    assert vi["questions"][0]["text"] == "Câu hỏi 1" and vi["questions"][0]["choices"][0] == "Đáp án 0"


def test_course_without_quiz(api):
    build_course("api-no-quiz", questions=0)
    response = api.get("/api/v1/courses/api-no-quiz/quiz")
    assert response.status_code == 404
    assert response.get_json()["code"] == "quiz-unavailable"


@pytest.mark.parametrize("path, code", [
    ("/api/v1/courses/no-such-course", "course-not-found"),
    ("/api/v1/courses/no-such-course/quiz", "course-not-found"),
    ("/api/v1/courses/no-such-course/lessons/lesson-1", "course-not-found"),
    (f"/api/v1/courses/{COURSE_SLUG}/lessons/no-such-lesson", "lesson-not-found"),
    ("/api/v1/courses/%00bad", "course-not-found"),
    ("/api/v1/courses/UPPER", "course-not-found"),
    ("/api/v1/courses/api-hidden-course", "course-not-found"),
])
def test_unknown_things_are_404_with_a_code(api, course, path, code):
    build_course("api-hidden-course", published=False)
    response = api.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == code


def test_unknown_api_path_is_json(api):
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "http-404"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_error_messages_are_in_the_language_of_the_request(app, api, lang):
    response = api.get(f"/api/v1/courses/no-such-course?lang={lang}")
    with app.test_request_context(), force_locale(lang):
        expected = gettext("There is no such course.")
    assert response.get_json()["detail"] == expected


def test_unauthenticated_errors_are_translated_too(app, client):
    response = client.get("/api/v1/courses", headers={"Accept-Language": "en"})
    with app.test_request_context(), force_locale("en"):
        expected = gettext("Log in first: send your access token as 'Authorization: Bearer …'.")
    assert response.get_json()["detail"] == expected
