"""Duplicate requests: a member files one from the registration page; the commune
official sees the open ones of the commune and resolves them."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.access import may
from lms.audit.operations import record
from lms.dbsetup import writes_on_get
from lms.duplicates import operations, queries
from lms.duplicates.forms import FileRequestForm, ResolveForm
from lms.duplicates.models import OPEN
from lms.errors import DomainError
from lms.extensions import db

bp = Blueprint("duplicates", __name__, template_folder="templates")


@bp.get("/duplicates")
@login_required
@writes_on_get  # the official's view of each existing record is audited
def requests():
    resolver = may(current_user, "resolve_duplicates")
    items = queries.requests_for(current_user, status=OPEN if resolver else None)
    if resolver:
        for item in items:
            if item.existing_learner is not None:
                record("learner.view", actor=current_user, learner=item.existing_learner,
                       duplicate_request_id=item.id)
        db.session.commit()
    return render_template("duplicates/requests.html", items=items, resolver=resolver, form=ResolveForm())


@bp.post("/duplicates")
@login_required
def file_request():
    commune = queries.filing_commune(current_user)
    form = FileRequestForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Register the person again, then ask the commune official."), "error")
        return redirect(url_for("team.register_learner"))
    try:
        operations.file_request(current_user, commune=commune, token=form.match.data, full_name=form.full_name.data,
                                note=form.note.data)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("team.register_learner"))
    db.session.commit()
    flash(_("Sent to the commune official, who will meet the person and resolve it."), "success")
    return redirect(url_for("duplicates.requests"))


@bp.post("/duplicates/<int:request_id>/resolve")
@login_required
def resolve(request_id: int):
    item = queries.request_to_resolve(current_user, request_id)
    form = ResolveForm()
    if not form.validate_on_submit():
        flash(_("Choose what you found, then send again."), "error")
        return redirect(url_for("duplicates.requests"))
    try:
        operations.resolve_request(item, official=current_user, outcome=form.outcome.data,
                                   note=form.resolution_note.data)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("The request is resolved."), "success")
    return redirect(url_for("duplicates.requests"))
