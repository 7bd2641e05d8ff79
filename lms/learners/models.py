"""Learners: the people who take courses, and the proof of their consent.

A learner's personal data (name, birth year, sex, where they live) is kept apart from
the login account so it can be corrected, exported or erased on request while
anonymous counts survive. `province_id`, `commune_id` and `village_id` are where the
learner lives; every query over learners is filtered on them by `lms.access`.
National ID numbers are never stored: only a keyed hash (for duplicate detection) and
the last digits (for display). Consent is recorded per purpose with the exact text
version, the time, and who collected it on the learner's behalf.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.db import SortKey, UTCDateTime, utcnow
from lms.extensions import db
from lms.units.models import Unit

FEMALE, MALE = "female", "male"
SEXES = (FEMALE, MALE)


class Learner(db.Model):
    __tablename__ = "learners"
    __table_args__ = (
        Index("ix_learners_commune_name", "commune_id", "name_sort_key"),
        Index("ix_learners_dupe_key", "commune_id", "name_folded", "birth_year"),
        {"comment": "Personal data of each learner"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True, comment="Login account; NULL after deletion")
    full_name: Mapped[str] = mapped_column(String(200), comment="Full name as on the ID card, NFC")
    name_folded: Mapped[str] = mapped_column(String(200), index=True, comment="Diacritic-free search key")
    name_sort_key: Mapped[str] = mapped_column(SortKey(), comment="Given name first, Vietnamese order")
    birth_year: Mapped[int | None] = mapped_column(SmallInteger, comment="Year of birth")
    sex: Mapped[str | None] = mapped_column(String(10), comment="female or male, as on the ID card")
    national_id_hash: Mapped[str | None] = mapped_column(String(64), unique=True, comment="HMAC-SHA256 of the ID number, for duplicate detection")
    national_id_last4: Mapped[str | None] = mapped_column(String(4), comment="Last four digits, for display")
    province_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True, comment="Province of residence")
    commune_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True, comment="Commune of residence")
    village_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True, comment="Village of residence, if known")
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="Team member who registered them; NULL for self sign-up")
    registered_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False, comment="Personal data erased on request")
    deleted_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id], back_populates="learner")
    province: Mapped[Unit] = relationship(foreign_keys=[province_id])
    commune: Mapped[Unit] = relationship(foreign_keys=[commune_id])
    village: Mapped[Unit | None] = relationship(foreign_keys=[village_id])


class Consent(db.Model):
    __tablename__ = "consents"
    __table_args__ = (
        UniqueConstraint("learner_id", "purpose", "given_dt"),
        {"comment": "Verifiable consent per purpose (Law 91/2025/QH15)"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(40), comment="What the data is processed for")
    text_version: Mapped[str] = mapped_column(String(40), comment="Version id of the consent text shown")
    locale: Mapped[str] = mapped_column(String(5), comment="Language the text was shown in")
    given_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    collected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="Staff who collected it on the learner's behalf")
    ip_address: Mapped[str | None] = mapped_column(String(45), comment="Where a self-given consent came from")

    @property
    def is_active(self) -> bool:
        return self.withdrawn_dt is None
