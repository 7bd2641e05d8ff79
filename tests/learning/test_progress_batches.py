"""A batch of progress events ends where the same events applied one by one end.

`apply_progress_events` applies a batch with a fixed number of statements (the offline
client sends 20 at a time); `record_lesson_progress` is the one-event rule the lesson
pages use. Random batches must leave the same progress rows, enrolments, completions,
certificates and counters either way.
"""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from lms.certs.models import Certificate
from lms.extensions import db
from lms.learning import operations, progress_log
from lms.learning.models import Enrollment, Lesson, LessonProgress, QuizAttempt
from lms.statistics.recount import compare
from tests.api.conftest import build_course


def _state(learner) -> tuple:
    rows = db.session.scalars(select(LessonProgress).where(LessonProgress.learner_id == learner.id)
                              .order_by(LessonProgress.lesson_id)).all()
    enrollments = db.session.scalars(select(Enrollment).where(Enrollment.learner_id == learner.id)
                                     .order_by(Enrollment.course_id)).all()
    certificates = db.session.scalars(select(Certificate.course_id).where(Certificate.learner_id == learner.id)).all()
    return ([(r.lesson_id, r.progress, r.time_spent_seconds, r.completed_dt is not None) for r in rows],
            [(e.course_id, e.last_lesson_id, e.started_dt is not None, e.completed_dt is not None) for e in enrollments],
            sorted(certificates))


def _passed(learner, course) -> None:
    """A passed attempt, as if the quiz had been taken before a lesson was added to the course."""
    db.session.add(QuizAttempt(learner_id=learner.id, course_id=course.id, course_version=course.version, answers={},
                               correct_count=10, question_count=10, score_percent=100, is_passed=True))


@pytest.mark.parametrize("seed", range(6))
def test_a_batch_ends_where_the_same_events_one_by_one_end(make, seed):
    rng = random.Random(seed)
    courses = [build_course(f"batch-course-{seed}-{n}", lessons=4) for n in range(2)]
    lessons = [lesson for course in courses for lesson in
               db.session.scalars(select(Lesson).where(Lesson.course_id == course.id).order_by(Lesson.position))]
    batched, single = make.learner().learner, make.learner().learner
    if seed % 2:  # the quiz already passed: finishing the last lesson completes the course
        for learner in (batched, single):
            _passed(learner, courses[0])
    events = _random_events(rng, lessons, f"event-{seed}")
    for start in range(0, len(events), 20):
        progress_log.apply_progress_events(batched, events[start:start + 20])
    seen = set()
    by_id = {lesson.id: lesson for lesson in lessons}
    for event in events:
        if event["id"] in seen:
            continue
        seen.add(event["id"])
        progress = 100 if event["kind"] == "complete" else max(0, min(100, event["progress"] or 0))
        operations.record_lesson_progress(single, by_id[event["lesson_id"]], progress, seconds=event["seconds"])
    db.session.flush()
    state_batched, state_single = _state(batched), _state(single)
    assert [row[0] for row in state_batched[0]] == [row[0] for row in state_single[0]]
    assert state_batched == state_single
    assert compare() == []


def test_the_last_lesson_in_a_batch_completes_the_course_once(make):
    course = build_course("batch-completion", lessons=3)
    lessons = db.session.scalars(select(Lesson).where(Lesson.course_id == course.id).order_by(Lesson.position)).all()
    learner = make.learner().learner
    _passed(learner, course)
    batch = [{"id": f"finish-{n:04d}", "lesson_id": lesson.id, "kind": "complete", "seconds": 60}
             for n, lesson in enumerate(lessons)]
    results = progress_log.apply_progress_events(learner, batch)
    assert [r["status"] for r in results] == ["applied"] * 3
    again = progress_log.apply_progress_events(learner, batch)
    assert [r["status"] for r in again] == ["duplicate"] * 3
    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.learner_id == learner.id))
    assert enrollment.completed_dt is not None
    certificates = db.session.scalars(select(Certificate).where(Certificate.learner_id == learner.id)).all()
    assert len(certificates) == 1
    assert compare() == []


def _random_events(rng: random.Random, lessons: list, prefix: str, count: int = 40) -> list[dict]:
    events = []
    for n in range(count):
        kind = rng.choice(["view", "progress", "progress", "complete"])
        event = {"id": f"{prefix}-{n:03d}", "lesson_id": rng.choice(lessons).id, "kind": kind,
                 "progress": rng.randint(-5, 120), "seconds": rng.randint(-10, 5000)}
        events.append(event)
        if rng.random() < 0.15:
            events.append(dict(event))  # a copy: counts once
    return events


@pytest.mark.parametrize("seed", range(4))
def test_events_of_many_learners_applied_in_one_group_end_where_each_batch_applied_at_once_ends(make, seed):
    """The background applier's path: batches of several learners stored, interleaved and
    retried, then applied together by one `apply_pending`; each learner ends where the
    same batches applied in their own requests end."""
    from lms.db import utcnow
    from lms.learning import progress_log

    rng = random.Random(100 + seed)
    courses = [build_course(f"group-course-{seed}-{n}", lessons=3) for n in range(2)]
    lessons = [lesson for course in courses for lesson in
               db.session.scalars(select(Lesson).where(Lesson.course_id == course.id).order_by(Lesson.position))]
    pairs = [(make.learner().learner, make.learner().learner) for _ in range(4)]
    batches = []
    for number, (grouped, alone) in enumerate(pairs):
        if rng.random() < 0.5:
            for learner in (grouped, alone):
                _passed(learner, courses[0])
        events = _random_events(rng, lessons, f"g{seed}-{number}")
        batches += [(grouped, alone, events[start:start + 20]) for start in range(0, len(events), 20)]
    rng.shuffle(batches)  # phones send in any order; a learner's own batches keep theirs below
    order = sorted(range(len(batches)), key=lambda i: (batches[i][0].id, i))
    for i in order:
        progress_log.apply_progress_events(batches[i][1], batches[i][2])
    for grouped, _, batch in [batches[i] for i in order]:
        progress_log.store_events(grouped.id, batch, helper_id=None, now=utcnow())
        if rng.random() < 0.3:  # a retried batch: stored once
            progress_log.store_events(grouped.id, batch, helper_id=None, now=utcnow())
    assert progress_log.apply_pending() > 0
    assert progress_log.apply_pending() == 0  # each event taken once
    db.session.flush()
    db.session.expire_all()
    for grouped, alone in pairs:
        assert _state(grouped) == _state(alone)
    assert compare() == []


def test_a_quiz_passed_while_the_lessons_wait_completes_the_course_when_they_are_applied(app, make, monkeypatch):
    from lms.learning import progress_log

    monkeypatch.setitem(app.config, "PROGRESS_APPLY", progress_log.APPLY_IN_BACKGROUND)
    course = build_course("waiting-lessons", lessons=2)
    lessons = db.session.scalars(select(Lesson).where(Lesson.course_id == course.id).order_by(Lesson.position)).all()
    learner = make.learner().learner
    batch = [{"id": f"wait-{n:04d}", "lesson_id": lesson.id, "kind": "complete"} for n, lesson in enumerate(lessons)]
    assert [r["status"] for r in progress_log.apply_progress_events(learner, batch)] == ["accepted"] * 2
    assert progress_log.has_waiting(learner.id)
    assert db.session.scalar(select(LessonProgress.id).where(LessonProgress.learner_id == learner.id)) is None
    _passed(learner, course)
    db.session.flush()
    assert progress_log.apply_pending(learner_id=learner.id) == 2
    db.session.flush()
    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.learner_id == learner.id))
    assert enrollment.completed_dt is not None
    assert len(db.session.scalars(select(Certificate).where(Certificate.learner_id == learner.id)).all()) == 1
    assert not progress_log.has_waiting(learner.id)
    assert compare() == []


def test_events_of_an_erased_learner_or_a_withdrawn_lesson_are_taken_and_change_nothing(make):
    from lms.db import utcnow
    from lms.learning import progress_log

    course = build_course("withdrawn-lesson", lessons=2)
    lessons = db.session.scalars(select(Lesson).where(Lesson.course_id == course.id).order_by(Lesson.position)).all()
    learner = make.learner().learner
    progress_log.store_events(learner.id, [{"id": "withdrawn-1", "lesson_id": lessons[0].id, "kind": "complete"}],
                              helper_id=None, now=utcnow())
    lessons[0].is_active = False
    db.session.flush()
    assert progress_log.apply_pending(learner_id=learner.id) == 1
    assert db.session.scalar(select(Enrollment.id).where(Enrollment.learner_id == learner.id)) is None
    assert not progress_log.has_waiting(learner.id)
    assert compare() == []
