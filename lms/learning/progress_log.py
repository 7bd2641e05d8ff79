"""The progress event log: events stored by the request that receives them, applied in groups.

An offline phone sends what it queued in batches of 20 (`POST /api/v1/progress`), and a
whole province's phones may come back online at once. Storing a batch is one INSERT
into `progress_events` that skips client ids already there, so every event is kept
exactly once whatever the retries; that row is durable the moment the request commits.
Its *effect* (the lesson's progress row, the enrolment, a lesson or course completion,
the statistics counters) is written by `apply_pending`, for many events of many
learners at a time: one read of the waiting events, one of their progress rows, one
write of each, the completions checked once per enrolment that gained one.

When the effect is written depends on `PROGRESS_APPLY`:

- ``"request"``: in the request that stored the batch, in its one transaction (the
  answer says ``applied``). Tests and small installations.
- ``"background"``: a thread of each worker (`lms.learning.applier`), woken after each
  commit, applies whatever waits, oldest first, in groups; the answer says ``accepted``.
  Under load the groups grow by themselves, which is what makes a province coming online
  cost about what storing its events costs (docs/performance.md). The learner's own
  `/api/v1/me/progress` applies their waiting events first, so a phone that just synced
  reads back what it sent; officials' figures follow within a moment.

The rules are those of `operations.record_lesson_progress`, applied event by event in
the order they were stored: progress never goes down, reading time is clamped per event,
a lesson completes once (at the moment of the event that reached 100), and the course
may complete. `tests/learning/test_progress_batches.py` holds both paths to the same
result. An event whose lesson was withdrawn, or whose learner was erased, before it was
applied is marked applied and changes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import bindparam, select, text, tuple_, update
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import User
from lms.db import insert_skipping_duplicates, utcnow
from lms.extensions import db
from lms.learners.models import Learner
from lms.learning import content_cache, events
from lms.learning.models import Course, Enrollment, Lesson, LessonProgress, ProgressEvent, QuizAttempt
from lms.learning.operations import EVENT_KINDS, clamp_moment, enroll, try_complete

MAX_SECONDS_PER_EVENT = 3600
GROUP_SIZE = 2000  # events applied in one transaction

APPLY_IN_REQUEST = "request"
APPLY_IN_BACKGROUND = "background"

_events = ProgressEvent.__table__
_rows = LessonProgress.__table__
_WAITING = _events.c.applied_dt.is_(None)
_UPDATE_ROW = (update(_rows).where(_rows.c.id == bindparam("row_id"))
               .values(progress=bindparam("new_progress"), time_spent_seconds=bindparam("new_seconds"),
                       last_seen_dt=bindparam("new_seen"), completed_dt=bindparam("new_completed"),
                       helped_by_id=bindparam("new_helper")))
_LOCK_LEARNERS = text("SELECT id FROM unnest(CAST(:ids AS integer[])) AS learner(id) "
                      "WHERE pg_try_advisory_xact_lock(17, id)")  # 17: issue 17's key space
_MARK_APPLIED = update(_events).where(_events.c.id.in_(bindparam("ids", expanding=True))).values(
    applied_dt=bindparam("now"))


def apply_mode() -> str:
    return current_app.config.get("PROGRESS_APPLY", APPLY_IN_REQUEST)


_kept_ids: tuple = (None, frozenset())


def _lesson_ids(courses: dict) -> frozenset[int]:
    """The lesson ids of the cached content, worked out once per load of it."""
    global _kept_ids
    if _kept_ids[0] is not courses:
        _kept_ids = (courses, frozenset(lesson.id for course in courses.values() for lesson in course.lessons))
    return _kept_ids[1]


def _known_lessons(lesson_ids: set) -> set[int]:
    """Which of these are active lessons of published courses: the worker's content cache
    first (no query), the database for any it does not know (a course published on
    another server in the cache's last seconds must not have its events refused)."""
    cached = _lesson_ids(content_cache.courses())
    unknown = {i for i in lesson_ids if isinstance(i, int) and not isinstance(i, bool) and i not in cached}
    if unknown:
        cached = cached | set(db.session.scalars(select(Lesson.id).join(Course, Course.id == Lesson.course_id).where(
            Lesson.id.in_(unknown), Lesson.is_active.is_(True), Course.is_published.is_(True))))
    return cached


def clamp_progress(kind: str, progress) -> int:
    return 100 if kind == "complete" else max(0, min(100, int(progress or 0)))


def store_events(learner_id: int, batch: list[dict], *, helper_id: int | None, now: datetime) -> list[dict]:
    """Append a batch to the log; one result per event, in order: `stored` (new here),
    `duplicate` (this id was stored before, or earlier in this batch) or `rejected`.

    One INSERT … ON CONFLICT DO NOTHING RETURNING: the check and the insert are one
    statement, so two copies of a batch racing each other cannot both store an event."""
    lessons = _known_lessons({event.get("lesson_id") for event in batch})
    ids = [str(event.get("id")) for event in batch]
    results: list[dict] = [{"id": event_id, "status": "rejected", "code": "lesson-or-kind-invalid"} for event_id in ids]
    rows, seen = [], set()
    for position, event in enumerate(batch):
        if event.get("lesson_id") not in lessons or event.get("kind") not in EVENT_KINDS:
            continue
        if ids[position] in seen:
            results[position] = {"id": ids[position], "status": "duplicate"}
            continue
        seen.add(ids[position])
        rows.append(dict(learner_id=learner_id, client_event_id=ids[position], lesson_id=event["lesson_id"],
                         kind=event["kind"], progress=clamp_progress(event["kind"], event.get("progress")),
                         seconds=event.get("seconds"), occurred_dt=clamp_moment(event.get("occurred_at"), now),
                         received_dt=now, helped_by_id=helper_id))
    if not rows:
        return results
    added = set(db.session.scalars(_store_statement(db.session.get_bind().dialect.name), rows))
    for position, event_id in enumerate(ids):
        if results[position]["status"] == "rejected" and event_id in seen:
            results[position] = {"id": event_id, "status": "stored" if event_id in added else "duplicate"}
            added.discard(event_id)  # the first position of an id is the one that stored it
    return results


@functools.cache
def _store_statement(dialect: str):
    return insert_skipping_duplicates(_events, ("learner_id", "client_event_id"), dialect=dialect).returning(
        _events.c.client_event_id)


def apply_progress_events(learner, batch: list[dict], *, helper=None) -> list[dict]:
    """`record_batch` for a learner and helper as objects."""
    return record_batch(learner.id, batch, helper_id=getattr(helper, "id", None))


def record_batch(learner_id: int, batch: list[dict], *, helper_id: int | None = None) -> list[dict]:
    """Store a batch of client progress events in the log, each at most once, and apply
    them now or in the background (`PROGRESS_APPLY`).

    Every event is `{id, lesson_id, kind, progress?, seconds?, occurred_at?}`. Returns
    one result per event: `applied` (its effect is written, in this transaction),
    `accepted` (stored; a worker's applier writes its effect in a moment), `duplicate`
    (seen before: a retried batch) or `rejected` with an error code; a bad event does not
    stop the others. The rules are `record_lesson_progress`'s (progress never goes down,
    seconds clamped, a lesson completes once, the course may complete).
    """
    results = store_events(learner_id, batch, helper_id=helper_id, now=utcnow())
    if not any(result["status"] == "stored" for result in results):
        return results
    if apply_mode() == APPLY_IN_BACKGROUND:
        status = "accepted"
    else:
        apply_pending(learner_id=learner_id)
        status = "applied"
    return [{**result, "status": status} if result["status"] == "stored" else result for result in results]


def has_waiting(learner_id: int | None = None) -> bool:
    """Whether stored events wait to be applied (the learner's, or anyone's)."""
    query = select(_events.c.id).where(_WAITING).limit(1)
    if learner_id is not None:
        query = query.where(_events.c.learner_id == learner_id)
    return db.session.scalar(query) is not None


@dataclass
class _Pair:
    """What a group's events do to one learner's progress in one lesson."""

    learner_id: int
    lesson_id: int
    course_id: int
    progress: int = 0
    seconds: int = 0
    last_seen: datetime | None = None
    completed: datetime | None = None
    helper_id: int | None = None
    row_id: int | None = None
    was_completed: bool = False
    events: list = field(default_factory=list)


def apply_pending(*, learner_id: int | None = None, limit: int = GROUP_SIZE) -> int:
    """Write the effect of up to `limit` waiting events, oldest first (only `learner_id`'s
    if given); returns how many events were taken. Flushes; the caller commits.

    On PostgreSQL the waiting events are taken `FOR UPDATE SKIP LOCKED`, so the workers'
    appliers share the queue without waiting for each other, and the progress rows and
    enrolments they change are locked for the transaction; on SQLite the one writer
    already serialises them."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    query = (select(_events.c.id, _events.c.learner_id, _events.c.lesson_id, _events.c.progress, _events.c.seconds,
                    _events.c.occurred_dt, _events.c.received_dt, _events.c.helped_by_id)
             .where(_WAITING).order_by(_events.c.id).limit(limit))
    if learner_id is not None:
        query = query.where(_events.c.learner_id == learner_id)
    if postgres:
        query = query.with_for_update(skip_locked=True)
    waiting = db.session.execute(query).all()
    if postgres and waiting:
        # One applier per learner at a time: a phone's two batches may sit in two workers'
        # groups, which would then race to enrol it in the same course. Learners another
        # applier holds stay waiting for its next round (or ours).
        mine = set(db.session.scalars(_LOCK_LEARNERS, {"ids": sorted({e.learner_id for e in waiting})}))
        waiting = [e for e in waiting if e.learner_id in mine]
    if not waiting:
        return 0
    now = utcnow()
    lessons = dict(db.session.execute(
        select(Lesson.id, Lesson.course_id).join(Course, Course.id == Lesson.course_id)
        .where(Lesson.id.in_({e.lesson_id for e in waiting}), Lesson.is_active.is_(True),
               Course.is_published.is_(True))).all())
    present = set(db.session.scalars(select(Learner.id).where(
        Learner.id.in_({e.learner_id for e in waiting}), Learner.is_deleted.is_(False))))
    pairs: dict[tuple[int, int], _Pair] = {}
    for event in waiting:
        if event.lesson_id in lessons and event.learner_id in present:
            key = (event.learner_id, event.lesson_id)
            if key not in pairs:
                pairs[key] = _Pair(*key, lessons[event.lesson_id])
            pairs[key].events.append(event)
    if pairs:
        enrollments = _enrollments(pairs.values(), postgres, now)
        _load_rows(pairs, postgres)
        completed = _apply(pairs, enrollments)
        _write_rows(pairs.values())
        db.session.flush()
        _complete(completed, enrollments)
    db.session.execute(_MARK_APPLIED, {"ids": [e.id for e in waiting], "now": now})
    return len(waiting)


def _helper(helper_id: int | None):
    return db.session.get(User, helper_id) if helper_id is not None else None


def _enrollments(pairs: Iterable[_Pair], postgres: bool, now: datetime) -> dict[tuple[int, int], Enrollment]:
    """The enrolments the group touches, by (learner, course), locked on PostgreSQL.

    Missing ones are added in one flush (the counter writer counts each new object)
    instead of `operations.enroll` one by one: a province's first sync enrols every phone
    in every course it touched, and a savepoint and a counter write per enrolment was most
    of applying it. If a concurrent request enrolled one of them first, the flush fails on
    the unique key and they are enrolled one by one (`enroll` finds that one)."""
    wanted = {}
    for pair in pairs:
        wanted.setdefault((pair.learner_id, pair.course_id), pair)
    query = (select(Enrollment).where(tuple_(Enrollment.learner_id, Enrollment.course_id).in_(list(wanted)))
             .order_by(Enrollment.id))
    if postgres:
        query = query.with_for_update()  # in id order: two appliers never wait on each other in a circle
    found = {(e.learner_id, e.course_id): e for e in db.session.scalars(query)}
    missing = [key for key in sorted(wanted) if key not in found]
    if missing:
        added = []
        for learner_id, course_id in missing:
            helper_id = wanted[(learner_id, course_id)].events[0].helped_by_id
            added.append(Enrollment(learner_id=learner_id, course_id=course_id, enrolled_dt=now,
                                    enrolled_by_id=helper_id, is_assisted=helper_id is not None))
        try:
            with db.session.begin_nested():  # one flush for all; the counter writer counts each
                db.session.add_all(added)
            found.update({(e.learner_id, e.course_id): e for e in added})
        except IntegrityError:  # one was enrolled by a concurrent request a moment ago: one by one
            for learner_id, course_id in missing:
                pair = wanted[(learner_id, course_id)]
                found[(learner_id, course_id)] = enroll(
                    db.session.get(Learner, learner_id), db.session.get(Course, course_id),
                    helper=_helper(pair.events[0].helped_by_id))
    return found


def _load_rows(pairs: dict[tuple[int, int], _Pair], postgres: bool) -> None:
    """Each pair's progress row, the missing ones added first (an INSERT that skips rows a
    concurrent request added a moment ago), then read for update."""
    def read(keys):
        query = (select(_rows.c.id, _rows.c.learner_id, _rows.c.lesson_id, _rows.c.progress,
                        _rows.c.time_spent_seconds, _rows.c.last_seen_dt, _rows.c.completed_dt, _rows.c.helped_by_id)
                 .where(tuple_(_rows.c.learner_id, _rows.c.lesson_id).in_(list(keys))))
        if postgres:
            query = query.with_for_update()
        for row in db.session.execute(query):
            pair = pairs[(row.learner_id, row.lesson_id)]
            pair.row_id, pair.progress, pair.seconds = row.id, row.progress, row.time_spent_seconds
            pair.last_seen, pair.completed, pair.helper_id = row.last_seen_dt, row.completed_dt, row.helped_by_id
            pair.was_completed = row.completed_dt is not None

    read(pairs)
    missing = [pair for pair in pairs.values() if pair.row_id is None]
    if missing:
        statement = insert_skipping_duplicates(_rows, ("learner_id", "lesson_id"))
        db.session.execute(statement, [dict(
            learner_id=pair.learner_id, lesson_id=pair.lesson_id, progress=0, time_spent_seconds=0,
            first_seen_dt=pair.events[0].received_dt, last_seen_dt=pair.events[0].received_dt) for pair in missing])
        read((pair.learner_id, pair.lesson_id) for pair in missing)


def _apply(pairs: dict[tuple[int, int], _Pair], enrollments: dict) -> list[_Pair]:
    """The field rules, event by event in the order stored; returns the pairs whose lesson
    completed here."""
    completed = []
    for pair in pairs.values():
        enrollment = enrollments[(pair.learner_id, pair.course_id)]
        for event in pair.events:
            pair.progress = max(pair.progress, event.progress or 0)
            pair.seconds += max(0, min(int(event.seconds or 0), MAX_SECONDS_PER_EVENT))
            pair.last_seen = max(pair.last_seen, event.occurred_dt)
            if event.helped_by_id is not None:
                pair.helper_id = event.helped_by_id
                enrollment.is_assisted = True
            enrollment.started_dt = enrollment.started_dt or event.occurred_dt
            if pair.progress >= 100 and pair.completed is None:
                pair.completed = event.occurred_dt
        heard = pair.events[-1].received_dt
        if enrollment.last_activity_dt is None or enrollment.last_activity_dt < heard:
            enrollment.last_activity_dt = heard
        if pair.completed is not None and not pair.was_completed:
            completed.append(pair)
    # The lesson last read, by the order the events were stored in.
    last = {}
    for pair in pairs.values():
        key = (pair.learner_id, pair.course_id)
        if key not in last or pair.events[-1].id > last[key][0]:
            last[key] = (pair.events[-1].id, pair.lesson_id)
    for key, (_, lesson_id) in last.items():
        enrollments[key].last_lesson_id = lesson_id
    return completed


def _write_rows(pairs: Iterable[_Pair]) -> None:
    db.session.execute(_UPDATE_ROW, [dict(row_id=pair.row_id, new_progress=pair.progress, new_seconds=pair.seconds,
                                          new_seen=pair.last_seen, new_completed=pair.completed,
                                          new_helper=pair.helper_id) for pair in pairs])


def _complete(completed: list[_Pair], enrollments: dict) -> None:
    """Signal each lesson completed here, then ask whether its course is done, once per
    enrolment and only where the quiz is passed (one query for the group: most first
    syncs finish lessons before the quiz). The enrolments are locked already, so a quiz
    passed in a concurrent transaction is either seen here or sees these lessons."""
    touched: dict[int, tuple[Enrollment, _Pair]] = {}
    for pair in completed:
        enrollment = enrollments[(pair.learner_id, pair.course_id)]
        if events.lesson_completed.receivers:
            events.lesson_completed.send(db.session.get(LessonProgress, pair.row_id), enrollment=enrollment)
        if enrollment.completed_dt is None:
            touched.setdefault(enrollment.id, (enrollment, pair))
    if not touched:
        return
    passed = set(db.session.execute(select(QuizAttempt.learner_id, QuizAttempt.course_id).where(
        tuple_(QuizAttempt.learner_id, QuizAttempt.course_id).in_(
            {(e.learner_id, e.course_id) for e, _ in touched.values()}),
        QuizAttempt.is_passed.is_(True))).all())
    for enrollment, pair in touched.values():
        if (enrollment.learner_id, enrollment.course_id) in passed:
            helper_id = next((e.helped_by_id for e in reversed(pair.events) if e.helped_by_id is not None), None)
            try_complete(enrollment, helper=_helper(helper_id))
