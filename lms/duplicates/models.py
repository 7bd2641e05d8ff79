"""A member's request to resolve a duplicate phone or ID number with the commune official."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.db import UTCDateTime, utcnow
from lms.extensions import db
from lms.learners.models import Learner
from lms.units.models import Unit

OPEN, MOVED, DISMISSED = "open", "moved", "dismissed"
STATUSES = (OPEN, MOVED, DISMISSED)
KINDS = ("phone", "national_id")

class DuplicateRequest(db.Model):
    __tablename__ = "duplicate_requests"
    __table_args__ = (
        Index("ix_duplicate_requests_commune_status", "commune_id", "status"),
        {"comment": "Requests to resolve a phone or ID number already registered, for the commune official"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("units.id"), comment="Commune where the person is being registered")
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), comment="Team member who filed it")
    filed_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, comment="When it was filed")
    kind: Mapped[str] = mapped_column(String(12), comment="What matched: phone or national_id")
    existing_learner_id: Mapped[int | None] = mapped_column(
        ForeignKey("learners.id"), index=True, comment="The learner already registered with it; NULL once erased")
    full_name: Mapped[str] = mapped_column(String(200), comment="Name of the person the member met, as typed")
    note: Mapped[str | None] = mapped_column(String(500), comment="What the member adds (never the ID number)")
    status: Mapped[str] = mapped_column(String(12), default=OPEN, comment="open, moved or dismissed")
    resolved_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="When the official resolved it")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="Official who resolved it")
    resolution_note: Mapped[str | None] = mapped_column(String(500), comment="What the official found")

    commune: Mapped[Unit] = relationship(foreign_keys=[commune_id])
    filed_by: Mapped[User] = relationship(foreign_keys=[filed_by_id])
    existing_learner: Mapped[Learner | None] = relationship(foreign_keys=[existing_learner_id])

    @property
    def is_open(self) -> bool:
        return self.status == OPEN
