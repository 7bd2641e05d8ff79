"""Write operations on learning progress. They flush; the request commits once.

Completion is recorded exactly once even under concurrent or repeated requests: the
enrolment row is completed by a conditional UPDATE (… WHERE completed_dt IS NULL), and
only the transaction whose UPDATE changed the row sends `course_completed`. Progress
events and quiz submissions from API clients carry a client-generated id with a unique
constraint per learner, so a retried batch is recognised and not counted twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from lms.db import utcnow
from lms.errors import DomainError, NotFoundError
from lms.extensions import db
from lms.learning import events
from lms.learning.models import (
    Course,
    Enrollment,
    Lesson,
    LessonProgress,
    QuizAttempt,
    QuizQuestion,
)


class LearningError(DomainError):
    pass


EVENT_KINDS = ("view", "progress", "complete")

# How far back a device may date an event it queued while offline.
MAX_EVENT_AGE = timedelta(days=366)


def clamp_moment(moment: datetime | None, now: datetime) -> datetime:
    """When an event happened, as reported by a device, kept within the last year and
    never in the future: a wrong phone clock must not move figures to another year."""
    if moment is None:
        return now
    return max(min(moment, now), now - MAX_EVENT_AGE)


def _helper_id(helper) -> int | None:
    return getattr(helper, "id", None)


def enroll(learner, course: Course, *, helper=None) -> Enrollment:
    """The learner's enrolment in `course`, created on first call (idempotent)."""
    if not course.is_published:
        raise NotFoundError("course-unavailable", _l("This course is not available."))
    enrollment = db.session.scalar(
        select(Enrollment).where(Enrollment.learner_id == learner.id, Enrollment.course_id == course.id))
    if enrollment is not None:
        return enrollment
    enrollment = Enrollment(learner_id=learner.id, course_id=course.id, enrolled_by_id=_helper_id(helper),
                            is_assisted=helper is not None)
    try:
        with db.session.begin_nested():
            db.session.add(enrollment)
    except IntegrityError:  # enrolled by a concurrent request a moment ago
        return db.session.scalar(
            select(Enrollment).where(Enrollment.learner_id == learner.id, Enrollment.course_id == course.id))
    events.enrolled.send(enrollment, helper=helper)
    return enrollment


def _progress_row(learner, lesson: Lesson, now: datetime) -> LessonProgress:
    row = db.session.scalar(select(LessonProgress).where(
        LessonProgress.learner_id == learner.id, LessonProgress.lesson_id == lesson.id))
    if row is not None:
        return row
    row = LessonProgress(learner_id=learner.id, lesson_id=lesson.id, progress=0, time_spent_seconds=0,
                         first_seen_dt=now, last_seen_dt=now)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        row = db.session.scalar(select(LessonProgress).where(
            LessonProgress.learner_id == learner.id, LessonProgress.lesson_id == lesson.id))
    return row


def record_lesson_progress(learner, lesson: Lesson, progress: int, *, seconds: int = 0, helper=None,
                           at: datetime | None = None, enrollment: Enrollment | None = None,
                           row: LessonProgress | None = None) -> LessonProgress:
    """Record that the learner read `lesson` up to `progress` percent.

    Progress never goes down; reaching 100 completes the lesson (once) and may
    complete the course. The learner is enrolled on the way if they were not.
    """
    if not lesson.is_active:
        raise NotFoundError("lesson-unavailable", _l("This lesson is no longer part of the course."))
    now = utcnow()
    at = clamp_moment(at, now)
    progress = max(0, min(100, int(progress)))
    enrollment = enrollment or enroll(learner, lesson.course, helper=helper)
    row = row or _progress_row(learner, lesson, now)
    _apply_progress(row, enrollment, lesson, progress, seconds, at, now, helper)
    if row.progress >= 100 and row.completed_dt is None:
        row.completed_dt = at
        db.session.flush()
        events.lesson_completed.send(row, enrollment=enrollment)
        try_complete(enrollment, helper=helper)
    return row


def complete_lesson(learner, lesson: Lesson, *, helper=None, seconds: int = 0) -> LessonProgress:
    return record_lesson_progress(learner, lesson, 100, seconds=seconds, helper=helper)


def lessons_done(learner, course: Course) -> tuple[int, int]:
    """(completed, total) active lessons of `course` for the learner."""
    active = [lesson.id for lesson in course.lessons]
    if not active:
        return 0, 0
    done = db.session.scalars(select(LessonProgress.lesson_id).where(
        LessonProgress.learner_id == learner.id, LessonProgress.lesson_id.in_(active),
        LessonProgress.completed_dt.is_not(None))).all()
    return len(set(done)), len(active)


def has_passed_quiz(learner, course: Course) -> bool:
    return db.session.scalar(select(QuizAttempt.id).where(
        QuizAttempt.learner_id == learner.id, QuizAttempt.course_id == course.id,
        QuizAttempt.is_passed.is_(True)).limit(1)) is not None


def try_complete(enrollment: Enrollment, *, helper=None) -> bool:
    """Complete the enrolment if every lesson is done and the quiz passed.

    Returns True only for the one call that recorded the completion.
    """
    if enrollment.completed_dt is not None:
        return False
    # On PostgreSQL, one decision per enrolment at a time: a quiz passed in one
    # transaction and the last lesson applied in another would each miss the other's
    # uncommitted row and neither would complete. The second waits here and then reads
    # the first's rows. (SQLite's one writer already serialises them; FOR UPDATE renders
    # nothing there.)
    db.session.execute(select(Enrollment.id).where(Enrollment.id == enrollment.id).with_for_update())
    course = enrollment.course
    from lms.learners.models import Learner

    learner = db.session.get(Learner, enrollment.learner_id)
    if not has_passed_quiz(learner, course):  # one indexed lookup; most calls stop here
        return False
    done, total = lessons_done(learner, course)
    if total == 0 or done < total:
        return False
    now = utcnow()
    # The claim: only the transaction whose UPDATE finds the row not yet completed goes
    # on (a concurrent one waits for the row lock, then finds it completed). It sets
    # only `completed_version`, which no figure reads; `completed_dt` is then set on the
    # object, so the statistics writer counts the completion once, in this flush.
    result = db.session.execute(
        update(Enrollment)
        .where(Enrollment.id == enrollment.id, Enrollment.completed_dt.is_(None))
        .values(completed_version=course.version)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(enrollment)
        return False
    enrollment.completed_dt = now
    enrollment.completed_version = course.version
    db.session.flush()
    events.course_completed.send(enrollment, helper=helper)
    return True


def active_questions(course: Course) -> list[QuizQuestion]:
    return list(db.session.scalars(select(QuizQuestion).where(
        QuizQuestion.course_id == course.id, QuizQuestion.is_active.is_(True)).order_by(QuizQuestion.position)))


def score_answers(questions: list[QuizQuestion], answers: dict[str, list[int]]) -> int:
    """Number of questions answered exactly right (all and only the correct choices)."""
    return sum(1 for q in questions if frozenset(answers.get(q.key, ())) == q.correct_indexes)


def _clean_answers(questions: list[QuizQuestion], answers: dict) -> dict[str, list[int]]:
    by_key = {q.key: q for q in questions}
    clean: dict[str, list[int]] = {}
    for key, chosen in (answers or {}).items():
        question = by_key.get(str(key))
        if question is None:
            raise LearningError("quiz-unknown-question", _l("The quiz has changed. Please reload it and answer again."))
        values = chosen if isinstance(chosen, list | tuple) else [chosen]
        try:
            indexes = sorted({int(v) for v in values})
        except (TypeError, ValueError):
            raise LearningError("quiz-invalid-answer", _l("An answer is not one of the choices.")) from None
        if any(i < 0 or i >= len(question.choices) for i in indexes):
            raise LearningError("quiz-invalid-answer", _l("An answer is not one of the choices."))
        if len(indexes) > 1 and not question.is_multiple:
            raise LearningError("quiz-invalid-answer", _l("Choose only one answer for this question."))
        clean[question.key] = indexes
    missing = [q for q in questions if not clean.get(q.key)]
    if missing:
        raise LearningError("quiz-incomplete", _l("Please answer every question ({count} left)."),
                            count=len(missing))
    return clean


def submit_quiz(learner, course: Course, answers: dict, *, helper=None,
                client_event_id: str | None = None) -> QuizAttempt:
    """Score a quiz attempt against the current questions and record it (append-only).

    Every attempt is kept; the course counts as passed once any attempt reaches the
    pass mark. With a `client_event_id`, resubmitting the same attempt returns the
    stored one instead of recording it twice.
    """
    if client_event_id:
        existing = db.session.scalar(select(QuizAttempt).where(
            QuizAttempt.learner_id == learner.id, QuizAttempt.client_event_id == client_event_id))
        if existing is not None:
            return existing
    questions = active_questions(course)
    if not questions:
        raise NotFoundError("quiz-unavailable", _l("This course has no quiz."))
    done, total = lessons_done(learner, course)
    if done < total:
        raise LearningError("quiz-locked", _l("Finish every lesson before the quiz ({done} of {total} done)."),
                            done=done, total=total)
    clean = _clean_answers(questions, answers)
    correct = score_answers(questions, clean)
    score = round(100 * correct / len(questions))
    enrollment = enroll(learner, course, helper=helper)
    attempt = QuizAttempt(learner_id=learner.id, course_id=course.id, course_version=course.version,
                          answers=clean, correct_count=correct, question_count=len(questions),
                          score_percent=score, is_passed=score >= course.pass_mark,
                          helped_by_id=_helper_id(helper), client_event_id=client_event_id)
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except IntegrityError:  # the same client id arrived twice at once
        return db.session.scalar(select(QuizAttempt).where(
            QuizAttempt.learner_id == learner.id, QuizAttempt.client_event_id == client_event_id))
    if helper is not None:
        enrollment.is_assisted = True
    enrollment.last_activity_dt = utcnow()
    events.quiz_submitted.send(attempt)
    if attempt.is_passed:
        try_complete(enrollment, helper=helper)
    return attempt


def _apply_progress(row: LessonProgress, enrollment: Enrollment, lesson: Lesson, progress: int, seconds,
                    at: datetime, now: datetime, helper) -> None:
    """The field rules of one event (progress never goes down, seconds clamped), shared by
    `record_lesson_progress` and the batch path; no queries, no flush."""
    row.progress = max(row.progress, progress)
    row.time_spent_seconds += max(0, min(int(seconds or 0), 3600))
    row.last_seen_dt = max(row.last_seen_dt, at)
    if helper is not None:
        row.helped_by_id = helper.id
        enrollment.is_assisted = True
    enrollment.started_dt = enrollment.started_dt or at
    enrollment.last_activity_dt = now
    enrollment.last_lesson_id = lesson.id
