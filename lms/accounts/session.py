"""Flask-Login wiring: how a session finds its account."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from lms.extensions import db


def configure(login_manager) -> None:
    from lms.accounts.models import User

    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id: str):
        user_id, _, token = (session_id or "").partition(":")
        if not user_id.isdigit():
            return None
        # The account with its learner record, which nearly every page needs: two indexed
        # lookups. Not a LEFT JOIN: once ANALYZE has seen that most learners have no login
        # (learners.user_id mostly NULL), SQLite plans that join as a scan of all learners
        # (5-9 ms per request at 100,000 learners, growing with them).
        user = db.session.get(User, int(user_id), options=[selectinload(User.learner)])
        if user is None or user.session_token != token or not user.is_active:
            return None
        return user
