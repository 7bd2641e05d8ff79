"""Write operations on accounts: staff creation, sign-up, login, passwords, language."""

from __future__ import annotations

import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from lms.accounts import throttle
from lms.accounts.models import (
    LEARNER,
    REVOKED_BY_LOGOUT_ALL,
    REVOKED_BY_NEW_CREDENTIAL,
    ROLE_UNIT_LEVEL,
    STAFF_ROLES,
    TEAM_MEMBER,
    User,
)
from lms.accounts.tokens import revoke_tokens
from lms.audit.operations import record
from lms.db import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.learners.consent import LEARNING
from lms.learners.operations import create_learner, current_consent_version, give_consent, validate_name
from lms.text import clean_text
from lms.units.models import VILLAGE, Unit
from lms.validation import looks_like_phone, normalize_phone, normalize_username, password_problem

# Checked against when the login is unknown, so a wrong login costs as much time as a
# wrong password and does not reveal which accounts exist.
_DUMMY_HASH = None


class AccountError(DomainError):
    pass


PASSWORD_MESSAGES = {
    "too-short": _l("The password needs at least 8 characters."),
    "too-long": _l("The password can have at most 200 characters."),
    "too-simple": _l("This password is too easy to guess. Mix letters and digits."),
}


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def check_new_password(password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise AccountError(f"password-{problem}", PASSWORD_MESSAGES[problem], field="password")


def parse_login(login: str) -> tuple[str | None, str | None]:
    """(phone, username) from what a person typed in the login box."""
    text = clean_text(login)
    if looks_like_phone(text):
        return normalize_phone(text), None
    return None, normalize_username(text)


def find_by_login(login: str) -> User | None:
    phone, username = parse_login(login)
    if phone:
        return db.session.scalar(select(User).where(User.phone == phone))
    if username:
        return db.session.scalar(select(User).where(User.username == username))
    return None


def login_key(login: str) -> str:
    """The account a login box names, however it was typed ("0912 345 678", "+84912345678"…):
    failures are counted against it, so writing the number another way buys no more guesses."""
    phone, username = parse_login(login)
    return phone or username or clean_text(login).lower() or "-"


def authenticate(login: str, password: str, address: str | None, device=None) -> User:
    """The account for these credentials, or AccountError (throttled or invalid).

    `device`: the browser's known device (`lms.accounts.devices.Device`), if it sent one;
    for an account that logged in on it before, the account-wide limit does not apply.
    """
    global _DUMMY_HASH
    key = login_key(login)
    device_id = device.id if device is not None and device.knows(key) else None
    limit = throttle.throttled_by(key, address, device_id)
    if limit == throttle.ACCOUNT:
        raise AccountError("login-throttled", _l(
            "Too many failed attempts on this account. Wait an hour and try again, log in on a "
            "phone or computer you used before, or ask your community digital team to reset your password."))
    if limit is not None:
        raise AccountError("login-throttled", _l(
            "Too many failed attempts. Wait 15 minutes and try again, or ask your "
            "community digital team to reset your password."))
    user = find_by_login(login)
    if user is None:
        _DUMMY_HASH = _DUMMY_HASH or hash_password(secrets.token_hex(8))
        check_password_hash(_DUMMY_HASH, password)
    if user is None or not user.is_active or not check_password_hash(user.password_hash, password):
        throttle.record_failure(key, address, device_id)
        raise AccountError("login-invalid", _l("The phone number, username or password is not right."))
    throttle.clear_after_login(key, address, device_id)
    user.last_login_dt = utcnow()
    return user


def _unique_login(phone: str | None, username: str | None) -> None:
    if phone and db.session.scalar(select(User.id).where(User.phone == phone)):
        raise AccountError("phone-taken", _l("This phone number already has an account. Log in instead."),
                           field="login")
    if username and db.session.scalar(select(User.id).where(User.username == username)):
        raise AccountError("username-taken", _l("This username is taken. Choose another."), field="login")


def _new_user(*, role, password, display_name, phone=None, username=None, **fields) -> User:
    if not phone and not username:
        raise AccountError("login-required", _l(
            "Enter a mobile phone number (10 digits, starting with 03, 05, 07, 08 or 09) "
            "or a username of 3–32 letters or digits."), field="login")
    check_new_password(password)
    _unique_login(phone, username)
    user = User(role=role, phone=phone, username=username, display_name=display_name,
                password_hash=hash_password(password), session_token=secrets.token_hex(8), **fields)
    db.session.add(user)
    db.session.flush()
    return user


def create_staff(*, role: str, unit: Unit, username: str, password: str, display_name: str,
                 villages: list[Unit] = (), phone: str | None = None, created_by=None) -> User:
    """Create a staff account attached to a unit of the level its role works on."""
    if role not in STAFF_ROLES:
        raise AccountError("role-invalid", _l("Unknown role."), field="role")
    if unit is None or unit.level != ROLE_UNIT_LEVEL[role] or not unit.is_current:
        raise AccountError("scope-invalid", _l("This role must be attached to a current {level}."),
                           field="unit", level=ROLE_UNIT_LEVEL[role])
    if villages and (role != TEAM_MEMBER or any(
            v.level != VILLAGE or v.commune_id != unit.id for v in villages)):
        raise AccountError("villages-invalid", _l("Villages must belong to the member's commune."),
                           field="villages")
    login = normalize_username(username)
    if not login:
        raise AccountError("username-invalid", _l("A username has 3–32 letters, digits, dots or dashes."),
                           field="username")
    user = _new_user(role=role, password=password, display_name=clean_text(display_name) or login,
                     username=login, phone=normalize_phone(phone) if phone else None,
                     scope_unit_id=unit.id)
    user.villages = list(villages)
    record("account.create", actor=created_by, unit_id=unit.commune_id, role=role, user_id=user.id)
    return user


def sign_up_learner(*, full_name: str, login: str, password: str, commune: Unit,
                    village: Unit | None, consent_given: bool, locale: str,
                    birth_year: int | None = None, sex: str | None = None,
                    address: str | None = None) -> User:
    """A citizen registers on their own: account, learner record and consent together."""
    if not consent_given:
        raise AccountError("consent-required", _l(
            "To learn here you need to agree to how your data is used."), field="consent")
    phone, username = parse_login(login)
    user = _new_user(role=LEARNER, password=password, display_name=validate_name(full_name),
                     phone=phone, username=username, locale=locale)
    learner = create_learner(user=user, full_name=full_name, commune=commune, village=village,
                             birth_year=birth_year, sex=sex)
    give_consent(learner, current_consent_version(LEARNING), locale, ip_address=address)
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not check_password_hash(user.password_hash, current_password):
        raise AccountError("password-wrong", _l("The current password is not right."), field="current_password")
    set_password(user, new_password)


def end_sessions(user: User) -> None:
    """Log the account out everywhere: a copied or kept session cookie stops working.

    Sessions live in signed cookies, not on the server, so ending one means ending all
    of them; on a shared phone or a commune hall computer that is what logging out
    should do anyway. Every page checks the session token, the lesson page read again
    included (`lms.accounts.session.cookie_identity`).
    """
    user.session_token = secrets.token_hex(8)


def log_out_everywhere(user: User) -> int:
    """End every session and revoke every API token; returns how many tokens ended."""
    end_sessions(user)
    count = revoke_tokens(user, REVOKED_BY_LOGOUT_ALL)
    record("account.logout_all", actor=user, unit_id=None, user_id=user.id, tokens=count)
    return count


def set_password(user: User, new_password: str, *, by=None) -> None:
    """Set a password and end every other session and every API token of the account."""
    check_new_password(new_password)
    user.password_hash = hash_password(new_password)
    user.session_token = secrets.token_hex(8)
    user.must_change_password = by is not None and by.id != user.id
    revoke_tokens(user, REVOKED_BY_NEW_CREDENTIAL)
    record("account.password", actor=by or user, unit_id=None, user_id=user.id)


def set_locale(user: User, locale: str) -> None:
    if locale in current_app.config["LANGUAGES"]:
        user.locale = locale
