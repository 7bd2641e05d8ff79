"""API v1, every route under /api/v1: parse the request, call an operation or a query, answer in JSON.

Each route is declared with `route(...)` (`openapi.py`): its request and answer models
(`models.py`) validate the body, build the JSON and write the OpenAPI document. Every
route authenticates the one way `auth.py` does (a bearer token, or none for the public
ones); certificates and statistics are read through their own rooms' queries.

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

import functools
from collections.abc import Callable
from contextlib import ExitStack
from typing import TypeVar

from flask import Blueprint, Response, current_app, g, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import certificates
from lms.accounts.operations import authenticate
from lms.api import auth, errors, models, openapi
from lms.certs import queries as certificate_queries
from lms.certs.verification import lookup_public_certificate
from lms.dbsetup import begin_writing, reads_before_writing, writes_on_get
from lms.errors import DomainError, NotFoundError
from lms.extensions import db
from lms.i18n import locale_code
from lms.learning import applier, operations, progress_log, queries
from lms.learning.models import Course, Lesson, QuizAttempt
from lms.statistics import queries as statistics_queries

bp = Blueprint("api", __name__, url_prefix="/api/v1")
errors.init_blueprint(bp)
router = openapi.Router(bp)
route = router.route

T = TypeVar("T")


@bp.before_request
def use_request_language() -> None:
    stack = ExitStack()
    stack.enter_context(force_locale(_language()))
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


def _language() -> str:
    """The language of the answer: `?lang=`, else Accept-Language, else Vietnamese."""
    languages = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang")
    if chosen is not None:
        if chosen not in languages:
            raise errors.InvalidRequestError("invalid-language", _l("The language must be vi or en."), field="lang")
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def _commit() -> None:
    """The request's one commit, which also records the token's use when it is due."""
    if g.get("api_token_touched") and not g.get("api_committed"):
        auth.touch_token(g.api_token)
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
    course = queries.course_by_slug(slug) if models.valid_slug(slug) else None
    if course is None:
        raise NotFoundError("course-not-found", _l("There is no such course."))
    return course


def _lesson(course: Course, lesson_slug: str) -> Lesson:
    lesson = queries.lesson_in_course(course, lesson_slug) if models.valid_slug(lesson_slug) else None
    if lesson is None:
        raise NotFoundError("lesson-not-found", _l("There is no such lesson in this course."))
    return lesson


def _stored_attempt(learner, client_id: str) -> QuizAttempt | None:
    return db.session.scalar(select(QuizAttempt).where(
        QuizAttempt.learner_id == learner.id, QuizAttempt.client_event_id == client_id))


@route("GET", "/openapi.json", summary="This document", public=True,
       answers={200: (None, "OpenAPI 3.1 document")})
def show_openapi():
    return openapi_document()


@functools.cache
def openapi_document() -> dict:
    """Written once per process from the routes' declarations (they do not change while it runs)."""
    return openapi.document(router)


@route("POST", "/tokens", summary="Log in and get a bearer token (failed logins are throttled)", public=True,
       body=models.TokenRequest, answers={201: (models.Token, "A new token")}, errors=(401, 403, 429))
def create_token(body: models.TokenRequest):
    try:
        user = authenticate(body.login, body.password, request.remote_addr)
    except DomainError:
        _commit()  # keep the recorded failure, so throttling counts it
        raise
    if user.must_change_password:
        raise errors.ForbiddenError("password-change-required", _l(
            "Your password was set by your digital team. Log in on the website and choose your own first."))
    secret = auth.issue_token(user, body.name)
    _commit()
    return models.Token(token=secret, token_type="Bearer"), 201  # noqa: S106  # nosec B106: the OAuth token type


@route("DELETE", "/tokens/current", summary="Log out: revoke the token of this request",
       answers={204: (None, "Revoked")})
def revoke_current_token():
    auth.revoke_token(auth.current_token())
    _commit()
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response


@route("GET", "/courses", summary="Published courses, in catalogue order",
       answers={200: (models.CourseList, "Courses")})
def list_courses():
    return models.CourseList(courses=[models.CourseSummary.of(course, locale_code())
                                      for course in queries.published_courses()])


@route("GET", "/courses/<slug>", summary="A course and its lessons", answers={200: (models.CourseDetail, "The course")},
       errors=(404,))
def show_course(slug: str):
    return models.CourseDetail.of(_course(slug), locale_code())


@route("GET", "/courses/<slug>/lessons/<lesson_slug>", summary="A lesson's text, with its neighbours",
       answers={200: (models.LessonDetail, "The lesson")}, errors=(404,))
def show_lesson(slug: str, lesson_slug: str):
    course = _course(slug)
    return models.LessonDetail.of(course, _lesson(course, lesson_slug), locale_code())


@route("GET", "/courses/<slug>/quiz", summary="The final quiz, without the answers",
       answers={200: (models.Quiz, "The quiz")}, errors=(404,))
def show_quiz(slug: str):
    course = _course(slug)
    questions = operations.active_questions(course)
    if not questions:
        raise NotFoundError("quiz-unavailable", _l("This course has no quiz."))
    return models.Quiz.of(course, questions, locale_code())


@route("POST", "/courses/<slug>/enrollment", summary="Enrol in a course (idempotent)",
       answers={200: (models.EnrollmentAnswer, "Already enrolled"), 201: (models.EnrollmentAnswer, "Enrolled")},
       errors=(403, 404, 409))
def enroll(slug: str):
    learner = auth.current_learner()
    course = _course(slug)

    def work():
        existing = queries.enrollment_for(learner, course)
        return existing or operations.enroll(learner, course), existing is None

    enrollment, created = _write_once(work)
    return models.EnrollmentAnswer.of(enrollment, course), 201 if created else 200


@route("POST", "/progress", summary="Send a batch of reading events; each id counts once, however often it is sent",
       body=models.ProgressBatch, answers={200: (models.ProgressResults, "One result per event, in order")},
       errors=(403, 404, 409))
@reads_before_writing
def record_progress(body: models.ProgressBatch):
    learner_id = auth.current_learner().id
    helper_id = getattr(auth.current_helper(), "id", None)
    events = body.as_events()

    def work():
        begin_writing(db.session)  # the token is read: SQLite's writer lock only for storing the batch
        return progress_log.record_batch(learner_id, events, helper_id=helper_id)

    results = _write_once(work)
    if any(result["status"] == "accepted" for result in results):
        applier.wake(current_app)  # committed: the worker's applier writes their effect now
    return models.ProgressResults.model_validate({"results": results})


@route("POST", "/courses/<slug>/quiz/attempts",
       summary="Submit a quiz attempt; resending the same id returns the stored attempt",
       body=models.QuizSubmission, answers={200: (models.QuizResult, "This id was already submitted"),
                                            201: (models.QuizResult, "Scored and recorded")},
       errors=(403, 404, 409, 422))
def submit_quiz(slug: str, body: models.QuizSubmission):
    learner = auth.current_learner()
    course = _course(slug)

    def work():
        if progress_log.has_waiting(learner.id):  # lessons just sent from the phone count for this attempt
            progress_log.apply_pending(learner_id=learner.id)
        stored = _stored_attempt(learner, body.id)
        if stored is None:
            return operations.submit_quiz(learner, course, body.answers, client_event_id=body.id,
                                          helper=auth.current_helper()), True
        if stored.course_id != course.id:
            raise errors.ConflictError("attempt-id-reused", _l("This attempt id was already used for another course."))
        return stored, False

    attempt, created = _write_once(work)
    answer = models.QuizResult.of(attempt, course, operations.active_questions(course), locale_code(),
                                  queries.enrollment_for(learner, course))
    return answer, 201 if created else 200


@route("GET", "/me/progress", summary="The learner's courses and how far they got",
       answers={200: (models.MyProgress, "Progress per enrolled course")}, errors=(403,))
@writes_on_get
def show_my_progress():
    learner = auth.current_learner()
    if progress_log.has_waiting(learner.id):  # what this phone just sent, read back as it sent it
        _write_once(lambda: progress_log.apply_pending(learner_id=learner.id))
    return models.MyProgress(courses=[models.CourseProgressAnswer.of(item, locale_code())
                                      for item in queries.my_learning(learner)])


@route("GET", "/certificates/<code>", summary="Check a certificate by its verification code", public=True,
       answers={200: (models.CertificateAnswer, "The certificate as issued, and whether it still stands (never "
                                                "why it was revoked)")},
       errors=(404, 429))
@writes_on_get  # a miss is recorded (lms.certs.verification)
def show_certificate(code: str):
    """The same facts as the public verification page (`lms.certs`), as JSON, under the
    same limit on misses per address."""
    certificate = lookup_public_certificate(code, request.remote_addr)[1]
    db.session.commit()  # the miss counts even when the answer is a 404
    if certificate is None:
        raise NotFoundError("certificate-unknown", _l("No certificate has this code."))
    return models.CertificateAnswer(certificate=models.CertificateFacts(
        status=certificate.status, serial=certificate.serial,
        verification_code=certificates.format_code(certificate.verification_code),
        full_name=certificate.full_name,
        course_title=models.CourseTitle(vi=certificate.course_title_vi, en=certificate.course_title_en),
        completed_on=certificate.completed_on, commune_name=certificate.commune_name,
        province_name=certificate.province_name, revoked_dt=certificate.revoked_dt,
        verify_url=certificate_queries.verify_url(certificate)))


@route("GET", "/statistics/units/<int:unit_id>",
       summary="Figures of a unit, its child units, months, courses and groups (staff: their unit and below)",
       answers={200: (models.UnitStatistics, "Sums of the statistics counters")}, errors=(403, 404))
def show_unit_statistics(unit_id: int):
    unit = statistics_queries.official_unit(unit_id)
    if unit is None or not unit.is_current:
        raise NotFoundError("unit-not-found", _l("No such unit."))
    statistics_queries.readable(auth.current_user(), unit)  # NotAllowedError out of scope
    sort = request.args.get("sort", "name")
    board = statistics_queries.dashboard(unit, sort if sort in statistics_queries.SORT_KEYS else "name",
                                         request.args.get("dir") == "desc")
    return models.UnitStatistics.of(unit, board)
