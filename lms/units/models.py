"""Administrative units: nation → province → commune → village.

Since 1 July 2025 Vietnam has 34 provinces and 3,321 commune-level units, coded by the
statistics office (provinces 2 digits, communes 5 digits). Codes are the stable key, but
a merged unit may reuse a predecessor's code, so each row also carries the dates it was
valid; a rename keeps the row (and records the old name in `unit_changes`), a merger
closes rows and points them at their successor. Villages (thôn, bản, tổ dân phố) have no
national code: commune staff create them, and they get a code `<commune>-<n>`.

Every unit row also knows its province and commune (`province_id`, `commune_id`), so
scoping and statistics filter with one indexed equality instead of walking the tree.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import SortKey, UTCDateTime, utcnow
from lms.extensions import db

NATION, PROVINCE, COMMUNE, VILLAGE = "nation", "province", "commune", "village"
LEVELS = (NATION, PROVINCE, COMMUNE, VILLAGE)
REFORM_DATE = date(2025, 7, 1)  # the two-level local government took effect


class Unit(db.Model):
    __tablename__ = "units"
    __table_args__ = (
        UniqueConstraint("level", "code", "valid_from"),
        Index("ix_units_parent_current", "parent_id", "valid_to"),
        {"comment": "Administrative units with their validity dates"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(10), comment="nation, province, commune or village")
    code: Mapped[str] = mapped_column(String(16), index=True, comment="Official code; villages: <commune>-<n>")
    name: Mapped[str] = mapped_column(String(200), comment="Vietnamese name, e.g. 'Xã Tân Lập'")
    name_folded: Mapped[str] = mapped_column(String(200), index=True, comment="Diacritic-free search key")
    name_sort_key: Mapped[str] = mapped_column(SortKey(), comment="Vietnamese collation key")
    division_type: Mapped[str] = mapped_column(String(40), comment="tỉnh, thành phố trung ương, xã, phường, đặc khu, thôn, ...")
    codename: Mapped[str | None] = mapped_column(String(120), comment="ASCII codename from the official list")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), comment="Enclosing unit")
    province_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True, comment="Province this unit is in (itself for a province)")
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True, comment="Commune this unit is in (itself for a commune)")
    valid_from: Mapped[date] = mapped_column(Date, comment="First day the unit existed with these boundaries")
    valid_to: Mapped[date | None] = mapped_column(Date, comment="Last day it was valid; NULL while current")
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), comment="Successor after a merger")
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], foreign_keys=[parent_id])

    @property
    def is_current(self) -> bool:
        return self.valid_to is None

    def __repr__(self) -> str:
        return f"<Unit {self.level} {self.code} {self.name!r}>"


class UnitChange(db.Model):
    """History of renames, retirements and mergers, so old reports stay explainable."""

    __tablename__ = "unit_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    change: Mapped[str] = mapped_column(String(20), comment="created, renamed, retyped, retired, merged")
    old_value: Mapped[str | None] = mapped_column(String(200))
    new_value: Mapped[str | None] = mapped_column(String(200))
    effective_on: Mapped[date] = mapped_column(Date)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="NULL when loaded from the official list")
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
