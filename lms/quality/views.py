"""`/quality/flags`: officials read the data-quality flags of the learners they can see,
with why in words, and confirm each as genuine or mark it as a problem."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from lms.access import scope_units
from lms.errors import DomainError
from lms.extensions import db
from lms.i18n import locale_code
from lms.pagination import page_number, paginate
from lms.quality import operations, queries, reasons
from lms.quality.models import DUPLICATE, HELPER_BURST, KINDS, STATUSES

bp = Blueprint("quality", __name__, template_folder="templates")
PER_PAGE = 50


def _names(rows) -> dict:
    """Course titles, helpers' names and the other learner of each pair, in three queries."""
    from lms.accounts.models import User
    from lms.learners.models import Learner
    from lms.learning.models import Course

    reasons_of = [flag.reason or {} for flag in rows]
    course_ids = {r["course_id"] for r in reasons_of if "course_id" in r}
    helper_ids = {r["helper_id"] for flag in rows if flag.kind == HELPER_BURST for r in [flag.reason or {}]}
    other_ids = {r["other_id"] for flag in rows if flag.kind == DUPLICATE for r in [flag.reason or {}]}
    locale, scope = locale_code(), scope_units(current_user)
    names: dict = {"course": {}, "helper": {}, "learner": {}}
    if course_ids:
        names["course"] = {c.id: c.title(locale) for c in db.session.scalars(select(Course).where(Course.id.in_(course_ids)))}
    if helper_ids:
        names["helper"] = {u.id: u.display_name or u.login_name
                           for u in db.session.scalars(select(User).where(User.id.in_(helper_ids)))}
    if other_ids:
        names["learner"] = {x.id: x.full_name if scope.covers_learner(x) and not x.is_deleted else None
                            for x in db.session.scalars(select(Learner).where(Learner.id.in_(other_ids)))}
    return names


@bp.get("/quality/flags")
@login_required
def flags():
    status = request.args.get("status", "open")
    status = status if status in (*STATUSES, "all") else "open"
    kind = request.args.get("kind", "")
    kind = kind if kind in KINDS else ""
    page = paginate(queries.flags_query(current_user, status=status, kind=kind), page=page_number(request.args),
                    per_page=PER_PAGE)
    names = _names(page.items)
    items = [(flag, flag.learner, reasons.describe(flag, names)) for flag in page.items]
    args = {k: v for k, v in (("status", status), ("kind", kind)) if v}
    return render_template("quality/flags.html", page=page, items=items, status=status, kind=kind, args=args,
                           statuses=STATUSES, kinds=KINDS, kind_label=reasons.kind_label,
                           status_label=reasons.status_label)


@bp.post("/quality/flags/<int:flag_id>/review")
@login_required
def review(flag_id: int):
    try:
        operations.review_flag(flag_id, request.form.get("status", ""), actor=current_user)
    except DomainError as error:
        db.session.rollback()
        if error.status in (403, 404):
            raise  # the error page: refused, or no such flag
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Review saved."), "success")
    back = {k: v for k in ("status", "kind", "page") if (v := request.form.get("back_" + k))}
    return redirect(url_for("quality.flags", **back))
