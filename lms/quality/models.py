"""Data-quality flags: one row per (kind, learner, subject), kept until reviewed.

`kind` says what looked wrong, `subject` what it is about (a course, a quiz attempt, a
helper, the other learner of a pair, an import), so the same finding is stored once
however often it is found again; `reason` holds the figures behind it (numbers and ids,
never names), from which the page writes the why in the reader's language. An official
reviews a flag: `genuine` (the data is right) or `problem` (it is not). The learner's
province, commune and village are copied so a dashboard counts flagged learners from one
index, without reading learners; a transfer moves them, an erasure deletes the flags.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import UTCDateTime, utcnow
from lms.extensions import db
from lms.learners.models import Learner

FAST_COURSE, FAST_QUIZ, HELPER_BURST, DUPLICATE, GENERATED_IMPORT = (
    "fast_course", "fast_quiz", "helper_burst", "duplicate", "generated_import")
KINDS = (FAST_COURSE, FAST_QUIZ, HELPER_BURST, DUPLICATE, GENERATED_IMPORT)
OPEN, GENUINE, PROBLEM = "open", "genuine", "problem"
STATUSES = (OPEN, GENUINE, PROBLEM)
COUNTED = (OPEN, PROBLEM)  # a learner is "flagged" on a dashboard unless confirmed genuine


class QualityFlag(db.Model):
    __tablename__ = "quality_flags"
    __table_args__ = (
        # Learner first: it also serves every read and delete by learner (erasure, exports).
        UniqueConstraint("learner_id", "kind", "subject", name="uq_quality_flags_finding"),
        Index("ix_quality_flags_units", "province_id", "commune_id", "village_id", "learner_id", "status"),
        {"comment": "Data-quality flags on learners, for officials to review"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), comment="fast_course, fast_quiz, helper_burst, duplicate, generated_import")
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), comment="Whose record looks wrong")
    subject: Mapped[str] = mapped_column(String(40), comment="What it is about, e.g. course:3, learner:7, import:2")
    reason: Mapped[dict] = mapped_column(JSON, comment="Figures behind the flag (numbers and ids, no names)")
    province_id: Mapped[int] = mapped_column(ForeignKey("units.id"), comment="Copy of the learner's province")
    commune_id: Mapped[int] = mapped_column(ForeignKey("units.id"), comment="Copy of the learner's commune")
    village_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), comment="Copy of the learner's village")
    status: Mapped[str] = mapped_column(String(10), default=OPEN, comment="open, genuine or problem")
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="Official who reviewed it")
    reviewed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    learner: Mapped[Learner] = relationship(foreign_keys=[learner_id])
