"""Flask-Login wiring: how a session finds its account."""

from __future__ import annotations

from flask import g, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

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
        if user.role == LEARNER:
            from lms.learners.models import Learner

            learner = db.session.scalar(select(Learner).where(Learner.user_id == user.id))
            set_committed_value(user, "learner", learner)
        return user


IDENTITY_KEY = "who"  # [role, display name, has a learner record], set at login


def remember_identity(user) -> None:
    """Keep in the (signed) session what a page shell shows of the account."""
    session[IDENTITY_KEY] = [user.role, user.display_name, user.learner is not None]


class CookieIdentity:
    """The account as the signed session cookie describes it, without the database.

    Only for pages that show nothing beyond what that cookie already holds (its name,
    its role) and public content: a lesson page read again. Whoever presents the cookie
    learns nothing new from such a page, so the session token is not checked there;
    every page with personal data and every form submission loads and checks the
    account as usual (`load_user`).
    """

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, user_id: str, role: str, display_name: str, is_learner: bool, locale: str | None):
        self.user_id, self.role, self.display_name = user_id, role, display_name
        self.is_learner, self.locale = is_learner, locale

    def get_id(self) -> str:
        return self.user_id


def cookie_identity() -> CookieIdentity | None:
    """The logged-in account as the session cookie describes it, or None.

    While it is in use (`use_identity`) it is `current_user`; it has only the
    attributes above, so it must not reach code that checks scope or reads the learner:
    use it only once the page is known to need nothing more.
    """
    who, user_id = session.get(IDENTITY_KEY), session.get("_user_id")
    if not who or not user_id or len(who) != 3:
        return None
    return CookieIdentity(user_id, who[0], who[1], bool(who[2]), session.get("locale"))


REQUEST_IDENTITY = "lms_request_identity"  # our own key in `g`, read by `load_user`


def use_identity(identity: CookieIdentity | None) -> None:
    """For the rest of this request, `load_user` answers with `identity` (None: nobody)
    instead of loading the account. Call it before anything reads `current_user`:
    Flask-Login keeps the first answer for the request."""
    setattr(g, REQUEST_IDENTITY, identity)
