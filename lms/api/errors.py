"""API errors as RFC 9457 problem details, with a stable code and the right status.

Every error under `/api/` (and every JSON error of the site) is `application/problem+json`:
`type`, `title` (the HTTP status phrase), `status`, `detail` (for people, in the client's
language) and our machine-readable `code` (plus `field`, the request field at fault).
`type` is `about:blank`: the codes predate this format, programs already switch on
them, and we have no documentation pages to coin problem-type URIs for.

Operations raise `DomainError`s with a generic status (400 unless they say otherwise);
the API refines it: a well-formed request that an operation refuses (a quiz with
unanswered questions, a quiz before the lessons are done) is 422, a wrong login 401,
a throttled one 429. Problems with the request itself, found before any operation runs,
are `ApiError`s and keep their own status. Every 401 says how to authenticate.
"""

from __future__ import annotations

from http import HTTPStatus

from flask import Blueprint, Response, current_app, json

from lms.errors import DomainError
from lms.extensions import db

PROBLEM_MIMETYPE = "application/problem+json"


class ApiError(DomainError):
    """A problem with the request itself (shape, credentials, state), found by the API."""


class InvalidRequestError(ApiError):
    status = 400


class UnauthorizedError(ApiError):
    status = 401


class ForbiddenError(ApiError):
    status = 403


class ConflictError(ApiError):
    status = 409


# Operation codes whose HTTP status is not the generic one.
STATUS_BY_CODE = {"login-invalid": 401, "login-throttled": 429, "code-mistyped": 400, "certificate-unknown": 404}
INVALID_TOKEN_CODES = frozenset({"token-invalid"})


def status_of(error: DomainError) -> int:
    if isinstance(error, ApiError):
        return error.status
    if error.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[error.code]
    return 422 if error.status == 400 else error.status


def title_of(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_response(status: int, code: str, detail: str, field: str | None = None) -> Response:
    """The problem details answer (the body follows `lms.api.models.Problem`)."""
    body: dict[str, str | int] = {"type": "about:blank", "title": title_of(status), "status": status, "detail": detail, "code": code}
    if field:
        body["field"] = field
    response = current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)
    if status == 401:
        challenge = 'Bearer realm="api"'
        if code in INVALID_TOKEN_CODES:
            challenge += ', error="invalid_token"'
        response.headers["WWW-Authenticate"] = challenge
    if status == 429:
        response.headers["Retry-After"] = str(current_app.config["LOGIN_WINDOW_SECONDS"])
    return response


def init_blueprint(bp: Blueprint) -> None:
    @bp.errorhandler(DomainError)
    def domain_error(error: DomainError) -> Response:
        db.session.rollback()
        response = problem_response(status_of(error), error.code, error.message, error.field)
        retry_after = getattr(error, "retry_after", None)
        if retry_after:  # the limit's own window (verification misses, say)
            response.headers["Retry-After"] = str(retry_after)
        return response
