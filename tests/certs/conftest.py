"""Fixtures and helpers for certificate tests: a small course, a learner who completes
it, and a database with real commits for concurrency tests.

The course is built here rather than taken from `courses/`, so these tests do not
change when the content does.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from sqlalchemy import delete, or_, select

from lms.extensions import db
from tests.conftest import right_answers  # noqa: F401 - used by the certificate tests

_counter = itertools.count(1)


def build_course(session, *, lessons: int = 2, questions: int = 2):
    """A published course with lessons and a quiz whose right answers are known."""
    from lms.learning.models import Course, Lesson, QuizQuestion

    n = next(_counter)
    course = Course(slug=f"cert-test-{n}-{id(session)}", version=1, position=900 + n, pass_mark=50,
                    estimated_minutes=10, domains=["safety"], title_vi="An toàn trên mạng cho người cao tuổi",
                    title_en="Staying safe online for older people", summary_vi="Tóm tắt", summary_en="Summary",
                    content_hash="x" * 64, is_published=True)
    session.add(course)
    session.flush()
    for i in range(lessons):
        session.add(Lesson(course_id=course.id, slug=f"bai-{i + 1}", position=i + 1, title_vi=f"Bài {i + 1}",
                           title_en=f"Lesson {i + 1}", body_html_vi="<p>Nội dung</p>", body_html_en="<p>Text</p>",
                           content_hash="y" * 64, is_active=True))
    for i in range(questions):
        session.add(QuizQuestion(
            course_id=course.id, key=f"q{i + 1}", position=i + 1, text_vi=f"Câu {i + 1}?", text_en=f"Question {i + 1}?",
            choices=[{"vi": "Sai", "en": "Wrong", "correct": False}, {"vi": "Đúng", "en": "Right", "correct": True}],
            explanation_vi="Giải thích", explanation_en="Because", is_active=True))
    session.flush()
    from lms.learning import content_cache

    content_cache.invalidate()  # as a sync would: lesson pages see the new course
    return course


def finish_lessons(learner, course) -> None:
    from lms.learning.operations import complete_lesson

    for lesson in course.lessons:
        complete_lesson(learner, lesson)


def complete_course(learner, course):
    """Drive the learner through every lesson and a passing quiz; returns the enrolment."""
    from lms.learning.operations import submit_quiz
    from lms.learning.queries import enrollment_for

    finish_lessons(learner, course)
    attempt = submit_quiz(learner, course, right_answers(course))
    assert attempt.is_passed
    return enrollment_for(learner, course)


@pytest.fixture
def course(db_session):
    return build_course(db.session)


@pytest.fixture
def graduate(make, course):
    """A learner (account) who has just completed `course`, and their certificate."""
    from lms.certs.queries import certificates_of

    def _graduate(**learner_fields):
        user = make.learner(**learner_fields)
        complete_course(user.learner, course)
        (certificate,) = certificates_of(user.learner)
        return user, certificate

    return _graduate


@dataclass
class Committed:
    """Rows created with real commits, deleted again at the end of the test."""

    app: object
    user_ids: list[int] = field(default_factory=list)
    course_ids: list[int] = field(default_factory=list)

    def learner(self, login: str, **fields):
        from lms.accounts.operations import sign_up_learner
        from lms.units.queries import unit_by_code

        user = sign_up_learner(full_name=fields.pop("full_name", "Trần Văn Bình"), login=login,
                               password="correct horse 42", commune=unit_by_code("commune", "00070"),
                               village=None, consent_given=True, locale="vi", **fields)
        db.session.commit()
        self.user_ids.append(user.id)
        return user

    def course(self):
        course = build_course(db.session)
        db.session.commit()
        self.course_ids.append(course.id)
        return course

    def purge(self) -> None:
        from lms.accounts.models import User
        from lms.audit.models import AuditEvent
        from lms.certs.models import Certificate
        from lms.learners.models import Consent, Learner
        from lms.learning.models import Course, Enrollment, Lesson, LessonProgress, QuizAttempt, QuizQuestion

        session = db.session
        session.rollback()
        learner_ids = list(session.scalars(select(Learner.id).where(Learner.user_id.in_(self.user_ids))))
        session.execute(delete(Certificate).where(or_(Certificate.learner_id.in_(learner_ids),
                                                      Certificate.course_id.in_(self.course_ids))))
        session.execute(delete(AuditEvent).where(or_(AuditEvent.learner_id.in_(learner_ids),
                                                     AuditEvent.actor_id.in_(self.user_ids))))
        from lms.quality.models import QualityFlag

        for model in (QualityFlag, QuizAttempt, LessonProgress, Enrollment, Consent):
            session.execute(delete(model).where(model.learner_id.in_(learner_ids)))
        session.execute(delete(Learner).where(Learner.id.in_(learner_ids)))
        session.execute(delete(User).where(User.id.in_(self.user_ids)))
        for model in (QuizQuestion, Lesson):
            session.execute(delete(model).where(model.course_id.in_(self.course_ids)))
        session.execute(delete(Course).where(Course.id.in_(self.course_ids)))
        session.commit()


@pytest.fixture
def committed(app, db_session):
    """Sessions on the real engine (not the test's rolled-back transaction), so threads
    each get their own connection and see each other's commits. Everything created
    through it is deleted afterwards."""
    rolled_back = db.session
    db.session = db._make_scoped_session({})  # one session per app context, on the engine
    helper = Committed(app)
    try:
        with app.app_context():
            yield helper
    finally:
        with app.app_context():
            helper.purge()
            db.session.remove()
        db.session = rolled_back
