"""Bulk imports of learners, kept server-side between preview and confirmation.

The uploaded file is read and every row validated once; the valid rows (already
normalised, national ID numbers replaced by their keyed hash and last digits) are kept
in `payload` so the confirmation never trusts anything the browser sends back. An
import belongs to the member who uploaded it and is confirmed at most once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import UTCDateTime, utcnow
from lms.extensions import db

PENDING, IMPORTED, DISCARDED = "pending", "imported", "discarded"


class LearnerImport(db.Model):
    __tablename__ = "learner_imports"
    __table_args__ = {"comment": "Uploaded learner lists waiting for (or after) confirmation"}

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, comment="Member who uploaded it; only they confirm it")
    commune_id: Mapped[int] = mapped_column(ForeignKey("units.id"), comment="Commune the learners are registered in")
    filename: Mapped[str] = mapped_column(String(200), comment="Name of the uploaded file, for the member's reference")
    status: Mapped[str] = mapped_column(String(12), default=PENDING, comment="pending, imported or discarded")
    row_count: Mapped[int] = mapped_column(Integer, default=0, comment="Data rows in the file")
    valid_count: Mapped[int] = mapped_column(Integer, default=0, comment="Rows ready to import")
    imported_count: Mapped[int | None] = mapped_column(Integer, comment="Learners created on confirmation")
    payload: Mapped[dict] = mapped_column(JSON, comment="Validated rows and per-row problems (no ID numbers)")
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
