"""Whose progress is this? The learner's own, or one a team member is helping.

When a community team member helps a learner on the team's device, they start an
assisted session for that learner: pages then show the learner's courses, progress is
written to the learner, and the helper is recorded beside it.
"""

from __future__ import annotations

from flask import session
from flask_login import current_user

from lms.access import may, own_learner
from lms.extensions import db

ASSIST_KEY = "assisting_learner_id"


def acting_learner():
    """(learner, helper): the learner whose progress a request records, and the helper."""
    if not current_user.is_authenticated:
        return None, None
    own = own_learner(current_user)
    if own is not None:
        return own, None
    learner_id = session.get(ASSIST_KEY)
    if learner_id is None:
        return None, None
    from lms.learners.models import Learner

    learner = db.session.get(Learner, learner_id)
    if learner is None or learner.is_deleted or not may(current_user, "assist_learners", learner):
        session.pop(ASSIST_KEY, None)
        return None, None
    return learner, current_user._get_current_object()


def start_assisting(learner) -> None:
    session[ASSIST_KEY] = learner.id


def stop_assisting() -> None:
    session.pop(ASSIST_KEY, None)
