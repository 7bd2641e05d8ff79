"""API v1: parse the request, call an operation or a query, answer in JSON.

A view that writes commits once, through `_write_once`: API clients retry whatever did
not get an answer, so two copies of one request may race. The client ids of progress
events and quiz attempts are unique per learner. Progress events are appended with an
insert that skips ids already stored (it waits for a copy still in flight), so the
other copy's events come back as duplicates. For the rest (a quiz attempt, a first
enrolment), if the other copy commits first, our insert or commit fails on the
constraint and the work is done again once on a fresh transaction, where the operation
sees the other copy's rows instead of counting them twice.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import TypeVar

from flask import Blueprint, Response, g, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.accounts.operations import authenticate
from lms.api import auth, errors, openapi, schemas
from lms.errors import DomainError, NotFoundError
from lms.extensions import db
from lms.i18n import locale_code
from lms.learning import operations, queries
from lms.learning.models import Course, Lesson, QuizAttempt

bp = Blueprint("api", __name__, url_prefix="/api/v1")
errors.init_blueprint(bp)

T = TypeVar("T")


@bp.before_request
def use_request_language() -> None:
    stack = ExitStack()
    stack.enter_context(force_locale(schemas.language()))
    g.api_language = stack


bp.before_request(auth.load_token_user)


@bp.after_request
def finish(response: Response) -> Response:
    if response.status_code < 400 and g.get("api_token_touched") and not g.get("api_committed"):
        _commit()  # a read request that recorded the token's use
    response.vary.add("Accept-Language")
    response.headers["Cache-Control"] = "no-store"  # tokens and personal progress: never in a shared cache
    return response


@bp.teardown_request
def leave_request_language(_error=None) -> None:
    stack = g.pop("api_language", None)
    if stack is not None:
        stack.close()
    for name in ("api_token", "api_user", "api_token_touched", "api_committed", "api_session", "api_helper"):
        g.pop(name, None)


def _commit() -> None:
    """The request's one commit."""
    db.session.commit()
    g.api_committed = True


def _write_once(work: Callable[[], T]) -> T:
    """Run `work` and commit; if a concurrent copy of the request won a unique constraint, run it again once."""
    try:
        result = work()
        _commit()
    except IntegrityError:
        db.session.rollback()
        try:
            result = work()
            _commit()
        except IntegrityError:
            db.session.rollback()
            raise errors.ConflictError("write-conflict", _l(
                "The same data was changed at the same moment. Please send the request again.")) from None
    return result


def _course(slug: str) -> Course:
    course = queries.course_by_slug(slug) if schemas.valid_slug(slug) else None
    if course is None:
        raise NotFoundError("course-not-found", _l("There is no such course."))
    return course


def _lesson(course: Course, lesson_slug: str) -> Lesson:
    lesson = queries.lesson_in_course(course, lesson_slug) if schemas.valid_slug(lesson_slug) else None
    if lesson is None:
        raise NotFoundError("lesson-not-found", _l("There is no such lesson in this course."))
    return lesson


def _stored_attempt(learner, client_id: str) -> QuizAttempt | None:
    return db.session.scalar(select(QuizAttempt).where(
        QuizAttempt.learner_id == learner.id, QuizAttempt.client_event_id == client_id))


@bp.get("/openapi.json")
@auth.public
def show_openapi():
    return openapi.DOCUMENT


@bp.post("/tokens")
@auth.public
def create_token():
    data = schemas.parse_token_request(schemas.json_body())
    try:
        user = authenticate(data.login, data.password, request.remote_addr)
    except DomainError:
        _commit()  # keep the recorded failure, so throttling counts it
        raise
    if user.must_change_password:
        raise errors.ForbiddenError("password-change-required", _l(
            "Your password was set by your digital team. Log in on the website and choose your own first."))
    secret = auth.issue_token(user, data.name)
    _commit()
    return {"token": secret, "token_type": "Bearer"}, 201  # nosec B105: the OAuth token type, not a password


@bp.delete("/tokens/current")
def revoke_current_token():
    auth.revoke_token(auth.current_token())
    _commit()
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response


@bp.get("/courses")
def list_courses():
    return {"courses": [schemas.course_summary(course, locale_code()) for course in queries.published_courses()]}


@bp.get("/courses/<slug>")
def show_course(slug: str):
    return schemas.course_detail(_course(slug), locale_code())


@bp.get("/courses/<slug>/lessons/<lesson_slug>")
def show_lesson(slug: str, lesson_slug: str):
    course = _course(slug)
    return schemas.lesson_detail(course, _lesson(course, lesson_slug), locale_code())


@bp.get("/courses/<slug>/quiz")
def show_quiz(slug: str):
    course = _course(slug)
    questions = operations.active_questions(course)
    if not questions:
        raise NotFoundError("quiz-unavailable", _l("This course has no quiz."))
    return schemas.quiz(course, questions, locale_code())


@bp.post("/courses/<slug>/enrollment")
def enroll(slug: str):
    learner = auth.current_learner()
    course = _course(slug)

    def work():
        existing = queries.enrollment_for(learner, course)
        return existing or operations.enroll(learner, course), existing is None

    enrollment, created = _write_once(work)
    return schemas.enrollment(enrollment, course), 201 if created else 200


@bp.post("/progress")
def record_progress():
    learner = auth.current_learner()
    events = schemas.parse_progress_batch(schemas.json_body())
    helper = auth.current_helper()
    results = _write_once(lambda: operations.apply_progress_events(learner, events, helper=helper))
    return {"results": results}


@bp.post("/courses/<slug>/quiz/attempts")
def submit_quiz(slug: str):
    learner = auth.current_learner()
    course = _course(slug)
    submission = schemas.parse_quiz_submission(schemas.json_body())

    def work():
        stored = _stored_attempt(learner, submission.id)
        if stored is None:
            return operations.submit_quiz(learner, course, submission.answers, client_event_id=submission.id,
                                          helper=auth.current_helper()), True
        if stored.course_id != course.id:
            raise errors.ConflictError("attempt-id-reused", _l("This attempt id was already used for another course."))
        return stored, False

    attempt, created = _write_once(work)
    body = schemas.quiz_attempt(attempt, course, operations.active_questions(course), locale_code(),
                                queries.enrollment_for(learner, course))
    return body, 201 if created else 200


@bp.get("/me/progress")
def show_my_progress():
    learner = auth.current_learner()
    return {"courses": [schemas.course_progress(item, locale_code()) for item in queries.my_learning(learner)]}
