"""The learner's own data (/my-data: see, download, correct, withdraw, delete) and the
privacy notice (/privacy). Views parse the request, call an operation, render; one commit."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from wtforms import SelectChoice

from lms.accounts.models import LEARNER
from lms.accounts.session import remember_identity
from lms.audit.operations import record
from lms.errors import DomainError
from lms.extensions import db
from lms.forms import ConfirmForm, show_error
from lms.i18n import locale_code
from lms.learners import operations as learner_ops
from lms.learners.consent import LEARNING, current_text
from lms.learners.models import Consent
from lms.privacy.export import personal_data
from lms.privacy.forms import SelfCorrectForm
from lms.privacy.operations import erase_learner
from lms.units import queries as units

bp = Blueprint("privacy", __name__, template_folder="templates")


def _own_learner():
    if current_user.role != LEARNER or current_user.learner is None or current_user.learner.is_deleted:
        abort(403)
    return current_user.learner


def _consents(learner) -> list[Consent]:
    return list(db.session.scalars(db.select(Consent).where(Consent.learner_id == learner.id)
                                   .order_by(Consent.given_dt)))


@bp.get("/privacy")
def notice():
    version, consent_text = current_text(LEARNING, locale_code())
    return render_template("privacy/notice.html", consent_text=consent_text, consent_version=version)


@bp.route("/my-data", methods=["GET", "POST"])
@login_required
def my_data():
    learner = _own_learner()
    form = SelfCorrectForm(obj=None if request.method == "POST" else learner)
    villages = units.villages_of(learner.commune_id)
    form.village.choices = [SelectChoice("", _("I don't know / not listed"))] + [
        SelectChoice(str(v.id), v.name) for v in villages]
    if request.method == "GET":
        form.village.data = str(learner.village_id or "")
    status = 200
    if form.validate_on_submit():
        village = units.current_unit(form.village.data, "village") if form.village.data else None
        try:
            learner_ops.update_learner(learner, actor=current_user, full_name=form.full_name.data,
                                       birth_year=form.birth_year.data, sex=learner.sex, village=village)
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            remember_identity(current_user)  # the name in the menu of cached pages
            flash(_("Your data has been corrected."), "success")
            return redirect(url_for("privacy.my_data"))
    if request.method == "POST":
        status = 422
    return render_template("privacy/my_data.html", learner=learner, form=form, consents=_consents(learner),
                           confirm=ConfirmForm(formdata=None)), status


@bp.get("/my-data.json")
@login_required
def my_data_download():
    learner = _own_learner()
    record("learner.export_self", actor=current_user, learner=learner)
    body = json.dumps(personal_data(learner), ensure_ascii=False, indent=2)  # this download included
    db.session.commit()
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="my-data.json"', "Cache-Control": "no-store"})


@bp.post("/my-data/withdraw")
@login_required
def my_data_withdraw():
    learner = _own_learner()
    if ConfirmForm().validate_on_submit():
        learner_ops.withdraw_consent(learner, LEARNING, actor=current_user)
        db.session.commit()
        flash(_("Your consent has been withdrawn. You can still ask for your data to be deleted."), "success")
    else:
        flash(_("Tick the box to confirm."), "error")
    return redirect(url_for("privacy.my_data"))


@bp.post("/my-data/delete")
@login_required
def my_data_delete():
    learner = _own_learner()
    if not ConfirmForm().validate_on_submit():
        flash(_("Tick the box to confirm."), "error")
        return redirect(url_for("privacy.my_data"))
    erase_learner(learner, actor=current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("Your personal data has been deleted and your account closed."), "success")
    return redirect(url_for("core.home"))
