"""Statistics counters and targets.

Dashboards never read learners or progress rows. Every event that changes a figure
(registration, enrolment, start, completion, certificate issued/revoked/reinstated,
a transfer) adds or subtracts 1 in `stat_counters`, in the transaction of the event,
at the finest level: one row per commune, village (0 = none), course (0 = not about a
course), month ('YYYY-MM', Vietnam time), sex, age band, mode (self-study or assisted),
metric and shard. Reading sums upward with one GROUP BY over counters filtered on
`province_id` or `commune_id`. `shard` (learner id modulo `SHARDS`) spreads concurrent
completions in one commune over several rows, so they do not queue behind one hot row.

What each metric counts (the recount in `recount.py` is the definition):
- registered: learners, by month of registration; mode: registered by a team member
  (assisted) or self sign-up. Erasing a learner's personal data keeps the row's commune,
  birth year and sex, so they stay counted (anonymous counts survive deletion).
- enrolled / started / completed: enrolments (learner × course), by the month of
  `enrolled_dt`, `started_dt`, `completed_dt`; mode: `Enrollment.is_assisted`.
- certified: certificates not revoked, by month of issue; mode of the enrolment.
Age band: age in the event's year (event year − birth year).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import UTCDateTime, utcnow
from lms.extensions import db

REGISTERED, ENROLLED, STARTED, COMPLETED, CERTIFIED = "registered", "enrolled", "started", "completed", "certified"
METRICS = (REGISTERED, ENROLLED, STARTED, COMPLETED, CERTIFIED)
AGE_BANDS = ("under-18", "18-34", "35-59", "60+", "unknown")
ADULT_BANDS = ("18-34", "35-59", "60+")
SEX_VALUES = ("female", "male", "unknown")
SELF_STUDY, ASSISTED = "self", "assisted"
MODES = (SELF_STUDY, ASSISTED)
SHARDS = 8
KEY_COLUMNS = ("province_id", "commune_id", "village_id", "course_id", "month", "sex", "age_band", "mode",
               "metric", "shard")


class StatCounter(db.Model):
    __tablename__ = "stat_counters"
    __table_args__ = (
        UniqueConstraint(*KEY_COLUMNS, name="uq_stat_counters_key"),
        Index("ix_stat_counters_province_metric", "province_id", "metric", "commune_id"),
        Index("ix_stat_counters_commune_metric", "commune_id", "metric", "village_id"),
        {"comment": "Statistics counters at the finest level; dashboards sum them upward"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(Integer, comment="Province of the commune (for one-scan rollups)")
    commune_id: Mapped[int] = mapped_column(Integer, comment="Commune of residence")
    village_id: Mapped[int] = mapped_column(Integer, comment="Village of residence; 0 = none given")
    course_id: Mapped[int] = mapped_column(Integer, comment="Course; 0 for metrics not about a course")
    month: Mapped[str] = mapped_column(String(7), comment="Month of the event, YYYY-MM, Vietnam time")
    sex: Mapped[str] = mapped_column(String(7), comment="female, male or unknown")
    age_band: Mapped[str] = mapped_column(String(8), comment="Age in the event's year: under-18, 18-34, 35-59, 60+, unknown")
    mode: Mapped[str] = mapped_column(String(8), comment="self or assisted")
    metric: Mapped[str] = mapped_column(String(12), comment="registered, enrolled, started, completed, certified")
    shard: Mapped[int] = mapped_column(SmallInteger, comment="Learner id modulo SHARDS, against hot rows")
    value: Mapped[int] = mapped_column(Integer, default=0, comment="The count")


class StatTarget(db.Model):
    __tablename__ = "stat_targets"
    __table_args__ = {"comment": "Number of adults a unit aims to reach by a date"}

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), unique=True, comment="One current target per unit")
    adults: Mapped[int] = mapped_column(Integer, comment="Adults (18+) to register by due_on")
    due_on: Mapped[date] = mapped_column(Date, comment="Deadline")
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="Official who set it")
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
