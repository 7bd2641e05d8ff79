"""The website's offline sync sends to the API with its session: the cookie plus the CSRF
token in `X-CSRFToken` (lms/api/auth.py). Same batch endpoint, same answers, same
exactly-once rules as a token client; a team member helping a learner on the team's
device is recorded as the helper."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.extensions import db
from lms.learning.models import Lesson, LessonProgress, ProgressEvent, QuizAttempt
from tests.api.conftest import Api, issue_token
from tests.conftest import csrf_token, post_form, right_answers


def _events(course, prefix: str) -> dict:
    lessons = db.session.scalars(select(Lesson).where(Lesson.course_id == course.id).order_by(Lesson.position)).all()
    return {"events": [{"id": f"{prefix}-event-{lesson.id:06d}", "lesson_id": lesson.id, "kind": "complete",
                        "occurred_at": "2026-01-05T08:00:00Z", "seconds": 60} for lesson in lessons]}


def _session_token(client) -> str:
    response = client.get("/offline/session")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    return response.get_json()["csrf_token"]


def _done(learner) -> int:
    return db.session.scalar(select(func.count()).select_from(LessonProgress).where(
        LessonProgress.learner_id == learner.id, LessonProgress.completed_dt.is_not(None)))


def test_the_session_with_its_csrf_header_sends_a_batch(client, login, course, learner_user):
    login(learner_user)
    session = client.get("/offline/session").get_json()
    assert session["learner"] == learner_user.learner.id
    assert session["progress_url"] == "/api/v1/progress"
    response = client.post(session["progress_url"], json=_events(course, "web"),
                           headers={"X-CSRFToken": session["csrf_token"]})
    assert response.status_code == 200, response.get_json()
    assert {r["status"] for r in response.get_json()["results"]} == {"applied"}
    assert _done(learner_user.learner) == 3
    again = client.post("/api/v1/progress", json=_events(course, "web"), headers={"X-CSRFToken": _session_token(client)})
    assert {r["status"] for r in again.get_json()["results"]} == {"duplicate"}


def test_the_cookie_alone_sends_nothing(client, login, course, learner_user):
    login(learner_user)
    for headers in ({}, {"X-CSRFToken": "not-a-token"}):
        response = client.post("/api/v1/progress", json=_events(course, "forged"), headers=headers)
        assert response.status_code == 401
        assert response.get_json()["code"] == "token-missing"
    assert _done(learner_user.learner) == 0


def test_a_page_without_a_login_has_no_learner(client):
    assert client.get("/offline/session").get_json()["learner"] is None


def test_two_devices_one_by_token_one_by_session_overlap_and_count_once(app, client, login, course, learner_user):
    """The phone's browser and the learner's app send overlapping events (the same ids
    from a copied queue, and other ids for the same lessons): each lesson completes once."""
    login(learner_user)
    other = Api(app.test_client(), issue_token(app.test_client(), learner_user.login_name))
    batch = _events(course, "shared")
    first = client.post("/api/v1/progress", json=batch, headers={"X-CSRFToken": _session_token(client)})
    second = other.post("/api/v1/progress", json=batch)
    third = other.post("/api/v1/progress", json=_events(course, "other-phone"))
    assert {r["status"] for r in first.get_json()["results"]} == {"applied"}
    assert {r["status"] for r in second.get_json()["results"]} == {"duplicate"}
    assert {r["status"] for r in third.get_json()["results"]} == {"applied"}
    assert _done(learner_user.learner) == 3
    assert db.session.scalar(select(func.count()).select_from(ProgressEvent).where(
        ProgressEvent.learner_id == learner_user.learner.id)) == 6


def test_a_quiz_attempt_from_the_phone_counts_once(client, login, course, learner_user):
    login(learner_user)
    client.post("/api/v1/progress", json=_events(course, "q"), headers={"X-CSRFToken": _session_token(client)})
    body = {"id": "attempt-from-phone-1", "answers": right_answers(course)}
    url = client.get("/offline/session").get_json()["quiz_url"].replace("__slug__", course.slug)
    first = client.post(url, json=body, headers={"X-CSRFToken": _session_token(client)})
    again = client.post(url, json=body, headers={"X-CSRFToken": _session_token(client)})
    assert first.status_code == 201 and first.get_json()["passed"]
    assert again.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(QuizAttempt).where(
        QuizAttempt.learner_id == learner_user.learner.id)) == 1


def test_a_team_member_helping_sends_for_the_learner_and_is_recorded(client, login, make, course, learner_user):
    helper = make.staff("team_member")
    db.session.commit()
    login(helper)
    response = post_form(client, f"/assist/{learner_user.learner.id}", {}, page="/courses")
    assert response.status_code == 302
    assert client.get("/offline/session").get_json()["learner"] == learner_user.learner.id
    response = client.post("/api/v1/progress", json=_events(course, "assisted"),
                           headers={"X-CSRFToken": csrf_token(client, "/courses")})
    assert response.status_code == 200, response.get_json()
    rows = db.session.scalars(select(LessonProgress).where(LessonProgress.learner_id == learner_user.learner.id)).all()
    assert len(rows) == 3 and {row.helped_by_id for row in rows} == {helper.id}
    events = db.session.scalars(select(ProgressEvent).where(ProgressEvent.learner_id == learner_user.learner.id)).all()
    assert {event.helped_by_id for event in events} == {helper.id}


def test_a_token_is_still_needed_to_revoke_a_token(client, login, learner_user):
    login(learner_user)
    response = client.delete("/api/v1/tokens/current", headers={"X-CSRFToken": _session_token(client)})
    assert response.status_code == 403
