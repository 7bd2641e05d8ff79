"""Reading identity checks (from the audit log) and duplicate requests in a scope."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from lms.access import check, may, not_allowed
from lms.audit.models import AuditEvent
from lms.db import utcnow
from lms.duplicates.models import OPEN, DuplicateRequest
from lms.errors import NotFoundError
from lms.extensions import db
from lms.units import queries as units
from lms.units.models import COMMUNE, Unit

CHECK = "identity.check"  # one lookup of a phone or ID number by a staff member
CHECK_REFUSED = "identity.check_refused"  # a lookup refused because the limit was reached


def checks_in_window(member) -> int:
    """Phone and ID number lookups the member made within the window (the audit log is the count)."""
    since = utcnow() - timedelta(seconds=current_app.config["IDENTITY_CHECK_WINDOW_SECONDS"])
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.actor_id == member.id, AuditEvent.action == CHECK, AuditEvent.created_dt >= since)) or 0


def checks_left(member) -> int:
    return max(0, current_app.config["IDENTITY_CHECKS_PER_HOUR"] - checks_in_window(member))


def requests_for(user, *, status: str | None = OPEN) -> list[DuplicateRequest]:
    """Requests of the commune an official resolves, or those a member filed."""
    if not (may(user, "resolve_duplicates") or may(user, "write_learners")):
        raise not_allowed()
    query = select(DuplicateRequest).order_by(DuplicateRequest.filed_dt.desc(), DuplicateRequest.id.desc())
    if status:
        query = query.where(DuplicateRequest.status == status)
    if may(user, "resolve_duplicates"):
        query = query.where(DuplicateRequest.commune_id == user.scope_unit_id)
    else:
        query = query.where(DuplicateRequest.filed_by_id == user.id)
    return list(db.session.scalars(query.limit(200)))


def filing_commune(member) -> Unit:
    """The commune a member files requests for: the one they register learners in."""
    check(member, "write_learners")
    commune = units.current_unit(member.scope_unit_id, COMMUNE)
    if commune is None:
        raise not_allowed()
    return commune


def request_to_resolve(official, request_id: int) -> DuplicateRequest:
    """The request if `official` may resolve it: NotAllowedError for anyone who resolves
    none, NotFoundError for one that does not exist or is another commune's."""
    check(official, "resolve_duplicates")
    item = request_by_id(request_id)
    if item is None or not may(official, "resolve_duplicates", item.commune):
        raise NotFoundError("not-found", _l("This page does not exist."))
    return item


def request_by_id(request_id: int) -> DuplicateRequest | None:
    return db.session.get(DuplicateRequest, request_id)
