"""Builders for the data-quality tests: courses completed fast or slowly, duplicates."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.db import utcnow
from lms.extensions import db
from lms.learning.models import Course
from lms.learning.operations import record_lesson_progress, submit_quiz
from lms.quality.models import QualityFlag
from tests.conftest import right_answers

COURSE = "scam-safety"


def course(slug: str = COURSE) -> Course:
    return db.session.scalar(select(Course).where(Course.slug == slug))


def complete_course(learner, *, slow: bool, helper=None, slug: str = COURSE):
    """Every lesson and a passed quiz; `slow`: ten minutes a lesson, the quiz an hour after."""
    chosen = course(slug)
    back = utcnow() - timedelta(hours=2) if slow else None
    for lesson in chosen.lessons:
        record_lesson_progress(learner, lesson, 100, seconds=600 if slow else 0, helper=helper, at=back)
    return submit_quiz(learner, chosen, right_answers(chosen), helper=helper)


def flags_of(learner, kind: str | None = None) -> list[QualityFlag]:
    query = select(QualityFlag).where(QualityFlag.learner_id == learner.id)
    if kind:
        query = query.where(QualityFlag.kind == kind)
    return list(db.session.scalars(query.order_by(QualityFlag.id)))


@pytest.fixture
def learner(make):
    return make.learner().learner
