"""Dashboard reads: sums over `stat_counters`, never over learners or progress rows.

A unit's figures are one GROUP BY over the counters filtered on the unit's indexed key
(`province_id`, `commune_id` or `village_id`); its children's figures come from the
same scan grouped by the child's key. Who may read which unit is decided by
`lms.access.scope_units` (see `may_read`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select, true

from lms.extensions import db
from lms.statistics.models import (
    ADULT_BANDS,
    AGE_BANDS,
    CERTIFIED,
    COMPLETED,
    ENROLLED,
    METRICS,
    MODES,
    REGISTERED,
    SEX_VALUES,
    StatCounter,
    StatTarget,
)
from lms.units.models import COMMUNE, NATION, PROVINCE, VILLAGE, Unit

CHILD_KEY = {NATION: "province_id", PROVINCE: "commune_id", COMMUNE: "village_id"}
SORT_KEYS = ("name", *METRICS, "completion_rate", "certification_rate")


@dataclass
class Figures:
    """Counts per metric for one unit, course or month, and the rates derived from them."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(METRICS, 0))

    def __getitem__(self, metric: str) -> int:
        return self.counts[metric]

    def add(self, metric: str, value: int) -> None:
        self.counts[metric] += int(value or 0)

    @property
    def completion_rate(self) -> float | None:
        """Completed enrolments per enrolment."""
        return self.counts[COMPLETED] / self.counts[ENROLLED] if self.counts[ENROLLED] else None

    @property
    def certification_rate(self) -> float | None:
        """Certificates (not revoked) per completed enrolment."""
        return self.counts[CERTIFIED] / self.counts[COMPLETED] if self.counts[COMPLETED] else None


@dataclass
class ChildRow:
    unit: Unit | None  # None: learners with no village given
    figures: Figures


@dataclass
class Dashboard:
    unit: Unit
    breadcrumbs: list[Unit]
    total: Figures
    children: list[ChildRow]
    months: list[tuple[str, Figures]]
    courses: list[tuple[object, Figures]]
    by_sex: dict[str, Figures]
    by_age: dict[str, Figures]
    by_mode: dict[str, Figures]
    adults_reached: int
    target: StatTarget | None

    @property
    def target_progress(self) -> float | None:
        return self.adults_reached / self.target.adults if self.target else None


def unit_condition(unit: Unit):
    """The counters of `unit` and everything below it, as one indexed equality."""
    if unit.level == NATION:
        return true()
    if unit.level == PROVINCE:
        return StatCounter.province_id == unit.id
    if unit.level == COMMUNE:
        return StatCounter.commune_id == unit.id
    return (StatCounter.commune_id == unit.commune_id) & (StatCounter.village_id == unit.id)


def _grouped(unit: Unit, *columns) -> list:
    query = (select(*columns, StatCounter.metric, func.sum(StatCounter.value))
             .where(unit_condition(unit)).group_by(*columns, StatCounter.metric))
    return db.session.execute(query).all()


def _by(rows, keys=None) -> dict:
    result: dict = defaultdict(Figures) if keys is None else {key: Figures() for key in keys}
    for key, metric, value in rows:
        if keys is None or key in result:
            result[key].add(metric, value)
    return result


def breadcrumbs(unit: Unit) -> list[Unit]:
    from lms.units.operations import ensure_nation

    chain = [ensure_nation()]
    for unit_id in (unit.province_id, unit.commune_id):
        if unit_id and unit_id != chain[-1].id:
            chain.append(db.session.get(Unit, unit_id))
    if chain[-1].id != unit.id:
        chain.append(unit)
    return chain


def _children(unit: Unit, sort: str, descending: bool) -> list[ChildRow]:
    key = CHILD_KEY.get(unit.level)
    if key is None:
        return []
    figures = _by(_grouped(unit, getattr(StatCounter, key)))
    level = {NATION: PROVINCE, PROVINCE: COMMUNE, COMMUNE: VILLAGE}[unit.level]
    parent = Unit.parent_id == unit.id if unit.level != NATION else true()
    units = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.level == level, parent,
                                                                     Unit.valid_to.is_(None) | Unit.id.in_(figures)))}
    rows = [ChildRow(u, figures.get(u.id, Figures())) for u in units.values()]
    if 0 in figures:
        rows.append(ChildRow(None, figures[0]))
    return sort_rows(rows, sort, descending)


def sort_rows(rows: list[ChildRow], sort: str, descending: bool) -> list[ChildRow]:
    """By Vietnamese name (Unit.name_sort_key), or by a figure with the name breaking ties."""
    rows = sorted(rows, key=lambda row: row.unit.name_sort_key if row.unit else "\uffff")
    if sort != "name" and sort in SORT_KEYS:
        def figure(row):
            value = getattr(row.figures, sort) if sort.endswith("_rate") else row.figures[sort]
            return -1 if value is None else value
        rows.sort(key=figure, reverse=descending)
    elif descending:
        rows.reverse()
    return rows


def dashboard(unit: Unit, sort: str = "name", descending: bool = False) -> Dashboard:
    """Everything the statistics page of `unit` shows."""
    from lms.learning.models import Course

    children = _children(unit, sort, descending)
    months = sorted(_by(_grouped(unit, StatCounter.month)).items())
    course_figures = _by(_grouped(unit, StatCounter.course_id))
    course_figures.pop(0, None)
    courses = {c.id: c for c in db.session.scalars(select(Course).where(Course.id.in_(course_figures)))}
    course_rows = sorted(((courses[cid], figures) for cid, figures in course_figures.items() if cid in courses),
                         key=lambda item: item[0].position)
    groups = _grouped(unit, StatCounter.sex, StatCounter.age_band, StatCounter.mode)
    total = Figures()
    for *_key, metric, value in groups:
        total.add(metric, value)
    adults = sum(value for _sex, band, _mode, metric, value in groups if metric == REGISTERED and band in ADULT_BANDS)
    return Dashboard(
        unit=unit, breadcrumbs=breadcrumbs(unit), total=total, children=children, months=months, courses=course_rows,
        by_sex=_by([(row[0], row[3], row[4]) for row in groups], SEX_VALUES),
        by_age=_by([(row[1], row[3], row[4]) for row in groups], AGE_BANDS),
        by_mode=_by([(row[2], row[3], row[4]) for row in groups], MODES),
        adults_reached=int(adults or 0),
        target=db.session.scalar(select(StatTarget).where(StatTarget.unit_id == unit.id)))


def may_read(user, unit: Unit | None) -> bool:
    """Officials read their unit and below; team members their whole commune."""
    from lms.access import VILLAGES, may, scope_units

    if unit is None:
        return False
    if may(user, "read_statistics", unit):
        return True
    scope = scope_units(user)
    return (may(user, "read_statistics") and scope.level == VILLAGES
            and unit.id in (scope.unit_id, *scope.village_ids) and unit.level in (COMMUNE, VILLAGE))
