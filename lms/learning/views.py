"""The learner's pages: catalogue, course, lessons, quiz, my learning.

Every page works without JavaScript. A lesson page reads the lesson and the learner's
progress in this course (two queries) and writes nothing except on the first visit;
"mark as done" is a small POST that moves the learner on.
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from sqlalchemy.exc import OperationalError

from lms.accounts.session import cookie_identity, use_identity
from lms.core import page_cache
from lms.errors import DomainError
from lms.extensions import db
from lms.i18n import locale_code, locale_for
from lms.learning import content_cache, offline, operations, queries, read_again
from lms.learning.acting import ASSIST_KEY, acting_learner, start_assisting, stop_assisting
from lms.learning.models import Lesson

bp = Blueprint("learning", __name__, template_folder="templates")
SEEN_KEY, SEEN_LIMIT = read_again.SEEN_KEY, 40


def _course_or_404(slug: str):
    course = queries.course_by_slug(slug)
    if course is None:
        abort(404)
    return course


def _need_learner():
    learner, helper = acting_learner()
    if learner is None:
        if current_user.is_authenticated:
            flash(_("Staff accounts follow courses by helping a learner: open the learner's page and start helping."),
                  "info")
            return None, None, redirect(url_for("core.home"))
        return None, None, redirect(url_for("accounts.login", next=request.path))
    return learner, helper, None


@bp.app_context_processor
def inject_acting():
    def assisting():
        learner, helper = acting_learner()
        return learner if helper is not None else None
    return {"assisting_learner": assisting}


@bp.get("/courses")
def catalogue():
    learner, _helper = acting_learner()
    courses = queries.published_courses()
    progress = {item.course.id: item for item in queries.my_learning(learner)}
    return render_template("learning/catalogue.html", courses=courses, progress=progress)


@bp.get("/courses/<slug>")
def course(slug: str):
    course = _course_or_404(slug)
    learner, _helper = acting_learner()
    lesson_progress = queries.progress_by_lesson(learner, course)
    summary = queries.course_progress(learner, course, lesson_progress)
    return render_template("learning/course.html", course=course, summary=summary, progress=lesson_progress,
                           can_learn=learner is not None)


@bp.post("/courses/<slug>/enroll")
def enroll(slug: str):
    course = _course_or_404(slug)
    learner, helper, redirect_response = _need_learner()
    if redirect_response:
        return redirect_response
    operations.enroll(learner, course, helper=helper)
    db.session.commit()
    first = course.lessons[0] if course.lessons else None
    if first is None:
        return redirect(url_for("learning.course", slug=slug))
    return redirect(url_for("learning.lesson", slug=slug, lesson_slug=first.slug))


@bp.get("/courses/<slug>/lessons/<lesson_slug>")
def lesson(slug: str, lesson_slug: str):
    """A lesson page: content from memory, the page shell from the page cache.

    Read again, it needs only the session check (`_lesson_read_again`); otherwise the
    only database work is loading the account (Flask-Login) and, on the first visit,
    recording that the learner has started the lesson.
    """
    found = content_cache.lesson(slug, lesson_slug)
    if found is None:
        abort(404)
    course, lesson = found
    if lesson.id in session.get(SEEN_KEY, ()) and ASSIST_KEY not in session and not session.get("_flashes"):
        page = _lesson_read_again(lesson)
        if page is not None:
            return page
    learner, helper = acting_learner()
    if learner is not None:
        _record_first_visit(learner, helper, lesson)
    previous, following = course.neighbours(lesson)
    locale = locale_code()
    context = dict(course=course, lesson=lesson, count=len(course.lessons), previous=previous, next=following,
                   can_learn=learner is not None, body=lesson.body_html(locale))
    if helper is not None or session.get("_flashes"):
        return render_template("learning/lesson.html", **context)  # personal parts: no cache
    role = current_user.role if current_user.is_authenticated else None
    return page_cache.render_cached(_lesson_key(lesson, locale, role), "learning/lesson.html",
                                    _lesson_dynamic(current_user), **context)


def _lesson_key(lesson, locale: str, role: str | None) -> tuple:
    return read_again.lesson_key(lesson, locale, role, bool(session.get("large_text")))


def _lesson_dynamic(user) -> dict[str, str]:
    dynamic = {"csrf_token()": generate_csrf(), "next_path": request.full_path}
    if user.is_authenticated:
        dynamic["user_name"] = user.display_name
    return dynamic


def _lesson_read_again(lesson) -> Response | str | None:
    """A lesson whose first visit is recorded, when its page shell is kept.

    The page shows only public content and what the signed session cookie holds (the
    name and role in the menu), so the account is taken from the cookie
    (`cookie_identity`, which checks by primary key that the session has not ended)
    instead of being loaded; None (and the usual path) otherwise.
    """
    anonymous = "_user_id" not in session
    who = None if anonymous else cookie_identity()
    if who is None and not anonymous:
        return None
    locale = locale_for(who.locale) if who is not None else locale_code()  # not current_user: not loaded yet
    page = page_cache.cached(_lesson_key(lesson, locale, who.role if who else None),
                             _lesson_dynamic(who if who is not None else current_user))
    if page is None or who is None:
        return page
    use_identity(who)  # what the rest of the request reads as current_user, should anything ask
    # A page with a name on it is not kept in a shared phone's cache (lms.security would
    # decide the same by loading current_user, which this page otherwise never needs).
    return Response(page, mimetype="text/html", headers={"Cache-Control": "no-store"})


def _record_first_visit(learner, helper, lesson) -> None:
    """First visit: the learner has started this lesson (first seen, resume point).

    Lessons already recorded are remembered in the session, so reading a lesson again
    costs no query. Best effort: if the database is busy the page is still shown.
    """
    seen = session.get(SEEN_KEY, [])
    if lesson.id in seen:
        return
    try:
        model = db.session.get(Lesson, lesson.id)
        operations.record_lesson_progress(learner, model, 0, helper=helper)
        db.session.commit()
    except OperationalError:
        db.session.rollback()
        current_app.logger.warning("first-visit progress not recorded (database busy)")
        return
    session[SEEN_KEY] = [*seen[-(SEEN_LIMIT - 1):], lesson.id]


@bp.post("/courses/<slug>/lessons/<lesson_slug>/complete")
def complete_lesson(slug: str, lesson_slug: str):
    course = _course_or_404(slug)
    lesson = queries.lesson_in_course(course, lesson_slug)
    if lesson is None:
        abort(404)
    learner, helper, redirect_response = _need_learner()
    if redirect_response:
        return redirect_response
    operations.complete_lesson(learner, lesson, helper=helper)
    db.session.commit()
    lessons = course.lessons
    index = next(i for i, item in enumerate(lessons) if item.id == lesson.id)
    if index + 1 < len(lessons):
        return redirect(url_for("learning.lesson", slug=slug, lesson_slug=lessons[index + 1].slug))
    return redirect(url_for("learning.quiz", slug=slug))


@bp.route("/courses/<slug>/quiz", methods=["GET", "POST"])
def quiz(slug: str):
    course = _course_or_404(slug)
    learner, helper, redirect_response = _need_learner()
    if redirect_response:
        return redirect_response
    questions = operations.active_questions(course)
    if not questions:
        abort(404)
    summary = queries.course_progress(learner, course)
    answers, attempt, error = {}, None, None
    if request.method == "POST":
        answers = {q.key: request.form.getlist(q.key) for q in questions}
        answers = {key: value for key, value in answers.items() if value}
        try:
            attempt = operations.submit_quiz(learner, course, answers, helper=helper)
        except DomainError as problem:
            db.session.rollback()
            error = problem.message
        else:
            db.session.commit()
            summary = queries.course_progress(learner, course)
    status = 422 if error else 200
    return render_template("learning/quiz.html", course=course, questions=questions, summary=summary,
                           attempt=attempt, error=error, answers=answers,
                           for_offline=request.args.get("offline") == "1"), status


@bp.get("/my-learning")
@login_required
def my_learning():
    learner, _helper = acting_learner()
    return render_template("learning/my_learning.html", items=queries.my_learning(learner), learner=learner)


@bp.post("/assist/<int:learner_id>")
@login_required
def start_assist(learner_id: int):
    learner = queries.learner_to_assist(current_user, learner_id)
    start_assisting(learner)
    flash(_("You are now helping {name}. Their progress is saved to their account.").format(
        name=learner.full_name), "info")
    return redirect(url_for("learning.catalogue"))


@bp.post("/assist/stop")
@login_required
def stop_assist():
    stop_assisting()
    return redirect(url_for("core.home"))


@bp.get("/course-media/<slug>/<path:name>")
def course_media(slug: str, name: str):
    """Images of a course, straight from its content folder."""
    folder = Path(current_app.config["COURSES_DIR"]) / slug / "images"
    if queries.course_by_slug(slug) is None:
        abort(404)
    return send_from_directory(folder, name, max_age=86400)


@bp.get("/courses/<slug>/offline.json")
def offline_manifest(slug: str):
    """The files a phone keeps to learn this course offline, in the page's language."""
    course = content_cache.courses().get(slug)
    model = queries.course_by_slug(slug)
    if course is None or model is None:
        abort(404)
    return offline.course_files(course, model.content_hash, locale_code())


@bp.get("/offline/session")
def offline_session():
    """What a phone needs before it sends its queue: whose session this is, a fresh CSRF
    token (the one in a page kept for days has expired), where to send, and each course's
    content hash so a kept copy that changed is fetched again."""
    learner, _helper = acting_learner()
    locale = locale_code()
    hashes = {course.slug: offline.course_hash(course.content_hash, course.version, locale)
              for course in queries.published_courses()}
    response = jsonify(learner=learner.id if learner is not None else None, csrf_token=generate_csrf(),
                       progress_url=url_for("api.record_progress"),
                       quiz_url=url_for("api.submit_quiz", slug="__slug__"), courses=hashes)
    response.headers["Cache-Control"] = "no-store"
    return response
