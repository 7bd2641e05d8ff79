"""Progress batches: applied once, however often and however concurrently they are sent."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from lms.api import views
from lms.extensions import db
from lms.learning import progress_log
from lms.learning.models import Course, Enrollment, Lesson, LessonProgress, ProgressEvent
from tests.api.conftest import PASSWORD, Api, build_course, issue_token


def _lessons(course: Course) -> list[Lesson]:
    return list(db.session.scalars(select(Lesson).where(Lesson.course_id == course.id).order_by(Lesson.position)))


def _batch(course: Course, prefix: str = "evt") -> dict:
    first, second, third = _lessons(course)
    return {"events": [
        {"id": f"{prefix}-0001", "lesson_id": first.id, "kind": "view", "occurred_at": "2025-07-01T08:00:00+07:00"},
        {"id": f"{prefix}-0002", "lesson_id": first.id, "kind": "progress", "progress": 60, "seconds": 90},
        {"id": f"{prefix}-0003", "lesson_id": first.id, "kind": "complete", "seconds": 30},
        {"id": f"{prefix}-0004", "lesson_id": second.id, "kind": "progress", "progress": 40, "seconds": 20},
        {"id": f"{prefix}-0005", "lesson_id": third.id, "kind": "view"},
    ]}


def _counts(learner) -> tuple[int, int, int]:
    rows = db.session.scalars(select(LessonProgress).where(LessonProgress.learner_id == learner.id)).all()
    events = db.session.scalar(select(func.count()).select_from(ProgressEvent)
                               .where(ProgressEvent.learner_id == learner.id))
    return len(rows), events, sum(row.time_spent_seconds for row in rows)


def test_batch_is_applied_with_a_result_per_event(api, course, learner_user):
    response = api.post("/api/v1/progress", json=_batch(course))
    assert response.status_code == 200
    assert response.get_json() == {"results": [{"id": f"evt-000{n}", "status": "applied"} for n in range(1, 6)]}
    first, second, _ = _lessons(course)
    rows = {row.lesson_id: row for row in db.session.scalars(
        select(LessonProgress).where(LessonProgress.learner_id == learner_user.learner.id))}
    assert rows[first.id].progress == 100 and rows[first.id].completed_dt is not None
    assert rows[first.id].time_spent_seconds == 120
    assert rows[second.id].progress == 40 and rows[second.id].completed_dt is None
    assert _counts(learner_user.learner) == (3, 5, 140)


def test_the_same_batch_twice_counts_once(api, course, learner_user):
    api.post("/api/v1/progress", json=_batch(course))
    before = _counts(learner_user.learner)
    response = api.post("/api/v1/progress", json=_batch(course))
    assert response.status_code == 200
    assert {result["status"] for result in response.get_json()["results"]} == {"duplicate"}
    assert _counts(learner_user.learner) == before


def test_a_repeated_id_inside_one_batch_counts_once(api, course, learner_user):
    lesson = _lessons(course)[0]
    event = {"id": "same-id-01", "lesson_id": lesson.id, "kind": "progress", "progress": 10, "seconds": 60}
    results = api.post("/api/v1/progress", json={"events": [event, event]}).get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "duplicate"]
    assert _counts(learner_user.learner) == (1, 1, 60)


def test_events_for_unknown_lessons_are_rejected_alone(api, course, learner_user):
    lesson = _lessons(course)[0]
    response = api.post("/api/v1/progress", json={"events": [
        {"id": "good-event-1", "lesson_id": lesson.id, "kind": "view"},
        {"id": "bad-lesson-1", "lesson_id": 2_000_000_000, "kind": "view"},
    ]})
    assert response.status_code == 200
    assert response.get_json()["results"] == [
        {"id": "good-event-1", "status": "applied"},
        {"id": "bad-lesson-1", "status": "rejected", "code": "lesson-or-kind-invalid"},
    ]


def test_a_batch_that_loses_the_race_is_reapplied_as_duplicates(api, course, learner_user, monkeypatch):
    """The other copy of the batch commits between our check for seen ids and our commit."""
    learner = learner_user.learner
    real_commit = views._commit
    raced = []

    def commit_after_the_other_copy():
        if not raced:
            raced.append(True)
            db.session.rollback()  # our copy never reached the database...
            events = views.models.parse(views.models.ProgressBatch, _batch(course)).as_events()
            progress_log.apply_progress_events(db.session.get(type(learner), learner.id), events)
            db.session.commit()  # ...because the other copy got there first,
            raise IntegrityError("INSERT INTO progress_events", {}, sqlite3.IntegrityError("UNIQUE"))  # so ours fails
        real_commit()

    monkeypatch.setattr(views, "_commit", commit_after_the_other_copy)
    response = api.post("/api/v1/progress", json=_batch(course))
    assert response.status_code == 200
    assert {result["status"] for result in response.get_json()["results"]} == {"duplicate"}
    assert raced and _counts(learner) == (3, 5, 140)


def test_a_race_lost_twice_is_a_409(api, course, monkeypatch):
    def always_conflicts():
        raise IntegrityError("INSERT INTO progress_events", {}, sqlite3.IntegrityError("UNIQUE"))

    monkeypatch.setattr(views, "_commit", always_conflicts)
    response = api.post("/api/v1/progress", json=_batch(course))
    assert response.status_code == 409
    assert response.get_json()["code"] == "write-conflict"


def _purge(user_ids: list[int], course_ids: list[int]) -> None:
    from lms.accounts.models import LoginFailure, User
    from lms.audit.models import AuditEvent
    from lms.certs.models import Certificate
    from lms.learners.models import Consent, Learner
    from lms.learning.models import ApiToken, QuizAttempt, QuizQuestion

    session = db.session
    session.rollback()
    learner_ids = list(session.scalars(select(Learner.id).where(Learner.user_id.in_(user_ids))))
    session.execute(delete(Certificate).where(Certificate.learner_id.in_(learner_ids)))
    session.execute(delete(AuditEvent).where(or_(AuditEvent.learner_id.in_(learner_ids),
                                                 AuditEvent.actor_id.in_(user_ids))))
    from lms.quality.models import QualityFlag

    for model in (QualityFlag, ProgressEvent, QuizAttempt, LessonProgress, Enrollment, Consent):
        session.execute(delete(model).where(model.learner_id.in_(learner_ids)))
    session.execute(delete(ApiToken).where(ApiToken.user_id.in_(user_ids)))
    session.execute(delete(LoginFailure).where(LoginFailure.key.like("account:api-race%")))
    session.execute(delete(Learner).where(Learner.id.in_(learner_ids)))
    session.execute(delete(User).where(User.id.in_(user_ids)))
    for model in (QuizQuestion, Lesson):
        session.execute(delete(model).where(model.course_id.in_(course_ids)))
    session.execute(delete(Course).where(Course.id.in_(course_ids)))
    session.commit()


@pytest.fixture
def committed(app, db_session):
    """Sessions on the real engine, one per request, so concurrent requests really race."""
    rolled_back = db.session
    db.session = db._make_scoped_session({})
    created = {"users": [], "courses": []}
    try:
        with app.app_context():
            yield created
    finally:
        with app.app_context():
            _purge(created["users"], created["courses"])
            db.session.remove()
        db.session = rolled_back


def test_two_copies_of_a_batch_sent_at_once_count_once(app, committed):
    """On PostgreSQL the loser's insert waits for the winner, fails on the unique constraint and is
    re-applied; on SQLite writers queue at BEGIN IMMEDIATE. Either way: counted once."""
    from lms.accounts.operations import sign_up_learner
    from lms.units.queries import unit_by_code

    course = build_course("api-race-course")
    committed["courses"].append(course.id)
    user = sign_up_learner(full_name="Lê Thị Đua", login="api-race-learner", password=PASSWORD,
                           commune=unit_by_code("commune", "00070"), village=None, consent_given=True, locale="vi")
    committed["users"].append(user.id)
    learner_id = user.learner.id
    batch = _batch(course, prefix="race")
    db.session.commit()
    db.session.remove()  # hold no transaction (on SQLite, no write lock) while the requests run
    token = issue_token(app.test_client(), "api-race-learner")
    # Use the token once first: its last use is then not due for recording for a minute, and
    # that row update would otherwise queue the two requests one behind the other.
    Api(app.test_client(), token).get("/api/v1/courses")
    barrier, responses = threading.Barrier(2), []

    def send():
        api = Api(app.test_client(), token)
        barrier.wait()
        responses.append(api.post("/api/v1/progress", json=batch))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [r.status_code for r in responses] == [200, 200], [r.get_json() for r in responses]
    outcomes = sorted({result["status"] for result in r.get_json()["results"]}.pop() for r in responses)
    assert outcomes == ["applied", "duplicate"]
    db.session.remove()
    from lms.learners.models import Learner

    assert _counts(db.session.get(Learner, learner_id)) == (3, 5, 140)


@pytest.mark.parametrize("payload, code, field", [
    ({"events": [{"id": "evt-00001", "lesson_id": 1, "kind": "read"}]}, "invalid-request", "events[0].kind"),
    ({"events": [{"id": "short", "lesson_id": 1, "kind": "view"}]}, "invalid-request", "events[0].id"),
    ({"events": [{"id": "x" * 65, "lesson_id": 1, "kind": "view"}]}, "invalid-request", "events[0].id"),
    ({"events": [{"id": "evt-00001", "lesson_id": True, "kind": "view"}]}, "invalid-request", "events[0].lesson_id"),
    ({"events": [{"id": "evt-00001", "lesson_id": "1", "kind": "view"}]}, "invalid-request", "events[0].lesson_id"),
    ({"events": [{"id": "evt-00001", "lesson_id": 2**63, "kind": "view"}]}, "invalid-request",
     "events[0].lesson_id"),
    ({"events": [{"id": "evt-00001", "lesson_id": 1, "kind": "progress", "progress": 101}]}, "invalid-request",
     "events[0].progress"),
    ({"events": [{"id": "evt-00001", "lesson_id": 1, "kind": "view", "seconds": -1}]}, "invalid-request",
     "events[0].seconds"),
    ({"events": [{"id": "evt-00001", "lesson_id": 1, "kind": "view", "occurred_at": "2025-07-01T08:00:00"}]},
     "invalid-request", "events[0].occurred_at"),
    ({"events": [{"id": "evt-00001", "lesson_id": 1, "kind": "view", "occurred_at": "2025-02-30T08:00:00Z"}]},
     "invalid-request", "events[0].occurred_at"),
    ({"events": [{"id": "evt-00001", "lesson_id": 1, "kind": "view", "extra": 1}]}, "invalid-request",
     "events[0].extra"),
    ({"events": [{"id": "evt-00001", "kind": "view"}]}, "invalid-request", "events[0].lesson_id"),
    ({"events": ["evt-00001"]}, "invalid-request", "events[0]"),
    ({"events": {}}, "invalid-request", "events"),
    ({}, "invalid-request", "events"),
    ([], "invalid-request", "body"),
    ({"events": []}, "no-events", "events"),
    ({"events": [{"id": f"evt-{n:05}", "lesson_id": 1, "kind": "view"} for n in range(501)]},
     "too-many-events", "events"),
])
def test_bad_batches_are_400_with_a_stable_code(api, course, learner_user, payload, code, field):
    response = api.post("/api/v1/progress", json=payload)
    assert response.status_code == 400
    error = response.get_json()
    assert (error["code"], error.get("field")) == (code, field)
    assert _counts(learner_user.learner) == (0, 0, 0)


def test_bad_json_is_400_invalid_json(api):
    response = api.post("/api/v1/progress", data="{events: [", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid-json"


def test_a_full_batch_of_500_is_accepted(api, course, learner_user):
    lesson = _lessons(course)[0]
    events = [{"id": f"evt-{n:05}", "lesson_id": lesson.id, "kind": "progress", "progress": n % 100, "seconds": 1}
              for n in range(500)]
    response = api.post("/api/v1/progress", json={"events": events})
    assert response.status_code == 200
    assert len(response.get_json()["results"]) == 500
    assert _counts(learner_user.learner) == (1, 500, 500)



@pytest.mark.parametrize("occurred_at, accepted", [
    ("2025-07-01T08:30:00+07:00", True),
    ("2025-07-01t01:30:00.123456789z", True),
    ("2016-12-31T23:59:60Z", True),  # a leap second
    ("2025-07-01T08:30:00", False),  # no time zone
    ("2025-07-01 08:30:00Z", False),
    ("٢٠٢٥-07-01T08:30:00Z", False),
    ("0001-01-01T00:00:00+01:00", False),  # before the first representable instant
])
def test_event_times_are_rfc_3339(api, course, occurred_at, accepted):
    lesson = _lessons(course)[0]
    response = api.post("/api/v1/progress", json={"events": [
        {"id": "timed-event-1", "lesson_id": lesson.id, "kind": "view", "occurred_at": occurred_at}]})
    assert response.status_code == (200 if accepted else 400), response.get_json()


def test_in_background_mode_a_batch_is_accepted_and_me_progress_reads_it_back(app, api, course, learner_user,
                                                                               monkeypatch):
    """`PROGRESS_APPLY = "background"`: the answer says `accepted` before the effect is
    written; the learner's own /me/progress applies what waits first, so a phone reads
    back exactly what it sent, and a second read finds nothing waiting."""
    from lms.learning import progress_log

    monkeypatch.setitem(app.config, "PROGRESS_APPLY", progress_log.APPLY_IN_BACKGROUND)
    response = api.post("/api/v1/progress", json=_batch(course))
    assert [r["status"] for r in response.get_json()["results"]] == ["accepted"] * 5
    learner = learner_user.learner
    assert progress_log.has_waiting(learner.id)
    assert _counts(learner) == (0, 5, 0)  # stored, not yet applied
    again = api.post("/api/v1/progress", json=_batch(course))
    assert [r["status"] for r in again.get_json()["results"]] == ["duplicate"] * 5
    mine = api.get("/api/v1/me/progress").get_json()["courses"]
    assert [(c["course"], c["lessons_done"]) for c in mine] == [(course.slug, 1)]
    assert not progress_log.has_waiting(learner.id)
    assert _counts(learner) == (3, 5, 140)
    assert api.get("/api/v1/me/progress").get_json()["courses"] == mine


def test_in_background_mode_a_quiz_sent_after_waiting_lessons_completes_the_course_in_its_answer(
        app, api, course, learner_user, monkeypatch):
    """The phone sends its lessons, then the quiz it took offline: the lessons still wait
    for the applier, and the attempt applies them first, so its answer already says the
    course is complete (and the certificate exists), as it did before the applier."""
    from lms.certs.models import Certificate
    from lms.learning import progress_log
    from tests.api.test_quiz import answers_with

    monkeypatch.setitem(app.config, "PROGRESS_APPLY", progress_log.APPLY_IN_BACKGROUND)
    batch = {"events": [{"id": f"quiz-first-{n}", "lesson_id": lesson.id, "kind": "complete"}
                        for n, lesson in enumerate(_lessons(course))]}
    assert {r["status"] for r in api.post("/api/v1/progress", json=batch).get_json()["results"]} == {"accepted"}
    answer = api.post(f"/api/v1/courses/{course.slug}/quiz/attempts",
                      json={"id": "quiz-attempt-1", "answers": answers_with(course, 10)})
    assert answer.status_code == 201, answer.get_json()
    assert not progress_log.has_waiting(learner_user.learner.id)
    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.learner_id == learner_user.learner.id))
    assert enrollment.completed_dt is not None
    assert db.session.scalar(select(func.count()).select_from(Certificate)
                             .where(Certificate.learner_id == learner_user.learner.id)) == 1
