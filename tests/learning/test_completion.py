"""Completion is recorded exactly once, under repeated and concurrent submissions."""

import threading

import pytest
from sqlalchemy import delete, select

from lms.extensions import db
from lms.learning.models import Course, Enrollment, QuizQuestion
from lms.learning.operations import complete_lesson, submit_quiz
from tests.conftest import right_answers


def test_repeated_submissions_complete_once(make, completions):
    learner = make.learner().learner
    course = db.session.scalar(select(Course).where(Course.slug == "scam-safety"))
    for lesson in course.lessons:
        complete_lesson(learner, lesson)
    first = submit_quiz(learner, course, right_answers(course))
    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.learner_id == learner.id))
    completed_dt = enrollment.completed_dt
    submit_quiz(learner, course, right_answers(course))
    for lesson in course.lessons:
        complete_lesson(learner, lesson)
    assert first.is_passed and completions == [enrollment.id]
    assert enrollment.completed_dt == completed_dt


@pytest.mark.parametrize(("right", "passed"), [(7, True), (6, False)])
def test_pass_mark_boundary(make, right, passed):
    learner = make.learner().learner
    course = db.session.scalar(select(Course).where(Course.slug == "ai-daily-life"))
    assert course.pass_mark == 70
    answers = right_answers(course)
    assert len(answers) == 10
    questions = db.session.scalars(select(QuizQuestion).where(QuizQuestion.course_id == course.id)
                                   .order_by(QuizQuestion.position)).all()
    for question in questions[right:]:
        wrong = next(i for i in range(len(question.choices)) if i not in question.correct_indexes)
        answers[question.key] = [wrong]
    for lesson in course.lessons:
        complete_lesson(learner, lesson)
    attempt = submit_quiz(learner, course, answers)
    assert (attempt.correct_count, attempt.score_percent, attempt.is_passed) == (right, right * 10, passed)


def test_concurrent_completion_is_recorded_once(app, completions):
    """Eight requests pass the quiz at the same moment, each in its own transaction."""
    from lms.accounts.operations import sign_up_learner
    from lms.units.queries import unit_by_code

    db.session, test_session = db.original_session, db.session
    try:
        with app.app_context():
            user = sign_up_learner(full_name="Lê Văn Đồng", login="dong.thoi", password="correct horse 42",
                                   commune=unit_by_code("commune", "00070"), village=None, consent_given=True,
                                   locale="vi")
            learner_id, user_id = user.learner.id, user.id
            course = db.session.scalar(select(Course).where(Course.slug == "e-payments"))
            course_id = course.id
            for lesson in course.lessons:
                complete_lesson(user.learner, lesson)
            answers = right_answers(course)
            db.session.commit()

        barrier, errors = threading.Barrier(8), []

        def submit():
            try:
                with app.app_context():
                    from lms.learners.models import Learner

                    barrier.wait()  # before the first query: a writer's transaction starts there
                    learner = db.session.get(Learner, learner_id)
                    course = db.session.get(Course, course_id)
                    submit_quiz(learner, course, answers)
                    db.session.commit()
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=submit) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with app.app_context():
            enrollment = db.session.scalar(select(Enrollment).where(Enrollment.learner_id == learner_id))
            assert errors == []
            assert enrollment.completed_dt is not None
            assert completions == [enrollment.id]
    finally:
        with app.app_context():
            _delete_learner(learner_id, user_id)
            db.session.commit()
        db.session = test_session


def _delete_learner(learner_id, user_id):
    """Remove every row the committed test wrote, children first."""
    from lms.accounts.models import User
    from lms.learners.models import Learner

    for table in reversed(db.metadata.sorted_tables):
        if "learner_id" in table.c and table.name != "learners":
            db.session.execute(delete(table).where(table.c.learner_id == learner_id))
        if "actor_id" in table.c:
            db.session.execute(delete(table).where(table.c.actor_id == user_id))
    db.session.execute(delete(Learner).where(Learner.id == learner_id))
    db.session.execute(delete(User).where(User.id == user_id))


def test_device_clock_is_kept_within_the_last_year(make):
    from datetime import UTC, datetime, timedelta

    from lms.db import utcnow
    from lms.learning.operations import record_lesson_progress

    learner = make.learner().learner
    course = db.session.scalar(select(Course).where(Course.slug == "scam-safety"))
    record_lesson_progress(learner, course.lessons[0], 10, at=datetime(455, 1, 1, tzinfo=UTC))
    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.learner_id == learner.id))
    assert utcnow() - enrollment.started_dt <= timedelta(days=367)  # statistics file it by this month
    future = record_lesson_progress(learner, course.lessons[1], 10, at=utcnow() + timedelta(days=30))
    assert future.last_seen_dt <= utcnow()
