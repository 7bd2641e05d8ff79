"""Statistics counters and targets.

Dashboards never read learners or progress rows. Every event that changes a figure
(registration, enrolment, start, completion, certificate issued/revoked/reinstated,
a transfer) adds or subtracts 1 in `stat_counters`, in the transaction of the event,
at the finest level: one row per commune, village (0 = none), course (0 = not about a
course), month ('YYYY-MM', Vietnam time), sex, age band, mode (self-study or assisted),
metric and shard. `shard` (learner id modulo `SHARDS`) spreads concurrent completions
in one commune over several rows, so they do not queue behind one hot row.

Dashboards, exports, the statistics API and open data do not read `stat_counters` (it
has about four rows per learner): they read `stat_rollups`, written by the same writer
in the same transaction (one executemany upsert per flush). Every change of a counter
also changes, through `rollup_keys`, the figures a dashboard shows for every unit above
the learner (village, commune, province, nation): the unit's totals (course 0, period
and dimension 'all'), its breakdowns by sex, age band and mode (period 'all'), its
months (dimension 'all') and its courses (period and dimension 'all'), plus, on the
commune, the learners with no village ('village:none'), and, on every unit but a
village, the totals of each unit directly below it ('unit:<child id>', a copy of the
child's own totals kept under the parent). So the page of a unit reads one index range,
its own rows: a few hundred, whatever the number of learners (a province's 168 communes
are 840 neighbouring rows, not 168 separate lookups). The nation is `unit_id` 0 (there is one; its `units`
row may be created after the first learners, and the writer must not depend on it).
Nation and province rows are sharded (learner id modulo `ROLLUP_SHARDS`) against hot
rows; commune and village rows are not (shard 0), and a child's row under its parent is
sharded as the child's own rows are (it is exactly as hot). The rollup is a function of the
counters (`rollup_keys`); `recount.py` checks and rebuilds both. The fine counters stay:
they cost one row per event (against ~25 rollup rows), `flask statistics recount` diffs
them cell by cell against the raw rows, and they are the only place that crosses
commune × village × month × sex × age band × mode (tests and ad-hoc analysis); no page
reads them.

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

from collections import Counter
from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, SmallInteger, String, UniqueConstraint
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
ROLLUP_SHARDS = 4  # divides SHARDS, so a counter's shard determines its rollup shard
NATION_ROLLUP = 0  # unit_id of the nation in stat_rollups (there is one nation; its row may not exist yet)
ALL = "all"
NO_VILLAGE = "village:none"
CHILD = "unit:"  # dimension prefix of a child unit's totals kept under its parent
ROLLUP_COLUMNS = ("unit_id", "course_id", "period", "dimension", "metric", "shard")
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


class StatRollup(db.Model):
    __tablename__ = "stat_rollups"
    __table_args__ = (
        # The key is the primary key, and on SQLite the table is stored in it (WITHOUT ROWID):
        # a dashboard's index range scans read the values without a second lookup per row,
        # and an upsert maintains one B-tree.
        # On PostgreSQL 30 % of each page stays free, so an upsert's new row version
        # stays on its page (a HOT update) next to its unit's other rows, which the
        # recount writes together, and the table is vacuumed after 1 % of it changed
        # (migration 5b1e7c0d9a42).
        {"comment": "Dashboard figures per unit of every level, maintained with stat_counters",
         "sqlite_with_rowid": False,
         "postgresql_with": {"fillfactor": 70, "autovacuum_vacuum_scale_factor": 0.01,
                             "autovacuum_vacuum_threshold": 1000}},
    )

    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False,
                                         comment="Village, commune or province; 0 = the nation")
    course_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False,
                                           comment="Course; 0 = all courses (and registrations)")
    period: Mapped[str] = mapped_column(String(7), primary_key=True, comment="'all' or a month YYYY-MM, Vietnam time")
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True,
                                           comment="'all', 'sex:<sex>', 'age:<band>', 'mode:<mode>', "
                                                   "'unit:<child unit id>' or 'village:none' (commune rows)")
    metric: Mapped[str] = mapped_column(String(12), primary_key=True,
                                        comment="registered, enrolled, started, completed, certified")
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False,
                                       comment="Learner id modulo ROLLUP_SHARDS (nation, province); else 0")
    value: Mapped[int] = mapped_column(Integer, default=0, comment="The count")


def rollup_keys(key: tuple) -> list[tuple]:
    """The rollup rows (values in the order of ROLLUP_COLUMNS) a counter `key` adds to."""
    province_id, commune_id, village_id, course_id, month, sex, band, mode, metric, shard = key
    hot = shard % ROLLUP_SHARDS
    units = [(NATION_ROLLUP, hot), (province_id, hot), (commune_id, 0)]
    keys = [(NATION_ROLLUP, 0, ALL, f"{CHILD}{province_id}", metric, hot),
            (province_id, 0, ALL, f"{CHILD}{commune_id}", metric, 0)]
    if village_id:
        units.append((village_id, 0))
        keys.append((commune_id, 0, ALL, f"{CHILD}{village_id}", metric, 0))
    else:
        keys.append((commune_id, 0, ALL, NO_VILLAGE, metric, 0))
    for unit_id, unit_shard in units:
        keys += [(unit_id, 0, ALL, ALL, metric, unit_shard), (unit_id, 0, month, ALL, metric, unit_shard),
                 (unit_id, 0, ALL, "sex:" + sex, metric, unit_shard),
                 (unit_id, 0, ALL, "age:" + band, metric, unit_shard),
                 (unit_id, 0, ALL, "mode:" + mode, metric, unit_shard)]
        if course_id:
            keys.append((unit_id, course_id, ALL, ALL, metric, unit_shard))
    return keys


class StatTarget(db.Model):
    __tablename__ = "stat_targets"
    __table_args__ = {"comment": "Number of adults a unit aims to reach by a date"}

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), unique=True, comment="One current target per unit")
    adults: Mapped[int] = mapped_column(Integer, comment="Adults (18+) to register by due_on")
    due_on: Mapped[date] = mapped_column(Date, comment="Deadline")
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="Official who set it")
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class StatChange(db.Model):
    """When the writer last changed a commune's figures: the check looks there first."""

    __tablename__ = "stat_changes"
    __table_args__ = {"comment": "Last time the counter writer changed each commune's figures"}

    commune_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False,
                                            comment="Commune (units.id) whose counters changed")
    changed_dt: Mapped[datetime] = mapped_column(UTCDateTime, comment="When, as the writer saw it")


class StatCheckUnit(db.Model):
    """When each unit was last checked against the raw rows (`check.py`)."""

    __tablename__ = "stat_check_units"
    __table_args__ = {"comment": "Last check of each unit's counters and rollup rows"}

    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False,
                                         comment="Commune or province (units.id); 0 = the nation")
    level: Mapped[str] = mapped_column(String(10), comment="commune, province or nation")
    checked_dt: Mapped[datetime] = mapped_column(UTCDateTime, comment="When it was last checked")
    differences: Mapped[int] = mapped_column(Integer, default=0, comment="Rows that differed at that check")


class StatCheckRun(db.Model):
    __tablename__ = "stat_check_runs"
    __table_args__ = {"comment": "One run of the incremental statistics check"}

    id: Mapped[int] = mapped_column(primary_key=True)
    started_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, comment="When the run began")
    finished_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="When it ended")
    seconds_allowed: Mapped[float] = mapped_column(Float, comment="Time budget of the run")
    units_checked: Mapped[int] = mapped_column(Integer, default=0, comment="Units checked in this run")
    units_total: Mapped[int] = mapped_column(Integer, default=0, comment="Units there are to check")
    units_differing: Mapped[int] = mapped_column(Integer, default=0, comment="Units with at least one difference")
    differences: Mapped[int] = mapped_column(Integer, default=0, comment="Rows that differed")
    is_repair: Mapped[bool] = mapped_column(Boolean, default=False, comment="Whether differing units were rewritten")
    longest_unit_ms: Mapped[float] = mapped_column(Float, default=0.0,
                                                   comment="Longest time one unit's check (one transaction) took")


class StatCheckDifference(db.Model):
    __tablename__ = "stat_check_differences"
    __table_args__ = {"comment": "A counter or rollup row that differed from the raw rows at a check"}

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("stat_check_runs.id"), index=True, comment="The check run")
    unit_id: Mapped[int] = mapped_column(Integer, comment="The unit checked (0 = the nation)")
    table_name: Mapped[str] = mapped_column(String(20), comment="stat_counters or stat_rollups")
    key: Mapped[str] = mapped_column(String(200), comment="The row's key columns, name=value, comma-separated")
    stored: Mapped[int] = mapped_column(Integer, comment="Value stored")
    expected: Mapped[int] = mapped_column(Integer, comment="Value recounted from the raw rows")
    is_repaired: Mapped[bool] = mapped_column(Boolean, default=False, comment="Rewritten by this run")


def rollup_deltas(deltas: Counter) -> Counter:
    """The changes of `stat_rollups` that follow from counter changes `deltas` (here, below
    both the writer and the recount, which each need it)."""
    rollups: Counter = Counter()
    for key, delta in deltas.items():
        if delta:
            for rollup_key in rollup_keys(key):
                rollups[rollup_key] += delta
    return rollups
