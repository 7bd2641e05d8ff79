"""Certificates: proof that a learner completed a course, issued exactly once.

A `Certificate` is created in the same transaction that completes an `Enrollment`
(`lms.learning.events.course_completed`), at most one per enrolment: the database
enforces it with a unique `enrollment_id`. It keeps a *snapshot* of every field that
is printed (name, course title in both languages, completion date, commune and
province), so the PDF can be re-rendered byte for byte later and the public
verification page shows what the paper says, even after the learner moves or a unit is
renamed. The serial ("2026-000123") comes from the year of issue and the row id; the
verification code is an HMAC of the serial under `CERTIFICATE_KEY`
(`certificates.codes`), stored in canonical form so a typed code is one indexed lookup.

A certificate is never deleted: an official revokes it (with a reason, audited) and
may reinstate it. Community teams mark printed and handed-over copies.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import UTCDateTime, utcnow
from lms.extensions import db
from lms.learners.models import Learner


class Certificate(db.Model):
    __tablename__ = "certificates"
    __table_args__ = {"comment": "Course-completion certificates with a snapshot of what is printed"}

    id: Mapped[int] = mapped_column(primary_key=True, comment="Also the number in the serial")
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("enrollments.id"), unique=True,
        comment="The completed enrolment; unique, so a certificate is issued exactly once")
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True, comment="Who earned it")
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True, comment="Which course")
    serial: Mapped[str] = mapped_column(
        String(20), unique=True, comment="Printed number <year of issue>-<id>, e.g. 2026-000123")
    verification_code: Mapped[str] = mapped_column(
        String(20), unique=True, comment="HMAC of the serial (certificates.codes), canonical 11 characters")
    full_name: Mapped[str] = mapped_column(String(200), comment="Printed name (NFC), as on the day of issue")
    course_title_vi: Mapped[str] = mapped_column(String(200), comment="Printed course title in Vietnamese")
    course_title_en: Mapped[str] = mapped_column(String(200), comment="Printed course title in English")
    completed_on: Mapped[date] = mapped_column(Date, index=True, comment="Printed completion date, Vietnam time")
    commune_name: Mapped[str] = mapped_column(String(200), comment="Printed commune of residence at issue")
    province_name: Mapped[str] = mapped_column(String(200), comment="Printed province of residence at issue")
    issued_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, comment="When it was issued")
    is_revoked: Mapped[bool] = mapped_column(Boolean, default=False, comment="Revoked by an official")
    revoked_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="When it was revoked; NULL if valid")
    revocation_reason: Mapped[str | None] = mapped_column(
        String(500), comment="Why it was revoked; shown to staff and the holder, never on the public page")
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="Official who revoked it")
    printed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="When the team marked it printed")
    printed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="Who marked it printed")
    handed_over_dt: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="When the team marked the paper copy handed to the learner")
    handed_over_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), comment="Who marked it handed over")

    learner: Mapped[Learner] = relationship(foreign_keys=[learner_id])

    def course_title(self, locale: str) -> str:
        return self.course_title_en if locale == "en" else self.course_title_vi

    @property
    def status(self) -> str:
        """The word the verification page and the API use: valid or revoked."""
        return "revoked" if self.is_revoked else "valid"

    def __repr__(self) -> str:
        return f"<Certificate {self.serial}>"


class VerificationMiss(db.Model):
    """One public lookup of a well-formed code that matched no certificate, kept for the
    window only (`lms.certs.verification`). The address is kept as a keyed hash: enough to
    count, not to say who it was."""

    __tablename__ = "verification_misses"
    __table_args__ = {"comment": "Recent verification codes that matched nothing, per address, for limiting"}

    id: Mapped[int] = mapped_column(primary_key=True)
    address_key: Mapped[str] = mapped_column(String(64), index=True,
                                             comment="HMAC-SHA256 of the client address under SECRET_KEY")
    missed_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True,
                                                comment="When the unknown code was looked up")
