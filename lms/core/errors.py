"""Error pages in the user's language, and JSON errors (RFC 9457 problem details) for the API.

When the database cannot be reached (a PostgreSQL restart, a dropped connection, a
full connection pool, SQLite locked for too long) the answer is 503 with Retry-After,
not a 500: the request's transaction is rolled back, and the same request sent again in
a moment works (API writes carry client ids, so a retry never counts twice).
"""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from lms.accounts.session import use_identity
from lms.api.errors import problem_response
from lms.errors import DomainError
from lms.extensions import db


def _messages():
    return {
        400: _("The request could not be understood. Please go back and try again."),
        403: _("You do not have access to this page."),
        404: _("This page does not exist."),
        405: _("This action is not available here."),
        413: _("The file is too large."),
        429: _("Too many requests. Please wait a moment and try again."),
        500: _("Something went wrong on our side. Your data is safe; please try again."),
        503: _("The service is busy. Please try again in a moment."),
    }


RETRY_AFTER_SECONDS = 5


def is_database_unavailable(error: BaseException | None) -> bool:
    """True for errors that mean "the database is not reachable right now", not a bug."""
    if isinstance(error, OperationalError | PoolTimeoutError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def render_error(status: int, message: str | None = None, code: str | None = None):
    message = message or _messages().get(status, _messages()[400])
    if wants_json():
        return problem_response(status, code or f"http-{status}", message)
    return render_template("core/error.html", status=status, message=message), status


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception as error:  # noqa: BLE001 - the connection is gone; the teardown drops the session
        current_app.logger.warning("rollback failed: %s", error)


def unavailable_response():
    """503 with Retry-After; the page does not load the account (that needs the database)."""
    _rollback()
    use_identity(None)  # the page is shown to nobody in particular: no account is loaded
    try:
        response = render_error(503, code="service-unavailable")
    except Exception:  # noqa: BLE001 - never a traceback page for a passing outage
        response = ("Service unavailable, please try again in a moment.", 503, {"Content-Type": "text/plain"})
    response = current_app.make_response(response)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, _("The form expired or was sent twice. Please reload the page and try again."),
                            code="csrf")

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        response = current_app.make_response(render_error(error.status, error.message, code=error.code))
        if getattr(error, "retry_after", None):  # a limit (429) says how long to wait
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # An exception raised after the view (a commit in after_request) reaches here
        # wrapped in a 500 InternalServerError.
        if is_database_unavailable(getattr(error, "original_exception", None)):
            app.logger.warning("database unavailable: %s", error.original_exception)
            return unavailable_response()
        response = current_app.make_response(render_error(error.code or 500))
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)  # RFC 9110: a 405 says what is allowed
        return response

    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeoutError)
    def database_error(error: Exception):
        if is_database_unavailable(error):
            app.logger.warning("database unavailable: %s", error)
            return unavailable_response()
        return unexpected_error(error)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        app.logger.exception("unhandled error")
        _rollback()
        return render_error(500)

    @app.teardown_appcontext
    def close_session(_error=None) -> None:
        # Registered after Flask-SQLAlchemy's, so it runs first. If the database went away
        # after the answer was made (a restart between the commit and the end of the
        # request), the closing ROLLBACK fails: log it, drop the session, and let the
        # answer go out instead of the server replacing it by a 500.
        try:
            db.session.remove()
        except DBAPIError as error:
            if not is_database_unavailable(error):
                raise
            app.logger.warning("database unavailable while closing the session: %s", error)
            db.session.registry.clear()
