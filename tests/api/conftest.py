"""Fixtures for the API: a small course of our own, a learner, and a real bearer token.

The course is built directly from models (3 lessons, 10 questions of which two take
several answers, pass mark 70) so the tests do not depend on the real catalogue.
Fixtures commit (inside the per-test transaction): an API error rolls the session
back, and must not take the test's data with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from lms.extensions import db
from lms.learning.models import Course, Lesson, QuizQuestion

COURSE_SLUG = "api-test-course"
PASSWORD = "correct horse 42"


def build_course(slug: str = COURSE_SLUG, *, lessons: int = 3, questions: int = 10, pass_mark: int = 70,
                 published: bool = True) -> Course:
    course = Course(slug=slug, version=2, position=99, pass_mark=pass_mark, estimated_minutes=15,
                    domains=["safety"], title_vi="Khoá học thử", title_en="Test course",
                    summary_vi="Tóm tắt", summary_en="Summary", content_hash="0" * 64, is_published=published)
    db.session.add(course)
    db.session.flush()
    for n in range(1, lessons + 1):
        db.session.add(Lesson(course_id=course.id, slug=f"lesson-{n}", position=n, title_vi=f"Bài {n}",
                              title_en=f"Lesson {n}", body_html_vi=f"<p>Nội dung {n}</p>",
                              body_html_en=f"<p>Body {n}</p>", content_hash="0" * 64))
    for n in range(1, questions + 1):
        multiple = n % 5 == 0  # questions 5 and 10 have two right answers
        choices = [{"vi": f"Đáp án {i}", "en": f"Answer {i}", "correct": i == n % 3 or (multiple and i == 3)}
                   for i in range(4)]
        db.session.add(QuizQuestion(course_id=course.id, key=f"q{n}", position=n, text_vi=f"Câu hỏi {n}",
                                    text_en=f"Question {n}", choices=choices, explanation_vi=f"Giải thích {n}",
                                    explanation_en=f"Explanation {n}"))
    db.session.commit()
    return course


@dataclass
class Api:
    """The test client with a bearer token on every request."""

    client: object
    token: str

    def _headers(self, headers: dict | None) -> dict:
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, path: str, headers: dict | None = None, **kwargs):
        return self.client.get(path, headers=self._headers(headers), **kwargs)

    def post(self, path: str, json=None, headers: dict | None = None, **kwargs):
        return self.client.post(path, json=json, headers=self._headers(headers), **kwargs)

    def delete(self, path: str, headers: dict | None = None, **kwargs):
        return self.client.delete(path, headers=self._headers(headers), **kwargs)


@pytest.fixture
def course(db_session) -> Course:
    return build_course()


@pytest.fixture
def learner_user(make):
    user = make.learner()
    db.session.commit()
    return user


def issue_token(client, login: str, name: str = "Android app") -> str:
    response = client.post("/api/v1/tokens", json={"login": login, "password": PASSWORD, "name": name})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


@pytest.fixture
def api(client, learner_user) -> Api:
    return Api(client, issue_token(client, learner_user.login_name))
