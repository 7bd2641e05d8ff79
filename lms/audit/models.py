"""Audit trail: who touched whose personal data, when.

Needed to answer a data subject's questions and to notify a breach within 72 hours:
every view and change of a learner's personal data, every revocation, every staff
account change writes one row. `unit_id` is the learner's commune, so officials can
read the log for their own scope.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import UTCDateTime, utcnow
from lms.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_unit_dt", "unit_id", "created_dt"),
        # Counting a member's identity checks within the hour (lms.duplicates.queries).
        Index("ix_audit_events_actor_action_dt", "actor_id", "action", "created_dt"),
        {"comment": "Append-only record of access to and changes of personal data"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True, comment="Who did it; NULL for the system")
    action: Mapped[str] = mapped_column(String(60), comment="e.g. learner.view, learner.update, account.create")
    learner_id: Mapped[int | None] = mapped_column(ForeignKey("learners.id"), index=True, comment="Whose data")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), comment="Commune the record belongs to")
    details: Mapped[dict | None] = mapped_column(JSON, comment="What changed (never secrets)")
    ip_address: Mapped[str | None] = mapped_column(String(45))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
