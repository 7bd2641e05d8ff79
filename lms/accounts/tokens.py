"""Revoking API tokens, and the list a learner sees on /account.

Issuing and checking tokens belongs to the API (`lms.api.auth`); ending them is here,
below the API, because an account's own events end them: a password change, a new
login card, "log out everywhere", erasure of the learner's data.
"""

from __future__ import annotations

from sqlalchemy import select, update

from lms.accounts.models import REVOKED_ON_ACCOUNT, ApiToken, User
from lms.audit.operations import record
from lms.db import utcnow
from lms.extensions import db

_CHUNK = 500  # ids per IN (...): well below every engine's parameter limit


def revoke_tokens(user: User, reason: str) -> int:
    """Revoke every live API token of `user` (password change, new card, log out
    everywhere, erasure); returns how many."""
    return revoke_tokens_of([user.id], reason)


def revoke_tokens_of(user_ids: list[int], reason: str) -> int:
    """`revoke_tokens` for many accounts at once (a batch of login cards)."""
    count = 0
    ids = sorted(set(user_ids))
    for start in range(0, len(ids), _CHUNK):
        result = db.session.execute(
            update(ApiToken).where(ApiToken.user_id.in_(ids[start:start + _CHUNK]), ApiToken.revoked_dt.is_(None))
            .values(revoked_dt=utcnow(), revoked_reason=reason))
        count += result.rowcount or 0
    return count


def revoke_own_token(user: User, token_id: int) -> bool:
    """The learner revokes one of their tokens on /account; False if it is not theirs or not live."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_dt is not None:
        return False
    token.revoked_dt, token.revoked_reason = utcnow(), REVOKED_ON_ACCOUNT
    record("account.token_revoke", actor=user, unit_id=None, user_id=user.id, token_id=token.id)
    return True


def tokens_of(user: User) -> list[ApiToken]:
    """The account's API tokens that still work, newest first (shown on /account)."""
    now = utcnow()
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_dt.is_(None), ApiToken.expires_dt > now)
        .order_by(ApiToken.created_dt.desc(), ApiToken.id.desc())))
