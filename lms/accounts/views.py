"""Log in, log out, sign up, and the account page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from wtforms import SelectChoice

from lms.accounts import devices, operations, tokens
from lms.accounts.forms import ChangePasswordForm, ChoosePasswordForm, LoginForm, RevokeTokenForm, SignupForm
from lms.accounts.session import PASSWORD_PENDING_KEY, may_use_while_pending, remember_identity
from lms.core.errors import wants_json
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
    if user.must_change_password:
        # A PIN session may only choose a password; no remember-me cookie could bring it
        # back without the mark below.
        session[PASSWORD_PENDING_KEY] = True
        remember = False
    login_user(user, remember=remember)
    remember_identity(user)
    if user.locale:
        session["locale"] = user.locale


@bp.before_app_request
def require_chosen_password():
    """After logging in with a login card's PIN, the next step is choosing a password.

    The PIN was printed on paper that others may have seen; until it is replaced the
    session reaches no page, no data and no action but choosing it (and logging out,
    language, text size, static files): pages redirect there, JSON answers 403.
    """
    if not session.get(PASSWORD_PENDING_KEY) or may_use_while_pending(request.endpoint):
        return None
    if wants_json():
        from lms.api.errors import problem_response

        return problem_response(403, "password-change-required",
                                _("Choose your own password first: log in on the website."))
    return redirect(url_for("accounts.choose_password"))



@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if form.validate_on_submit():
        device = devices.read(request.cookies)
        try:
            user = operations.authenticate(form.login.data, form.password.data, request.remote_addr, device)
        except DomainError as error:
            db.session.commit()  # keep the recorded failure
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            _start_session(user, form.remember.data)
            if user.must_change_password:
                flash(_("Please choose your own password now."), "info")
                response = redirect(url_for("accounts.choose_password"))
            else:
                response = redirect(safe_next(request.args.get("next")) or url_for("core.home"))
            devices.remember(response, device, operations.login_key(form.login.data))
            return response
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
    return render_template("accounts/account.html", form=form, tokens=tokens.tokens_of(current_user)), status


@bp.route("/account/choose-password", methods=["GET", "POST"])
@login_required
def choose_password():
    """The first password after a login card: the PIN was just typed, so it is not asked again."""
    if not session.get(PASSWORD_PENDING_KEY):
        return redirect(url_for("accounts.account"))
    form = ChoosePasswordForm()
    if form.validate_on_submit():
        if form.new_password.data != form.confirm_password.data:
            form.confirm_password.errors = [_("The two passwords are not the same.")]
        else:
            try:
                operations.set_password(current_user, form.new_password.data)
            except DomainError as error:
                db.session.rollback()
                error.field = "new_password"
                show_error(form, error)
            else:
                db.session.commit()
                _start_session(current_user._get_current_object())  # the mark goes with the old session
                flash(_("Your password is set. Use it from now on."), "success")
                return redirect(url_for("core.home"))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/choose_password.html", form=form), status


@bp.post("/account/logout-everywhere")
@login_required
def logout_everywhere():
    """End every session (this one too) and every API token of the account."""
    operations.log_out_everywhere(current_user)  # CSRF checked globally
    db.session.commit()
    logout_user()
    kept = {key: session[key] for key in ("locale", "large_text") if key in session}
    session.clear()
    session.update(kept)
    flash(_("You are logged out on every device, and every app must log in again."), "success")
    return redirect(url_for("core.home"))


@bp.post("/account/tokens/revoke")
@login_required
def revoke_token():
    form = RevokeTokenForm()
    if form.validate_on_submit() and tokens.revoke_own_token(current_user, form.token.data):
        db.session.commit()
        flash(_("That app is logged out. It must log in again to be used."), "success")
    else:
        flash(_("That app was already logged out."), "info")
    return redirect(url_for("accounts.account"))
