"""Flask-Login wiring: how a session finds its account."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

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
        # One query: the account with its learner record, which nearly every page needs.
        user = db.session.get(User, int(user_id), options=[joinedload(User.learner)])
        if user is None or user.session_token != token or not user.is_active:
            return None
        return user
