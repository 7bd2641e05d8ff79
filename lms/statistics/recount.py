"""The one rebuild: every counter computed again from the raw rows.

This is the definition of each figure (see `models.py`); `operations.py` keeps the
counters equal to it event by event, and `tests/statistics/test_counters.py` checks
that the two agree after random sequences of events. The dashboard rollup
(`stat_rollups`) is a function of the counters (`models.rollup_keys`): it is checked
against, and rebuilt from, the recounted counters too. `flask statistics recount`
reports differences, and with `--fix` rewrites both tables.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Integer, bindparam, case, cast, delete, func, literal, select, union_all

from lms.dbsetup import allow_parallel_scans
from lms.extensions import db
from lms.statistics.models import (
    ASSISTED,
    CERTIFIED,
    COMPLETED,
    ENROLLED,
    KEY_COLUMNS,
    REGISTERED,
    ROLLUP_COLUMNS,
    SELF_STUDY,
    SHARDS,
    STARTED,
    StatCounter,
    StatRollup,
    rollup_deltas,
)


def _month(column, dialect: str):
    """YYYY-MM of a UTC timestamp in Vietnam time (UTC+7, no daylight saving)."""
    if dialect == "postgresql":
        return func.to_char(column.op("AT TIME ZONE")(literal("Asia/Ho_Chi_Minh")), "YYYY-MM")
    return func.strftime("%Y-%m", column, "+7 hours")


def _age_band(birth_year, month):
    age = cast(func.substr(month, 1, 4), Integer) - birth_year
    return case((birth_year.is_(None), "unknown"), (age < 18, "under-18"), (age < 35, "18-34"),
                (age < 60, "35-59"), else_="60+")


def _group(learner, month, course_id, mode, metric: str):
    return (learner.province_id, learner.commune_id, func.coalesce(learner.village_id, 0), course_id, month,
            func.coalesce(learner.sex, "unknown"), _age_band(learner.birth_year, month), mode, literal(metric),
            learner.id % SHARDS)


def _queries(dialect: str):
    from lms.certs.models import Certificate
    from lms.learners.models import Learner
    from lms.learning.models import Enrollment

    def only(query):
        return query

    month = _month(Learner.registered_dt, dialect)
    mode = case((Learner.registered_by_id.is_(None), SELF_STUDY), else_=ASSISTED)
    columns = _group(Learner, month, literal(0), mode, REGISTERED)
    yield only(select(*columns, func.count()).group_by(*columns))
    enrollment_mode = case((Enrollment.is_assisted.is_(True), ASSISTED), else_=SELF_STUDY)
    for metric, moment in ((ENROLLED, Enrollment.enrolled_dt), (STARTED, Enrollment.started_dt),
                           (COMPLETED, Enrollment.completed_dt)):
        columns = _group(Learner, _month(moment, dialect), Enrollment.course_id, enrollment_mode, metric)
        yield only(select(*columns, func.count()).select_from(Enrollment).join(Learner, Learner.id == Enrollment.learner_id)
                   .where(moment.is_not(None)).group_by(*columns))
    columns = _group(Learner, _month(Certificate.issued_dt, dialect), Enrollment.course_id, enrollment_mode, CERTIFIED)
    yield only(select(*columns, func.count()).select_from(Certificate)
               .join(Enrollment, Enrollment.id == Certificate.enrollment_id)
               .join(Learner, Learner.id == Enrollment.learner_id)
               .where(Certificate.is_revoked.is_(False)).group_by(*columns))


_FILTERED: dict = {}


def _filtered(dialect: str, by: str):
    """The five recount queries as one UNION ALL restricted to some learners (`by` =
    "learner") or communes ("commune") given as an expanding parameter `ids`: built once
    per dialect, so the writer's and the check's small recounts cost one round trip."""
    from lms.learners.models import Learner

    statement = _FILTERED.get((dialect, by))
    if statement is None:
        ids = bindparam("ids", expanding=True)
        column = Learner.id if by == "learner" else Learner.commune_id
        statement = union_all(*(query.where(column.in_(ids)) for query in _queries(dialect)))
        _FILTERED[(dialect, by)] = statement
    return statement


def _run_filtered(connection, by: str, ids: list[int]) -> Counter:
    totals: Counter = Counter()
    statement = _filtered(connection.dialect.name, by)
    for start in range(0, len(ids), CHUNK):
        for row in connection.execute(statement, {"ids": ids[start:start + CHUNK]}):
            totals[tuple(row[:-1])] += row[-1]
    return totals


def expected_counters(learner_id: int | None = None, *, connection=None, commune_ids=None) -> Counter:
    """{key: count} computed from raw rows (of one learner, of some communes, or of everyone)."""
    connection = connection or db.session.connection()
    if learner_id is not None:
        return _run_filtered(connection, "learner", [learner_id])
    if commune_ids is not None:
        return _run_filtered(connection, "commune", sorted(set(commune_ids)))
    allow_parallel_scans(connection)
    totals: Counter = Counter()
    for query in _queries(connection.dialect.name):
        for row in connection.execute(query):
            totals[tuple(row[:-1])] += row[-1]
    return totals


CHUNK = 500  # ids per IN (...): below every engine's bound-parameter limit


def contributions_of(learner_ids, connection=None) -> Counter:
    """{key: count} that these learners contribute, from their rows as they are now (the
    statistics writer's "recount before and after" for writes it cannot diff)."""
    return _run_filtered(connection or db.session.connection(), "learner", sorted(set(learner_ids)))


def learner_contributions(learner_id: int) -> Counter:
    return contributions_of([learner_id])


def expected_rollups(counters: Counter | None = None) -> Counter:
    """{rollup key: value} that follows from the recounted counters."""
    rollups = rollup_deltas(expected_counters() if counters is None else counters)
    return Counter({key: value for key, value in rollups.items() if value})


def _stored(table, columns: tuple[str, ...]) -> Counter:
    selected = [table.c[name] for name in columns]
    totals: Counter = Counter()
    for row in db.session.connection().execute(select(*selected, table.c.value).where(table.c.value != 0)):
        totals[tuple(row[:-1])] += row[-1]
    return totals


def stored_counters() -> Counter:
    return _stored(StatCounter.__table__, KEY_COLUMNS)


def stored_rollups() -> Counter:
    return _stored(StatRollup.__table__, ROLLUP_COLUMNS)


@dataclass
class Difference:
    key: tuple
    stored: int
    expected: int
    columns: tuple[str, ...] = KEY_COLUMNS
    table: str = "stat_counters"

    def describe(self) -> str:
        return f"{self.table}: " + ", ".join(f"{name}={value}" for name, value in zip(self.columns, self.key, strict=True)) + \
            f": stored {self.stored}, expected {self.expected}"


def _differences(stored: Counter, expected: Counter, columns, table: str) -> list[Difference]:
    keys = sorted({k for k in stored.keys() | expected.keys() if stored[k] != expected[k]}, key=repr)
    return [Difference(key, stored[key], expected[key], columns, table) for key in keys]


def compare() -> list[Difference]:
    """Every counter, and every rollup row, whose stored value differs from the recount."""
    expected = expected_counters()
    return (_differences(stored_counters(), expected, KEY_COLUMNS, "stat_counters")
            + _differences(stored_rollups(), expected_rollups(expected), ROLLUP_COLUMNS, "stat_rollups"))


def _write(connection, table, columns: tuple[str, ...], values: Counter, batch: int) -> int:
    """Replace the table's rows, written in key order: on PostgreSQL a unit's rollup rows
    then share a few pages (a province's dashboard read 172 pages instead of 324), and
    the rollup's free space per page (see the fillfactor migration) keeps them there."""
    connection.execute(delete(table))
    rows = [dict(zip(columns, key, strict=True), value=value) for key, value in sorted(values.items()) if value]
    for start in range(0, len(rows), batch):
        connection.execute(table.insert(), rows[start:start + batch])
    return len(rows)


def rebuild(batch: int = 5000) -> int:
    """Replace every counter and rollup row by the recount (flushes; the caller commits).
    Returns rows written (both tables)."""
    connection = db.session.connection()
    counters = expected_counters()
    written = _write(connection, StatCounter.__table__, KEY_COLUMNS, counters, batch)
    return written + _write(connection, StatRollup.__table__, ROLLUP_COLUMNS, expected_rollups(counters), batch)
