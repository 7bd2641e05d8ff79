"""Flask-Login wiring: how a session finds its account."""

from __future__ import annotations

import functools

from flask import current_app, g, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm.attributes import set_committed_value

from lms.accounts import session_states
from lms.accounts.models import User
from lms.extensions import db


def configure(login_manager) -> None:
    from lms.accounts.models import LEARNER, User

    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id: str):
        # How a session finds its account is ours to decide (Flask-Login only asks this
        # loader): a request that settled it without the database answers from `g`.
        if REQUEST_IDENTITY in g:
            identity = g.get(REQUEST_IDENTITY)
            return identity if identity is not None and identity.get_id() == session_id else None
        user_id, _, token = (session_id or "").partition(":")
        if not user_id.isdigit():
            return None
        # The account, then for a learner their learner record, which nearly every learner
        # page needs: indexed lookups (staff have none, so one query for them). Not a LEFT
        # JOIN: once ANALYZE has seen that most learners have no login (learners.user_id
        # mostly NULL), SQLite plans that join as a scan of all learners (5-9 ms per
        # request at 100,000 learners, growing with them).
        user = db.session.get(User, int(user_id))
        if user is None or user.session_token != token or not user.is_active:
            return None
        if user.must_change_password and not session.get(PASSWORD_PENDING_KEY):
            session[PASSWORD_PENDING_KEY] = True  # a PIN session from before the mark: closed from now on
        if user.role == LEARNER:
            from lms.learners.models import Learner

            learner = db.session.scalar(select(Learner).where(Learner.user_id == user.id))
            set_committed_value(user, "learner", learner)
        return user


# Set at a login with a login card's PIN, until the learner has chosen a password: such a
# session may only choose it, log out, switch language or text size and fetch static
# files (`lms.accounts.views.require_chosen_password`). Any change of the account's
# session token ends the session, so the mark cannot outlive the PIN it was set for.
PASSWORD_PENDING_KEY = "choose_password"  # noqa: S105  # nosec B105: a session key, not a password
PENDING_ENDPOINTS = frozenset({"accounts.choose_password", "accounts.logout", "core.choose_language",
                               "core.toggle_text_size", "static"})


def may_use_while_pending(endpoint: str | None) -> bool:
    return endpoint in PENDING_ENDPOINTS or (endpoint or "").endswith(".static")


IDENTITY_KEY = "who"  # [role, display name, has a learner record], set at login


def remember_identity(user) -> None:
    """Keep in the (signed) session what a page shell shows of the account."""
    session[IDENTITY_KEY] = [user.role, user.display_name, user.learner is not None]


class CookieIdentity:
    """The account as the signed session cookie describes it, without loading it.

    Only for pages that show nothing beyond what that cookie already holds (its name,
    its role) and public content: a lesson page read again. The session itself is still
    checked (`cookie_identity`: one primary-key read of the account's session token), so
    a cookie kept after logging out, a password change, a new login card or erasure
    shows nobody's name; every other page loads the account as usual (`load_user`).
    """

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, user_id: str, role: str, display_name: str, is_learner: bool, locale: str | None):
        self.user_id, self.role, self.display_name = user_id, role, display_name
        self.is_learner, self.locale = is_learner, locale

    def get_id(self) -> str:
        return self.user_id


# What decides whether a session still holds, read by primary key.
_SESSION_STATE = (select(User.session_token, User.is_active_account, User.must_change_password)
                  .where(User.id == bindparam("user_id")))


def session_is_current(session_id: str) -> bool:
    """True if the account behind a session id ("<user id>:<session token>") still has
    that session: not logged out, no new password or login card, not erased or disabled,
    and no first PIN still to replace (that session may only choose a password).

    The same rule as `load_user`, reading three columns by primary key instead of the
    account and its learner record.
    """
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return False
    row = _session_state(int(user_id))
    return row is not None and row[0] == token and bool(row[1]) and not row[2]


_SESSION_SQL = "SELECT session_token, is_active, must_change_password FROM users WHERE id = {}"
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}  # sqlite3, psycopg


def _session_state(user_id: int):
    """(session token, active, PIN pending) of the account, or None.

    Read on a pooled DBAPI connection, without an ORM session or transaction: on the lesson
    page read again, which needs nothing else from the database, an ORM session's BEGIN,
    result machinery and teardown doubled the page's time. A session bound to a connection
    of its own (the tests' rolled-back transaction, whose rows no other connection sees)
    is used as it is.
    """
    if db.session.session_factory.kw.get("bind") is not None:
        return db.session.connection().execute(_SESSION_STATE, {"user_id": user_id}).first()
    engine = db.engine
    generation = None
    if engine.dialect.name == "postgresql" and current_app.config.get("SESSION_STATES_KEPT", True):
        # Kept per process while a listener hears of every change (lms.accounts.session_states).
        session_states.states.start(_listener_dsn(engine.url))
        kept = session_states.states.get(user_id)
        if kept is not None:
            return kept
        generation = session_states.states.begin_read()
    row = _read_session_state(engine, user_id)
    session_states.states.keep(user_id, row, generation)
    return row


@functools.lru_cache(maxsize=8)
def _listener_dsn(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _read_session_state(engine, user_id: int):
    connection = engine.raw_connection()
    driver = connection.driver_connection
    # psycopg: no transaction, so no ROLLBACK round trip when the pool takes it back.
    # (sqlite3 runs without one already: lms.dbsetup emits BEGIN itself.)
    switch = getattr(driver, "autocommit", None) is False
    try:
        if switch:
            driver.autocommit = True
        cursor = connection.cursor()
        try:
            cursor.execute(_SESSION_SQL.format(_PLACEHOLDERS[engine.dialect.paramstyle]), (user_id,))
            return cursor.fetchone()
        finally:
            cursor.close()
    except engine.dialect.loaded_dbapi.Error:
        connection.invalidate()
        switch = False
        return None  # cannot tell: the usual path loads the account (a 503 if the database is gone)
    finally:
        if switch:
            driver.autocommit = False
        connection.close()


def cookie_identity() -> CookieIdentity | None:
    """The logged-in account as the session cookie describes it, or None.

    None too when the session has ended (`session_is_current`): the page then takes
    the usual path, where the account is loaded, and shows no name for an ended session.
    While it is in use (`use_identity`) it is `current_user`; it has only the
    attributes above, so it must not reach code that checks scope or reads the learner:
    use it only once the page is known to need nothing more.
    """
    who, user_id = session.get(IDENTITY_KEY), session.get("_user_id")
    if not who or not user_id or len(who) != 3 or not session_is_current(user_id):
        return None
    return CookieIdentity(user_id, who[0], who[1], bool(who[2]), session.get("locale"))


REQUEST_IDENTITY = "lms_request_identity"  # our own key in `g`, read by `load_user`


def use_identity(identity: CookieIdentity | None) -> None:
    """For the rest of this request, `load_user` answers with `identity` (None: nobody)
    instead of loading the account. Call it before anything reads `current_user`:
    Flask-Login keeps the first answer for the request."""
    setattr(g, REQUEST_IDENTITY, identity)
