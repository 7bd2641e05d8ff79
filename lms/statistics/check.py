"""The invariant checked in production: counters and rollup = recount, unit by unit.

`flask statistics recount` compares the whole country at once (minutes at national
scale). This check does it in pieces that each take a moment, so it can run every few
minutes on a live database (`flask statistics check --seconds N [--repair]`):

- **Units and what each owns.** A commune owns its counters (checked against a recount
  of its learners' raw rows), its own and its villages' rollup rows and its row under
  its province (`unit:<commune>`), all checked against the rollup of that recount. A
  province owns its rollup rows and its row under the nation, checked against the rollup
  of its (already checked) counters; the nation owns its rows, checked against the sum
  of the provinces' rows. Together they cover every counter and rollup row.
- **Newest changes first.** The writer notes when it last changed each commune
  (`stat_changes`); units changed since their last check go first, newest change first
  (communes before provinces, provinces before the nation), then the others, the
  longest unchecked first. A run stops when its time is up; the next one continues.
- **Short transactions.** Each unit is read in its own snapshot (REPEATABLE READ on
  PostgreSQL, one read transaction on SQLite: writers never wait for it) and committed
  alone. A repair rewrites only the rows that differ, as additions (`value = value +
  difference`), so writes that landed after the snapshot, which counted themselves,
  stay counted. A repair touches only the rows the unit owns; a commune repaired is
  marked changed, so its province and the nation are checked (after it) against the
  corrected counters.

Each run and each difference found is stored (`stat_check_runs`,
`stat_check_differences`) and shown to national administrators at /statistics/check.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from lms.access import check
from lms.db import utcnow
from lms.extensions import db
from lms.statistics.models import (
    ALL,
    CHILD,
    KEY_COLUMNS,
    NATION_ROLLUP,
    ROLLUP_COLUMNS,
    ROLLUP_SHARDS,
    StatChange,
    StatCheckDifference,
    StatCheckRun,
    StatCheckUnit,
    StatCounter,
    StatRollup,
    rollup_deltas,
    rollup_keys,
)
from lms.statistics.operations import _upsert, mark_changed
from lms.statistics.recount import expected_counters
from lms.units.models import COMMUNE, PROVINCE, VILLAGE, Unit

NATION = "nation"
LEVEL_ORDER = {COMMUNE: 0, PROVINCE: 1, NATION: 2}
SHOWN_DIFFERENCES = 500  # stored per run; the count is always exact


@dataclass
class UnitResult:
    unit_id: int
    level: str
    counters: list[tuple] = field(default_factory=list)  # (key, stored, expected)
    rollups: list[tuple] = field(default_factory=list)
    counter_deltas: Counter = field(default_factory=Counter)  # expected − stored
    rollup_repair: Counter = field(default_factory=Counter)  # what the rollup still needs once counters are added

    @property
    def differences(self) -> int:
        return len(self.counters) + len(self.rollups)


def _rows(connection, table, columns, condition) -> Counter:
    selected = [table.c[name] for name in columns]
    found: Counter = Counter()
    for row in connection.execute(select(*selected, table.c.value).where(condition, table.c.value != 0)):
        found[tuple(row[:-1])] += row[-1]
    return found


def _diff(stored: Counter, expected: Counter) -> tuple[list[tuple], Counter]:
    keys = sorted((k for k in stored.keys() | expected.keys() if stored[k] != expected[k]), key=repr)
    return [(k, stored[k], expected[k]) for k in keys], Counter({k: expected[k] - stored[k] for k in keys})


def _child_row(rollups, parent_id: int, dimension: str):
    """A child's totals under its parent: a prefix of the primary key, read directly
    (an OR with the unit's own rows made SQLite walk all of the parent's rows)."""

    return ((rollups.c.unit_id == parent_id) & (rollups.c.course_id == 0) & (rollups.c.period == ALL)
            & (rollups.c.dimension == dimension))


def _villages_of(connection, commune_id: int) -> set[int]:
    return set(connection.scalars(select(Unit.id).where(Unit.level == VILLAGE, Unit.commune_id == commune_id)))


def _read_commune(connection, commune_id: int, province_id: int) -> tuple:
    """What a commune's check reads in its snapshot: the recount of its learners, its
    stored counters, and the stored rollup rows it owns (with the units that owns)."""
    counters = StatCounter.__table__
    rollups = StatRollup.__table__
    expected = Counter({k: v for k, v in expected_counters(connection=connection, commune_ids=[commune_id]).items()
                        if v})
    stored = _rows(connection, counters, KEY_COLUMNS, counters.c.commune_id == commune_id)
    owned_units = {commune_id} | _villages_of(connection, commune_id)
    owned_units |= {key[2] for key in expected | stored if key[2]}  # villages named by its counters
    stored_rollups = _rows(connection, rollups, ROLLUP_COLUMNS, rollups.c.unit_id.in_(sorted(owned_units)))
    stored_rollups.update(_rows(connection, rollups, ROLLUP_COLUMNS,
                                _child_row(rollups, province_id, f"{CHILD}{commune_id}")))
    return expected, stored, owned_units, stored_rollups


def _compare_commune(commune_id: int, province_id: int, read: tuple) -> UnitResult:
    expected, stored, owned_units, stored_rollups = read
    result = UnitResult(commune_id, COMMUNE)
    result.counters, result.counter_deltas = _diff(stored, expected)
    child = f"{CHILD}{commune_id}"

    def owned(key) -> bool:
        return key[0] in owned_units or (key[0] == province_id and key[3] == child)

    expected_rollups = Counter({k: v for k, v in rollup_deltas(expected).items() if v and owned(k)})
    result.rollups, result.rollup_repair = _diff(stored_rollups, expected_rollups)
    return result


def commune_differences(connection, commune_id: int, province_id: int) -> UnitResult:
    """A commune's counters against a recount of its learners, and the rollup rows it owns."""
    return _compare_commune(commune_id, province_id, _read_commune(connection, commune_id, province_id))


def _province_aggregates(connection, province_id: int) -> Counter:
    """The province's own rollup rows and its row under the nation, as the rollup of its
    counters would give them (`models.rollup_keys`). The database sums its counters over
    communes and villages in one GROUP BY (a large province has hundreds of thousands of
    counter rows, a few thousand groups); the groups are rolled up here."""
    c = StatCounter.__table__.c
    shard = c.shard % ROLLUP_SHARDS
    grouped = (c.course_id, c.month, c.sex, c.age_band, c.mode, c.metric, shard)
    found: Counter = Counter()
    child = f"{CHILD}{province_id}"
    rows = connection.execute(select(*grouped, func.sum(c.value)).where(c.province_id == province_id)
                              .group_by(*grouped))
    for course_id, month, sex, band, mode, metric, rollup_shard, value in rows:
        if not value:
            continue
        # The group as a counter key of no particular commune: `rollup_keys` (the one
        # definition of the rollup) then gives its province rows and its row under the nation.
        group = (province_id, None, 0, course_id, month, sex, band, mode, metric, rollup_shard)
        for key in rollup_keys(group):
            if (key[0] == province_id and not key[3].startswith(CHILD)) or (key[0] == NATION_ROLLUP and key[3] == child):
                found[key] += value
    return Counter({key: value for key, value in found.items() if value})


def _read_province(connection, province_id: int) -> tuple:
    """What a province's check reads in its snapshot: the rollup of its counters (summed
    by the database) and its stored rollup rows (its own and its row under the nation)."""
    rollups = StatRollup.__table__
    stored = _rows(connection, rollups, ROLLUP_COLUMNS,
                   (rollups.c.unit_id == province_id) & ~rollups.c.dimension.startswith(CHILD))
    stored.update(_rows(connection, rollups, ROLLUP_COLUMNS, _child_row(rollups, NATION_ROLLUP, f"{CHILD}{province_id}")))
    return _province_aggregates(connection, province_id), stored


def _compare_province(province_id: int, read: tuple, corrections: Counter | None = None) -> UnitResult:
    expected, stored = read
    child = f"{CHILD}{province_id}"

    def owned(key) -> bool:
        return ((key[0] == province_id and not key[3].startswith(CHILD))
                or (key[0] == NATION_ROLLUP and key[3] == child))

    # Counter differences found in its communes and not repaired: the rollup is linear,
    # so their rollup adds to the counters' one.
    pending = Counter({k: v for k, v in (corrections or {}).items() if k[0] == province_id})
    expected = Counter(expected)
    expected.update({k: v for k, v in rollup_deltas(pending).items() if owned(k)})
    expected = Counter({k: v for k, v in expected.items() if v})
    result = UnitResult(province_id, PROVINCE)
    result.rollups, result.rollup_repair = _diff(stored, expected)
    return result


def province_differences(connection, province_id: int, corrections: Counter | None = None) -> UnitResult:
    """A province's rollup rows (and its row under the nation) against the rollup of its
    counters, plus `corrections` (counter differences found and not repaired in this run)."""
    return _compare_province(province_id, _read_province(connection, province_id), corrections)


def _read_nation(connection) -> tuple:
    """The provinces' rollup rows and the nation's own, read in one snapshot."""
    rollups = StatRollup.__table__
    provinces = select(Unit.id).where(Unit.level == PROVINCE)
    rows = _rows(connection, rollups, ROLLUP_COLUMNS, rollups.c.unit_id.in_(provinces)
                 & ~rollups.c.dimension.startswith(CHILD))
    stored = _rows(connection, rollups, ROLLUP_COLUMNS,
                   (rollups.c.unit_id == NATION_ROLLUP) & ~rollups.c.dimension.startswith(CHILD))
    return rows, stored


def _compare_nation(read: tuple, corrections: Counter | None = None) -> UnitResult:
    rows, stored = read
    rows.update({k: v for k, v in (corrections or {}).items() if k[0] != NATION_ROLLUP and not k[3].startswith(CHILD)})
    expected: Counter = Counter()
    for key, value in rows.items():
        expected[(NATION_ROLLUP, *key[1:])] += value
    expected = Counter({k: v for k, v in expected.items() if v})
    result = UnitResult(NATION_ROLLUP, NATION)
    result.rollups, result.rollup_repair = _diff(stored, expected)
    return result


def nation_differences(connection, corrections: Counter | None = None) -> UnitResult:
    """The nation's rows against the sum of the provinces' rows (both sharded alike), plus
    `corrections` (province rows found different and not repaired in this run)."""
    return _compare_nation(_read_nation(connection), corrections)


def communes_by_recent_change(connection) -> list[tuple[int, str, int | None]]:
    """Every unit to check, (unit id, level, province id), in the order the check takes them."""
    communes = dict(connection.execute(select(Unit.id, Unit.province_id).where(Unit.level == COMMUNE)).all())
    provinces = list(connection.scalars(select(Unit.id).where(Unit.level == PROVINCE)))
    changed = dict(connection.execute(select(StatChange.commune_id, StatChange.changed_dt)).all())
    checked = dict(connection.execute(select(StatCheckUnit.unit_id, StatCheckUnit.checked_dt)).all())
    last_change: dict[int, object] = dict(changed)
    for commune_id, when in changed.items():
        province_id = communes.get(commune_id)
        for unit_id in (province_id, NATION_ROLLUP):
            if unit_id is not None and (unit_id not in last_change or last_change[unit_id] < when):
                last_change[unit_id] = when
    units = [(c, COMMUNE, p) for c, p in communes.items()] + [(p, PROVINCE, None) for p in provinces]
    units.append((NATION_ROLLUP, NATION, None))

    def pending(unit) -> bool:
        when = last_change.get(unit[0])
        return when is not None and (unit[0] not in checked or checked[unit[0]] < when)

    # communes first (their repairs move the counters the provinces are checked against)
    first = sorted((u for u in units if pending(u)),
                   key=lambda u: (LEVEL_ORDER[u[1]], -last_change[u[0]].timestamp(), u[0]))
    epoch = 0.0
    rest = sorted((u for u in units if not pending(u)),
                  key=lambda u: (checked[u[0]].timestamp() if u[0] in checked else epoch, LEVEL_ORDER[u[1]], u[0]))
    return first + rest


def _populated(connection) -> set[int]:
    """Units that have any learner, counter or rollup row (their own or a child's row under
    them): the others have nothing to differ (no rows stored, none expected) and are
    marked checked without a query of their own."""
    from lms.learners.models import Learner

    counters, rollups = StatCounter.__table__, StatRollup.__table__
    found = set(connection.scalars(select(Learner.commune_id).distinct()))
    for commune_id, province_id in connection.execute(select(counters.c.commune_id, counters.c.province_id).distinct()):
        found.update((commune_id, province_id))
    unit_ids = set(connection.scalars(select(rollups.c.unit_id).distinct()))
    children = connection.scalars(select(rollups.c.dimension).where(rollups.c.dimension.startswith(CHILD)).distinct())
    unit_ids |= {int(dimension[len(CHILD):]) for dimension in children}
    villages = dict(connection.execute(select(Unit.id, Unit.commune_id).where(Unit.level == VILLAGE)).all())
    found |= {villages.get(unit_id, unit_id) for unit_id in unit_ids}
    found.add(NATION_ROLLUP)
    return found


@contextlib.contextmanager
def _snapshot(isolated: bool):
    """A connection reading one consistent snapshot: its own (isolated) or the session's."""
    if not isolated:
        yield db.session.connection()
        return
    engine = db.engine
    options = ({"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql"
               else {"sqlite_begin": "DEFERRED"})
    with engine.connect().execution_options(**options) as connection, connection.begin():
        yield connection


def _read_unit(connection, unit_id: int, level: str, province_id: int | None) -> tuple:
    """The rows a unit's check needs, read in its snapshot (the comparison, in Python,
    happens after the snapshot ends: a province's rollup of its counters takes longer than
    reading them, and a snapshot held open holds back WAL checkpoints and vacuum)."""
    if level == COMMUNE:
        return _read_commune(connection, unit_id, province_id)
    if level == PROVINCE:
        return _read_province(connection, unit_id)
    return _read_nation(connection)


def _compare_unit(read: tuple, unit_id: int, level: str, province_id: int | None, unrepaired: dict) -> UnitResult:
    if level == COMMUNE:
        return _compare_commune(unit_id, province_id, read)
    if level == PROVINCE:
        return _compare_province(unit_id, read, unrepaired[COMMUNE])
    return _compare_nation(read, unrepaired[PROVINCE])


def _repair(result: UnitResult) -> None:
    """Rewrite the rows the unit owns that differ, as additions: its counters and its
    rollup rows, nothing above it. A commune repaired is marked changed, so its province
    and the nation (checked after the communes, from the counters) follow."""
    connection = db.session.connection()
    _upsert(connection, StatCounter.__table__, KEY_COLUMNS, result.counter_deltas)
    _upsert(connection, StatRollup.__table__, ROLLUP_COLUMNS, result.rollup_repair)
    if result.level == COMMUNE and result.counter_deltas:
        mark_changed(connection, [result.unit_id])


def _describe(columns, key) -> str:
    return ", ".join(f"{name}={value}" for name, value in zip(columns, key, strict=True))[:200]


def _mark_checked(rows: list[dict]) -> None:
    """Upsert when units were checked (one executemany for many units)."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(StatCheckUnit.__table__)
    statement = statement.on_conflict_do_update(index_elements=["unit_id"], set_={
        "checked_dt": statement.excluded.checked_dt, "differences": statement.excluded.differences,
        "level": statement.excluded.level})
    connection.execute(statement, rows)


def _record_unit(run: StatCheckRun, result: UnitResult, repaired: bool, quiet: list[dict] | None = None) -> None:
    """Count the unit in the run and keep its differences; units without rows go to
    `quiet`, written together later."""
    state = {"unit_id": result.unit_id, "level": result.level, "checked_dt": utcnow(),
             "differences": result.differences}
    if quiet is not None:
        quiet.append(state)
    else:
        _mark_checked([state])
    room = SHOWN_DIFFERENCES - run.differences
    rows = [("stat_counters", KEY_COLUMNS, d) for d in result.counters] + \
           [("stat_rollups", ROLLUP_COLUMNS, d) for d in result.rollups]
    for table_name, columns, (key, stored, expected) in rows[:max(room, 0)]:
        db.session.add(StatCheckDifference(run_id=run.id, unit_id=result.unit_id, table_name=table_name,
                                           key=_describe(columns, key), stored=stored, expected=expected,
                                           is_repaired=repaired))
    run.units_checked += 1
    run.differences += result.differences
    run.units_differing += 1 if result.differences else 0


def check_communes(seconds: float = 60.0, *, repair: bool = False, isolated: bool = False,
                   timings: list | None = None, pace: float = 1.0, sleep=time.sleep) -> StatCheckRun:
    """Check units, newest changes first, for about `seconds`; optionally repair what differs.

    `isolated`: each unit in its own snapshot and committed on its own (the command);
    otherwise everything happens in the caller's transaction (tests). `timings` receives
    (level, milliseconds, of which in the snapshot) per unit read (the benchmark). `pace` (0 < pace ≤ 1) is the share
    of the time the check works: after a unit that took t it rests t × (1/pace − 1), so on
    a small server the dashboards it shares the processors with keep their speed (the
    seconds allowed include the rests).
    """
    if not 0 < pace <= 1:
        raise ValueError("pace is a share of the time: above 0, at most 1")
    if isinstance(db.session.get_bind(), Connection):
        isolated = False  # a session bound to one connection: the caller's transaction it is
    started = time.perf_counter()
    run = StatCheckRun(seconds_allowed=seconds, is_repair=repair, started_dt=utcnow(), units_checked=0,
                       units_total=0, units_differing=0, differences=0, longest_unit_ms=0.0)
    db.session.add(run)
    db.session.flush()
    units = communes_by_recent_change(db.session.connection())
    populated = _populated(db.session.connection())
    run.units_total = len(units)
    if isolated:
        # Between units the run's figures are only counted up in memory: reloading the run
        # after each commit began a transaction before the next unit's read, and on SQLite
        # a command's transaction takes the write lock (BEGIN IMMEDIATE), so every other
        # writer waited for whole reads of the check. Now the session touches the database
        # only in a unit's short write phase (its record, a repair, the commit).
        session = db.session()  # the Session behind the scoped proxy
        kept_expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        if isolated:
            db.session.commit()
        _check_units(run, units, populated, started, seconds, repair, isolated, timings, pace, sleep)
    finally:
        if isolated:
            session.expire_on_commit = kept_expire_on_commit
    return run


def _check_units(run, units, populated, started, seconds, repair, isolated, timings, pace, sleep) -> None:
    """The loop of `check_communes`."""
    # Differences found and left as they are: the levels above are checked against the
    # rows as they should be, so one wrong counter is reported once, not at every level.
    unrepaired: dict[str, Counter] = {COMMUNE: Counter(), PROVINCE: Counter()}
    quiet: list[dict] = []  # units with no rows: marked checked together
    for unit_id, level, province_id in units:
        if run.units_checked and time.perf_counter() - started >= seconds:
            break
        unit_started = time.perf_counter()
        if unit_id not in populated:
            _record_unit(run, UnitResult(unit_id, level), False, quiet)
            continue
        with _snapshot(isolated) as connection:
            read = _read_unit(connection, unit_id, level, province_id)
        snapshot_ms = (time.perf_counter() - unit_started) * 1000
        result = _compare_unit(read, unit_id, level, province_id, unrepaired)
        if repair and result.differences:
            _repair(result)
        elif level == COMMUNE:
            unrepaired[COMMUNE].update(result.counter_deltas)
        elif level == PROVINCE:
            unrepaired[PROVINCE].update(result.rollup_repair)
        _record_unit(run, result, repair and bool(result.differences))
        if isolated:
            db.session.commit()
        elapsed = (time.perf_counter() - unit_started) * 1000
        run.longest_unit_ms = max(run.longest_unit_ms, elapsed)
        if timings is not None:
            timings.append((level, elapsed, snapshot_ms))
        if pace < 1:
            sleep(elapsed / 1000 * (1 / pace - 1))
    _mark_checked(quiet)
    run.finished_dt = utcnow()
    db.session.flush()
    if isolated:
        db.session.commit()


def repair_communes(seconds: float = 60.0) -> StatCheckRun:
    """The check with repair (what `--repair` runs)."""
    return check_communes(seconds, repair=True)


def last_run() -> StatCheckRun | None:
    return db.session.scalar(select(StatCheckRun).where(StatCheckRun.finished_dt.is_not(None))
                             .order_by(StatCheckRun.id.desc()).limit(1))


def run_differences(run: StatCheckRun, limit: int = SHOWN_DIFFERENCES) -> list[StatCheckDifference]:
    return list(db.session.scalars(select(StatCheckDifference).where(StatCheckDifference.run_id == run.id)
                                   .order_by(StatCheckDifference.id).limit(limit)))


def last_result(user) -> dict:
    """What /statistics/check shows, for a national admin (`NotAllowedError` for others):
    the last finished run, its differences with unit names, and how much has been checked."""
    check(user, "check_statistics")
    run = last_run()
    differences = run_differences(run) if run else []
    names = dict(db.session.execute(select(Unit.id, Unit.name).where(
        Unit.id.in_(sorted({d.unit_id for d in differences})))).all()) if differences else {}
    checked, total = coverage()
    return {"run": run, "differences": differences, "names": names, "checked": checked, "total": total}


def coverage() -> tuple[int, int]:
    """(units checked at least once, units there are)."""
    checked = db.session.scalar(select(func.count()).select_from(StatCheckUnit)) or 0
    total = db.session.scalar(select(func.count()).select_from(Unit).where(Unit.level.in_((COMMUNE, PROVINCE))))
    return checked, (total or 0) + 1
