"""Languages: Vietnamese by default, English on request.

The choice is remembered on the account when logged in, otherwise in the session;
with no choice made we follow the browser's Accept-Language, and fall back to
Vietnamese. Numbers and dates go through Babel for the active locale, with an explicit
dd/MM/yyyy pattern for Vietnamese (Babel's short Vietnamese date is "1/7/25").
"""

from __future__ import annotations

from datetime import date, datetime

from babel import Locale
from flask import current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_decimal, format_percent, get_locale
from flask_login import current_user

from lms.extensions import babel

DATE_PATTERNS = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}
DATETIME_PATTERNS = {"vi": "HH:mm dd/MM/yyyy", "en": "d MMM yyyy, HH:mm"}


_LOCALES: dict[str, Locale] = {}


def select_locale() -> Locale:
    """The request's locale, as a Locale object parsed once per process (Flask-Babel
    passes a Locale through; parsing the code again cost as much as a page's headers)."""
    code = _select_locale_code()
    locale = _LOCALES.get(code)
    if locale is None:
        locale = _LOCALES[code] = Locale.parse(code)
    return locale


def _select_locale_code() -> str:
    return locale_for(getattr(current_user, "locale", None) if current_user else None)


def locale_for(user_locale: str | None) -> str:
    """The locale code a request gets for an account whose choice is `user_locale`."""
    languages = current_app.config["LANGUAGES"]
    if user_locale in languages:
        return user_locale
    if not has_request_context():  # a CLI command: the default language (vi)
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def locale_code() -> str:
    return str(get_locale() or "vi").split("_")[0]


def number(value, digits: int | None = None) -> str:
    if value is None:
        return ""
    if digits is not None:
        return format_decimal(value, format="#,##0." + "0" * digits if digits else "#,##0")
    return format_decimal(value)


def percent(value) -> str:
    return "" if value is None else format_percent(value, format="#,##0.#%")


def local_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return format_date(value, DATE_PATTERNS.get(locale_code(), "dd/MM/yyyy"))


def local_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return format_datetime(value, DATETIME_PATTERNS.get(locale_code(), "dd/MM/yyyy HH:mm"))


def init_app(app) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters.update(number=number, percent=percent, date=local_date,
                                 datetime=local_datetime)
    app.jinja_env.globals.update(locale_code=locale_code)
