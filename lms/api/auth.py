"""Bearer tokens for API clients.

A token is 32 random bytes (URL-safe base64), shown to the client once; only its
SHA-256 is stored, so a copy of the database does not let anyone act as a learner, and
the lookup goes through the unique index on that hash (no secret is compared in
Python). A token works for `API_TOKEN_DAYS` (90 by default), until it is revoked (by the
client, on /account, or with the account's other tokens on a password change, a new
login card, "log out everywhere" or erasure: `lms.accounts.tokens`) or its account is
disabled. Its last use is recorded at most once a minute, so reading lessons does not
write on every request.

The website's own pages (the offline sync in site.js) use the login they already have
instead: the session cookie with the CSRF token in an `X-CSRFToken` header,
which a page of another site cannot read or send. No second secret is kept in the
phone's storage, where any script or anyone holding the phone could read it; logging
out stops the sync; and a team member helping a learner on the team's device sends the
assisted learner's progress with the helper recorded, exactly as the pages do.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app, g, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from lms.access import own_learner
from lms.accounts.models import REVOKED_BY_CLIENT, ApiToken, User
from lms.api.errors import ForbiddenError, UnauthorizedError
from lms.db import utcnow
from lms.extensions import db

TOKEN_BYTES = 32
TOUCH_INTERVAL = timedelta(minutes=1)
MAX_TOKEN_LENGTH = 200  # a real one has 43 characters


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(user: User, name: str) -> str:
    """Create a token for `user` and return its secret, which is never stored."""
    secret = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    db.session.add(ApiToken(user_id=user.id, token_hash=hash_token(secret), name=name, created_dt=now,
                            expires_dt=now + timedelta(days=current_app.config["API_TOKEN_DAYS"])))
    db.session.flush()
    return secret


def revoke_token(token: ApiToken) -> None:
    """Stop `token` from working (idempotent)."""
    if token.revoked_dt is None:
        token.revoked_dt, token.revoked_reason = utcnow(), REVOKED_BY_CLIENT


def touch_due(token: ApiToken, now: datetime | None = None) -> bool:
    """Whether the token's use should be recorded now (at most once per `TOUCH_INTERVAL`)."""
    now = now or utcnow()
    return token.last_used_dt is None or now - token.last_used_dt >= TOUCH_INTERVAL


def touch_token(token: ApiToken, now: datetime | None = None) -> bool:
    """Record the token's use, at most once per `TOUCH_INTERVAL`; True if it was recorded."""
    now = now or utcnow()
    if not touch_due(token, now):
        return False
    token.last_used_dt = now
    return True


@functools.cache
def _token_lookup():
    """One query: the token, its account and the account's learner record. Built once: a
    progress batch is a few milliseconds, and building this statement was a tenth of it."""
    return (select(ApiToken, User).join(User, User.id == ApiToken.user_id).options(joinedload(User.learner))
            .where(ApiToken.token_hash == bindparam("hash"), ApiToken.revoked_dt.is_(None),
                   ApiToken.expires_dt > bindparam("now")))


def find_token(secret: str) -> tuple[ApiToken, User] | None:
    """The live (not revoked, not expired) token with this secret and its active account."""
    if not secret or len(secret) > MAX_TOKEN_LENGTH:
        return None
    found = db.session.execute(_token_lookup(), {"hash": hash_token(secret), "now": utcnow()}).first()
    if found is None or not found[1].is_active:
        return None
    return found[0], found[1]


def public(view: Callable) -> Callable:
    """Mark a view as reachable without a token."""
    view.is_public = True
    return view


SESSION_CSRF_HEADER = "X-CSRFToken"


def _load_session_user() -> bool:
    """The website's session, for a request without a token: True if it authenticates.
    It counts only with the session's CSRF token in `X-CSRFToken`; without it the cookie
    alone authenticates nothing (a 401, as for any request without credentials)."""
    from flask_login import current_user
    from flask_wtf.csrf import ValidationError, validate_csrf

    if not current_user.is_authenticated:
        return False
    try:
        validate_csrf(request.headers.get(SESSION_CSRF_HEADER, ""))
    except ValidationError:
        return False
    g.api_user = current_user._get_current_object()
    g.api_session = True
    return True


def load_token_user() -> None:
    """Before each API request: authenticate the bearer token (or the website's session)
    unless the view is public."""
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "is_public", False):
        return
    header = request.headers.get("Authorization", "").strip()
    if not header and _load_session_user():
        return
    if not header:
        raise UnauthorizedError("token-missing",
                                _l("Log in first: send your access token as 'Authorization: Bearer …'."))
    scheme, _, secret = header.partition(" ")
    found = find_token(secret.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        raise UnauthorizedError("token-invalid",
                                _l("This access token is not valid any more. Please log in again."))
    g.api_token, g.api_user = found
    # Recorded by the request's commit (`views._commit`), in its writing transaction.
    g.api_token_touched = touch_due(g.api_token)


def current_token() -> ApiToken:
    if g.get("api_token") is None:
        raise ForbiddenError("token-required", _l("This needs an access token, not a website session."))
    return g.api_token


def current_user() -> User:
    """The account behind the request's token; a website session is refused here (the
    statistics API is for reporting tools, and the session path is for the offline sync of
    the learner's own routes: `current_learner`)."""
    current_token()
    return g.api_user


def current_helper():
    """The team member helping the learner on the team's device (website session only), or None."""
    return g.get("api_helper")


def current_learner():
    """The learner behind the token; staff accounts follow courses only by helping on the website."""
    if g.get("api_session"):
        from lms.learning.acting import acting_learner

        learner, g.api_helper = acting_learner()
        if learner is None:
            raise ForbiddenError("learner-required", _l("Only a learner's account can do this."))
        return learner
    learner = own_learner(g.api_user)
    if learner is None:
        raise ForbiddenError("learner-required", _l("Only a learner's account can do this."))
    return learner
