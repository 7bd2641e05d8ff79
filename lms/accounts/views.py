"""Log in, log out, sign up, and the account page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from wtforms import SelectChoice

from lms.accounts import operations
from lms.accounts.forms import ChangePasswordForm, LoginForm, SignupForm
from lms.accounts.session import remember_identity
from lms.errors import DomainError
from lms.extensions import db
from lms.forms import show_error
from lms.i18n import locale_code
from lms.learners.consent import LEARNING, current_text
from lms.units import queries as units
from lms.units.models import COMMUNE, PROVINCE
from lms.urls import safe_next

bp = Blueprint("accounts", __name__, template_folder="templates")


def _start_session(user, remember: bool = False) -> None:
    # A fresh session on login: nothing an attacker planted before survives it.
    kept = {key: session[key] for key in ("locale", "large_text") if key in session}
    session.clear()
    session.update(kept)
    login_user(user, remember=remember)
    remember_identity(user)
    if user.locale:
        session["locale"] = user.locale



@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = operations.authenticate(form.login.data, form.password.data, request.remote_addr)
        except DomainError as error:
            db.session.commit()  # keep the recorded failure
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            _start_session(user, form.remember.data)
            if user.must_change_password:
                flash(_("Please choose your own password now."), "info")
                return redirect(url_for("accounts.account"))
            return redirect(safe_next(request.args.get("next")) or url_for("core.home"))
    return render_template("accounts/login.html", form=form), 200 if not form.errors and not form.form_errors else 422


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        operations.end_sessions(current_user)
        db.session.commit()
    logout_user()
    kept = {key: session[key] for key in ("locale", "large_text") if key in session}
    session.clear()
    session.update(kept)
    return redirect(url_for("core.home"))


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    """Sign-up in steps that need no JavaScript: province, then commune, then details.

    Only the communes of the chosen province are sent, never all 3,321.
    """
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    province = units.unit_by_code(PROVINCE, request.args.get("province", ""))
    commune = units.unit_by_code(COMMUNE, request.args.get("commune", "")) if province else None
    if commune is not None and commune.province_id != province.id:
        commune = None
    if province is None:
        return render_template("accounts/signup_place.html", step="province", provinces=units.provinces())
    if commune is None:
        return render_template("accounts/signup_place.html", step="commune", province=province,
                               communes=units.communes_of(province.id))

    villages = units.villages_of(commune.id)
    form = SignupForm()
    form.village.choices = [SelectChoice("", _("I don't know / not listed"))] + [
        SelectChoice(str(v.id), v.name) for v in villages]
    consent_version, consent_text = current_text(LEARNING, locale_code())
    status = 200
    if form.validate_on_submit():
        village = units.current_unit(form.village.data, "village") if form.village.data else None
        try:
            user = operations.sign_up_learner(
                full_name=form.full_name.data, login=form.login.data, password=form.password.data,
                commune=commune, village=village, consent_given=form.consent.data,
                locale=locale_code(), birth_year=form.birth_year.data, sex=form.sex.data or None,
                address=request.remote_addr)
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            _start_session(user)
            flash(_("Welcome! Your account is ready."), "success")
            return redirect(url_for("core.home"))
    if request.method == "POST":
        status = 422
    return render_template("accounts/signup.html", form=form, province=province, commune=commune,
                           consent_text=consent_text, consent_version=consent_version), status


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            operations.change_password(current_user, form.current_password.data, form.new_password.data)
        except DomainError as error:
            db.session.rollback()
            if error.field == "password":
                error.field = "new_password"
            show_error(form, error)
        else:
            db.session.commit()
            _start_session(current_user._get_current_object())
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("accounts.account"))
    if request.method == "POST":
        status = 422
    return render_template("accounts/account.html", form=form), status
