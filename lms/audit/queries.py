"""Reading the audit trail: an official reads the events of their own scope."""

from __future__ import annotations

from sqlalchemy import Select, select

from lms.access import check, scope_units
from lms.audit.models import AuditEvent
from lms.units.models import Unit


def audit_events(user) -> Select:
    """Audit events for the learners and communes of an official's scope, newest first."""
    check(user, "read_audit")
    communes = select(Unit.id).where(scope_units(user).unit_filter())
    return (select(AuditEvent).where(AuditEvent.unit_id.in_(communes))
            .order_by(AuditEvent.created_dt.desc(), AuditEvent.id.desc()))
