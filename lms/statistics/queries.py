"""Dashboard reads: sums over `stat_rollups`, never over learners, progress rows or the
fine counters, so a page costs the same whatever the number of learners.

The page of a unit reads one index range of the rollup (see `models.py`) and its target
in one statement (`page_figures`): the rows of the unit (totals, sex, age band, mode,
months, courses, and its children's totals; summed over shards). The units themselves
come from copies kept in memory (`official_unit`, `child_units`). Who may read which
unit is decided by `lms.access.scope_units` (see `may_read`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, String, bindparam, case, cast, func, literal, select, union_all

from lms import cache
from lms.access import VILLAGES, check, may, may_on_units, not_allowed, scope_units
from lms.errors import NotFoundError
from lms.extensions import db
from lms.statistics.models import (
    ADULT_BANDS,
    AGE_BANDS,
    ALL,
    CERTIFIED,
    CHILD,
    COMPLETED,
    ENROLLED,
    METRICS,
    MODES,
    NATION_ROLLUP,
    NO_VILLAGE,
    REGISTERED,
    SEX_VALUES,
    StatRollup,
    StatTarget,
)
from lms.units.models import COMMUNE, NATION, PROVINCE, VILLAGE, Unit
from lms.units.queries import child_units, forget_units, official_unit

__all__ = ["child_units", "official_unit"]  # the unit copies dashboards show, kept by lms.units

CHILD_LEVEL = {NATION: PROVINCE, PROVINCE: COMMUNE, COMMUNE: VILLAGE}
SORT_KEYS = ("name", *METRICS, "completion_rate", "certification_rate")


@dataclass(frozen=True)
class Figures:
    """Counts per metric for one unit, course or month, and the rates derived from them."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(METRICS, 0))

    def __getitem__(self, metric: str) -> int:
        return self.counts[metric]

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


@dataclass(frozen=True)
class Target:
    """A unit's target as its dashboard shows it."""

    adults: int
    due_on: date


_targets = StatTarget.__table__


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
    target: Target | None

    @property
    def target_progress(self) -> float | None:
        return self.adults_reached / self.target.adults if self.target else None


def rollup_id(unit: Unit | None) -> int:
    """The unit's `unit_id` in the rollup (the nation, or None, is 0)."""
    return NATION_ROLLUP if unit is None or unit.level == NATION else unit.id


def unit_rows(unit: Unit | None, *conditions) -> list:
    """(course_id, period, dimension, metric, value) of the unit itself, summed over shards."""
    columns = (StatRollup.course_id, StatRollup.period, StatRollup.dimension, StatRollup.metric)
    query = (select(*columns, func.sum(StatRollup.value)).where(StatRollup.unit_id == rollup_id(unit), *conditions)
             .group_by(*columns))
    return db.session.execute(query).all()


def child_totals(unit: Unit | None, *conditions) -> list:
    """(child unit id, metric, value): the totals of every child of `unit` that has figures,
    from the copies kept under the unit ('unit:<id>' rows)."""
    query = (select(StatRollup.dimension, StatRollup.metric, func.sum(StatRollup.value))
             .where(StatRollup.unit_id == rollup_id(unit), StatRollup.course_id == 0, StatRollup.period == ALL,
                    StatRollup.dimension.startswith(CHILD, autoescape=True), *conditions)
             .group_by(StatRollup.dimension, StatRollup.metric))
    return [(int(dimension[len(CHILD):]), metric, value) for dimension, metric, value in db.session.execute(query)]


NO_FIGURES = Figures()  # shared: figures are never changed once read


def _figures(values) -> Figures:
    """From one pivoted rollup row: a SUM over at least one row, with ELSE 0, is an integer."""
    return Figures(dict(zip(METRICS, values, strict=True)))


_statements: dict[str, object] = {}
TARGET_ROW = -1  # first column of the row that carries the unit's target


def _page_statement(dialect: str):
    """Everything a dashboard reads, in one statement (UNION ALL), built once per process
    (building its expressions cost about as much as running it):

    - the unit's rollup rows, one index range: one SUM per metric, so rows come back
      pivoted, one per (course, period, dimension), summed over shards; its children's
      totals are among them ('unit:<id>'). First column 0.
    - its target, if set, as one more row (first column TARGET_ROW; course_id: the adults
      to reach; period: the due date as YYYY-MM-DD): a round trip less than its own query.
    """
    statement = _statements.get(dialect)
    if statement is not None:
        return statement
    sums = [func.sum(case((StatRollup.metric == metric, StatRollup.value), else_=0)) for metric in METRICS]
    groups = (StatRollup.course_id, StatRollup.period, StatRollup.dimension)
    rollup = (select(literal(0, Integer).label("kind"), *groups, *sums)
              .where(StatRollup.unit_id == bindparam("own_id")).group_by(*groups))
    # The date as text the same way on both engines (PostgreSQL's own date output
    # follows the server's DateStyle; SQLite stores it as YYYY-MM-DD).
    due = (func.to_char(_targets.c.due_on, "YYYY-MM-DD") if dialect == "postgresql"
           else cast(_targets.c.due_on, String))
    target = (select(literal(TARGET_ROW, Integer), _targets.c.adults, due, literal("target", String),
                     *[literal(0, Integer)] * len(METRICS))
              .where(_targets.c.unit_id == bindparam("unit_id")))
    statement = _statements[dialect] = union_all(rollup, target)
    return statement


def page_figures(unit: Unit) -> tuple[list, dict[int, Figures], Target | None]:
    """([(course_id, period, dimension, Figures)] of the unit itself, summed over shards;
    {child id: Figures} of its children that have figures; its target), read in one
    statement (`_page_statement`)."""
    statement = _page_statement(db.session.get_bind().dialect.name)
    own_rows, child_figures, target = [], {}, None
    # Through the session's connection, not the ORM: these are plain rows, 200 for a province.
    for kind, course_id, period, dimension, *values in db.session.connection().execute(
            statement, {"own_id": rollup_id(unit), "unit_id": unit.id}):
        if kind == TARGET_ROW:
            target = Target(course_id, date.fromisoformat(period))
        elif dimension.startswith(CHILD):
            child_figures[int(dimension[len(CHILD):])] = _figures(values)
        else:
            own_rows.append((course_id, period, dimension, _figures(values)))
    return own_rows, child_figures, target


def breadcrumbs(unit: Unit) -> list[Unit]:
    chain = [unit if unit.level == NATION else official_unit(nation_id())]
    for unit_id in (unit.province_id, unit.commune_id):
        if unit_id and unit_id != chain[-1].id:
            chain.append(official_unit(unit_id))
    if chain[-1].id != unit.id:
        chain.append(unit)
    return chain


@dataclass(frozen=True)
class CourseLabel:
    """What a dashboard shows of a course (a title per language, its place)."""

    id: int
    slug: str
    position: int
    title_vi: str
    title_en: str

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" else self.title_vi


COURSE_LABELS_SECONDS = 30.0  # as the content cache: a course sync shows within 30 s
_course_labels = cache.named("course_labels", maxsize=1, ttl=COURSE_LABELS_SECONDS, why=(
    "every course's titles for dashboards; a sync through another server shows within the TTL"))
_nation = cache.named("nation", maxsize=1, why="the id of the nation's units row, which never changes")


def course_labels(needed: set[int]) -> dict[int, CourseLabel]:
    """Every course's label by id, read at most every 30 seconds (four rows that change
    only with a content sync), or at once when a needed course is not known yet: one
    query less on every dashboard."""
    from lms.learning.models import Course

    kept = _course_labels.get("courses")
    if kept is not None and needed <= kept.keys():
        return kept
    labels = {row.id: CourseLabel(row.id, row.slug, row.position, row.title_vi, row.title_en)
              for row in db.session.execute(select(Course.id, Course.slug, Course.position, Course.title_vi,
                                                   Course.title_en))}
    return _course_labels.set("courses", labels)


def nation_id() -> int:
    """The id of the nation's `units` row, created on first use; it never changes."""
    kept = _nation.get("id")
    if kept is not None:
        return kept
    found = db.session.scalar(select(Unit.id).where(Unit.level == NATION))
    if found is None:  # created now, in a transaction that may not commit: not kept
        from lms.units.operations import ensure_nation

        return ensure_nation().id
    return _nation.set("id", found)


def forget_kept() -> None:
    """Forget what dashboards keep in memory: unit copies, course labels, the nation's id."""
    forget_units()
    _course_labels.clear()
    _nation.clear()


def _children(unit: Unit, candidates: list[Unit], figures: dict[int, Figures], own: list, sort: str,
              descending: bool) -> list[ChildRow]:
    if unit.level not in CHILD_LEVEL:
        return []
    # Retired units (merged communes) stay listed while they still have figures.
    rows = [ChildRow(u, figures.get(u.id, NO_FIGURES)) for u in candidates if u.valid_to is None or u.id in figures]
    no_village = [figures for course_id, period, dimension, figures in own
                  if dimension == NO_VILLAGE and course_id == 0 and period == ALL]
    if unit.level == COMMUNE and no_village:
        rows.append(ChildRow(None, no_village[0]))
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
    level = CHILD_LEVEL.get(unit.level)
    candidates = child_units(unit, level) if level else []
    own, figures, target = page_figures(unit)
    children = _children(unit, candidates, figures, own, sort, descending)
    total, months, course_figures = NO_FIGURES, {}, {}
    groups: dict[str, dict[str, Figures]] = {"sex": dict.fromkeys(SEX_VALUES, NO_FIGURES),
                                             "age": dict.fromkeys(AGE_BANDS, NO_FIGURES),
                                             "mode": dict.fromkeys(MODES, NO_FIGURES)}
    adults = 0
    for course_id, period, dimension, figures in own:  # one row per (course, period, dimension)
        if course_id:
            if period == ALL and dimension == ALL:
                course_figures[course_id] = figures
        elif dimension == ALL:
            if period == ALL:
                total = figures
            else:
                months[period] = figures
        elif period == ALL and dimension != NO_VILLAGE:
            kind, _sep, key = dimension.partition(":")
            if key in groups.get(kind, ()):
                groups[kind][key] = figures
            if kind == "age" and key in ADULT_BANDS:
                adults += figures[REGISTERED]
    courses = course_labels(set(course_figures))
    course_rows = sorted(((courses[cid], figures) for cid, figures in course_figures.items() if cid in courses),
                         key=lambda item: item[0].position)
    return Dashboard(
        unit=unit, breadcrumbs=breadcrumbs(unit), total=total, children=children, months=sorted(months.items()),
        courses=course_rows, by_sex=groups["sex"], by_age=groups["age"], by_mode=groups["mode"],
        adults_reached=adults,
        target=target)


def reader(user):
    """may_read(user, unit) as a function of the unit, the account looked up once (a page
    links every child unit it may open)."""
    covers = may_on_units(user, "read_statistics")
    scope = scope_units(user)
    if not (scope.level == VILLAGES and may(user, "read_statistics")):
        return covers
    # A team member limited to villages also reads their commune's page and its villages.
    also = {scope.unit_id, *scope.village_ids}
    return lambda unit: covers(unit) or (unit is not None and unit.id in also and unit.level in (COMMUNE, VILLAGE))


def may_read(user, unit: Unit | None) -> bool:
    """Officials read their unit and below; team members their whole commune."""
    return reader(user)(unit)


def readable(user, unit: Unit | None) -> Unit:
    """`unit`, if `user` may read its statistics: `NotFoundError` for none, else `NotAllowedError`."""
    if unit is None:
        raise NotFoundError("not-found", _l("This page does not exist."))
    if not may_read(user, unit):
        raise not_allowed()
    return unit


def home_unit_id(user) -> int | None:
    """The unit whose dashboard `user` opens first; None for the nation's."""
    check(user, "read_statistics")
    return None if scope_units(user).level == NATION else user.scope_unit_id
