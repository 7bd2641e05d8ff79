"""Home page, language choice and health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from lms.accounts.operations import set_locale
from lms.core.forms import LanguageForm
from lms.core.navigation import nav_items
from lms.extensions import db
from lms.urls import safe_next

bp = Blueprint("core", __name__, template_folder="templates")


@bp.app_context_processor
def inject_navigation():
    return {"nav_items": nav_items}


@bp.get("/")
def home():
    from lms.learning.acting import acting_learner
    from lms.learning.queries import continue_point

    learner, _helper = acting_learner()
    return render_template("core/home.html", resume=continue_point(learner) if learner else None)


@bp.post("/language")
def choose_language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.language.data
        if current_user.is_authenticated:
            set_locale(current_user, form.language.data)
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("core.home"))


@bp.post("/text-size")
def toggle_text_size():
    """Larger text for people who need it; remembered for the session."""
    session["large_text"] = not session.get("large_text", False)  # CSRF checked globally
    return redirect(safe_next(request.form.get("next")) or url_for("core.home"))


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        ok = True
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        current_app.logger.exception("health check failed")
        db.session.rollback()
        ok = False
    return jsonify(status="ok" if ok else "unavailable", database=ok), 200 if ok else 503
