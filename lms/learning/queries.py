"""Reading courses and a learner's progress, in as few queries as a page needs."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.access import check
from lms.errors import NotFoundError
from lms.extensions import db
from lms.learners.models import Learner
from lms.learning.models import Course, Enrollment, Lesson, LessonProgress, QuizAttempt


def published_courses() -> list[Course]:
    return list(db.session.scalars(select(Course).where(Course.is_published.is_(True)).order_by(Course.position)))


def course_by_slug(slug: str) -> Course | None:
    return db.session.scalar(select(Course).where(Course.slug == slug, Course.is_published.is_(True)))


def lesson_in_course(course: Course, lesson_slug: str) -> Lesson | None:
    return db.session.scalar(select(Lesson).where(
        Lesson.course_id == course.id, Lesson.slug == lesson_slug, Lesson.is_active.is_(True)))


def enrollment_for(learner, course: Course) -> Enrollment | None:
    if learner is None:
        return None
    return db.session.scalar(select(Enrollment).where(
        Enrollment.learner_id == learner.id, Enrollment.course_id == course.id))


def progress_by_lesson(learner, course: Course) -> dict[int, LessonProgress]:
    if learner is None:
        return {}
    rows = db.session.scalars(select(LessonProgress).join(Lesson, Lesson.id == LessonProgress.lesson_id).where(
        LessonProgress.learner_id == learner.id, Lesson.course_id == course.id))
    return {row.lesson_id: row for row in rows}


def attempts(learner, course: Course) -> list[QuizAttempt]:
    if learner is None:
        return []
    return list(db.session.scalars(select(QuizAttempt).where(
        QuizAttempt.learner_id == learner.id, QuizAttempt.course_id == course.id)
        .order_by(QuizAttempt.submitted_dt.desc(), QuizAttempt.id.desc())))


@dataclass
class CourseProgress:
    course: Course
    enrollment: Enrollment | None
    lessons_done: int
    lessons_total: int
    best_score: int | None
    next_lesson: Lesson | None

    @property
    def percent(self) -> int:
        if self.enrollment and self.enrollment.is_completed:
            return 100
        steps = self.lessons_total + 1  # the quiz is the last step
        done = self.lessons_done + (1 if self.best_score is not None and self.passed else 0)
        return round(100 * done / steps) if steps else 0

    @property
    def passed(self) -> bool:
        return self.best_score is not None and self.best_score >= self.course.pass_mark

    @property
    def status(self) -> str:
        if self.enrollment is None:
            return "not-started"
        if self.enrollment.is_completed:
            return "completed"
        return "in-progress"


def course_progress(learner, course: Course, progress: dict[int, LessonProgress] | None = None) -> CourseProgress:
    progress = progress_by_lesson(learner, course) if progress is None else progress
    lessons = course.lessons
    done = [lesson for lesson in lessons if lesson.id in progress and progress[lesson.id].is_completed]
    next_lesson = next((lesson for lesson in lessons if not (lesson.id in progress and progress[lesson.id].is_completed)),
                       None)
    scores = [a.score_percent for a in attempts(learner, course)]
    return CourseProgress(course, enrollment_for(learner, course), len(done), len(lessons),
                          max(scores) if scores else None, next_lesson)


def my_learning(learner) -> list[CourseProgress]:
    """Progress in every course the learner is enrolled in, most recent first."""
    if learner is None:
        return []
    enrollments = db.session.scalars(select(Enrollment).where(Enrollment.learner_id == learner.id)
                                     .order_by(Enrollment.last_activity_dt.desc().nulls_last(),
                                               Enrollment.enrolled_dt.desc()))
    return [course_progress(learner, e.course) for e in enrollments if e.course.is_published]


def continue_point(learner) -> tuple[Course, Lesson | None] | None:
    """Where the learner left off: the most recent unfinished course and its next step."""
    for item in my_learning(learner):
        if item.status == "in-progress":
            return item.course, item.next_lesson
    return None


def learner_to_assist(user, learner_id: int) -> Learner:
    """The learner `user` may help on the team's device (`NotFoundError`, `NotAllowedError`)."""
    learner = db.session.get(Learner, learner_id)
    if learner is None or learner.is_deleted:
        raise NotFoundError("not-found", _l("This page does not exist."))
    check(user, "assist_learners", learner)
    return learner
