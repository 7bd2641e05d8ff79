"""Write audit events; called by every operation that touches personal data."""

from __future__ import annotations

from flask import has_request_context, request

from lms.audit.models import AuditEvent
from lms.extensions import db


def record(action: str, *, actor=None, learner=None, unit_id=None, **details) -> AuditEvent:
    """Append one audit event in the current transaction."""
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", actor),
        learner_id=getattr(learner, "id", None),
        unit_id=unit_id if unit_id is not None else getattr(learner, "commune_id", None),
        details=details or None,
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event
