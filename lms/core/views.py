"""Home page, language choice, health check, and the installable web app's files."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import text

from lms.accounts.operations import set_locale
from lms.core.delivery import static_version
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


THEME_COLOR = "#0b5394"  # the header's colour (--brand in site.css)


@bp.get("/manifest.webmanifest")
def web_manifest():
    """The web app manifest in the language asked for (`?lang=`): the browser fetches it
    without cookies, so the page names its language in the link."""
    lang = request.args.get("lang") if request.args.get("lang") in ("vi", "en") else "vi"
    with force_locale(lang):
        body = {
            "name": _("Digital Literacy for All"),
            "short_name": _("Digital Literacy"),
            "description": _("Short courses on smartphones, online public services, scam safety and e-payments."),
            "lang": lang,
            "start_url": url_for("core.home"),
            "scope": "/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": THEME_COLOR,
            "icons": [{"src": url_for("static", filename=f"icons/icon-{size}.png"), "sizes": f"{size}x{size}",
                       "type": "image/png", "purpose": "any maskable"} for size in (192, 512)],
        }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/sw.js")
def service_worker():
    """The service worker, at the site's root so that its scope is the whole site. Never
    kept by the HTTP cache: an update must reach the browser on its next check."""
    response = send_from_directory(current_app.static_folder, "sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/"
    response.cache_control.no_cache = True
    return response


@bp.app_context_processor
def inject_static_version():
    return {"static_version": static_version(current_app), "theme_color": THEME_COLOR}


@bp.get("/help/offline")
def offline_help():
    """How to keep a course on the phone and learn without a connection; also the page the
    service worker shows for a page that was not saved."""
    return render_template("core/offline_help.html")
