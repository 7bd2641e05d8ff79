"""Error pages in the user's language, and JSON errors for the API."""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

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
    }


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def render_error(status: int, message: str | None = None, code: str | None = None):
    message = message or _messages().get(status, _messages()[400])
    if wants_json():
        return jsonify(error={"code": code or f"http-{status}", "message": message}), status
    return render_template("core/error.html", status=status, message=message), status


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, _("The form expired or was sent twice. Please reload the page and try again."),
                            code="csrf")

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        return render_error(error.status, error.message, code=error.code)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return render_error(error.code or 500)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        app.logger.exception("unhandled error")
        db.session.rollback()
        return render_error(500)
