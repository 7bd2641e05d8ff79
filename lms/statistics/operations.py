"""Statistics writes: the counter upsert and targets.

`apply_deltas` adds {counter key: delta} to `stat_counters` and, through
`models.rollup_keys`, to the dashboard rollup `stat_rollups`, in the caller's
transaction: one executemany upsert per table (one statement for both on
PostgreSQL). What calls it, and how every write of a learner, an enrolment or a
certificate reaches it, is `writer.py` (registered by `create_app`).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.db import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.statistics.models import (
    KEY_COLUMNS,
    ROLLUP_COLUMNS,
    SELF_STUDY,
    SHARDS,
    StatChange,
    StatCounter,
    StatRollup,
    StatTarget,
    rollup_deltas,
)

TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # UTC+7 all year; recount.py uses the same fixed offset
Key = tuple  # values in the order of KEY_COLUMNS

class StatisticsError(DomainError):
    pass


def month_of(moment: datetime) -> str:
    local = moment.astimezone(TIMEZONE)
    return f"{local.year:04d}-{local.month:02d}"  # strftime("%Y") does not pad years before 1000


def age_band(birth_year: int | None, year: int) -> str:
    if birth_year is None:
        return "unknown"
    age = year - birth_year
    if age < 18:
        return "under-18"
    if age < 35:
        return "18-34"
    if age < 60:
        return "35-59"
    return "60+"


def make_key(learner, metric: str, moment: datetime, *, course_id: int = 0, mode: str = SELF_STUDY) -> Key:
    month = month_of(moment)
    return (learner.province_id, learner.commune_id, learner.village_id or 0, course_id, month,
            learner.sex or "unknown", age_band(learner.birth_year, int(month[:4])), mode, metric,
            learner.id % SHARDS)


_UPSERTS: dict = {}


def _upsert_sql(table, columns: tuple[str, ...], dialect) -> tuple[str, tuple[str, ...] | None]:
    """INSERT … ON CONFLICT (key) DO UPDATE value = value + excluded.value (the dialect's own
    insert construct), compiled once per table and dialect: a flush only binds its rows.
    Returns the SQL and, for positional paramstyles, the order of the parameters."""
    cached = _UPSERTS.get((table.name, dialect.name))
    if cached is None:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(table)
        statement = statement.on_conflict_do_update(index_elements=list(columns),
                                                    set_={"value": table.c.value + statement.excluded.value})
        compiled = statement.compile(dialect=dialect, column_keys=[*columns, "value"])
        cached = (str(compiled), tuple(compiled.positiontup) if compiled.positional else None)
        _UPSERTS[(table.name, dialect.name)] = cached
    return cached


def _upsert(connection, table, columns: tuple[str, ...], deltas: Counter) -> None:
    """Add {key: delta} to `table` with one executemany upsert (keys sorted: same lock order everywhere)."""
    items = [(key, delta) for key, delta in sorted(deltas.items()) if delta]
    if not items:
        return
    sql, order = _upsert_sql(table, columns, connection.dialect)
    if order == (*columns, "value"):
        parameters = [(*key, delta) for key, delta in items]
    else:
        rows = [dict(zip(columns, key, strict=True), value=delta) for key, delta in items]
        parameters = [tuple(row[name] for name in order) for row in rows] if order else rows
    connection.exec_driver_sql(sql, parameters)


def apply_deltas(deltas: Counter, connection=None) -> None:
    """Add `deltas` ({counter key: delta}) to the counters and to the dashboard rollup, in the
    caller's transaction: one upsert per table, both in one statement on PostgreSQL."""
    deltas = Counter({key: delta for key, delta in deltas.items() if delta})
    if not deltas:
        return
    connection = connection or db.session.connection()
    rollups = rollup_deltas(deltas)
    communes = sorted({key[1] for key in deltas})
    if connection.dialect.name == "postgresql":
        _upsert_both(connection, deltas, rollups, communes)
        return
    _upsert(connection, StatCounter.__table__, KEY_COLUMNS, deltas)
    _upsert(connection, StatRollup.__table__, ROLLUP_COLUMNS, rollups)
    mark_changed(connection, communes)


def mark_changed(connection, communes: list[int]) -> None:
    """Note when each commune's figures changed (`stat_changes`): the check looks there first."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert

    table = StatChange.__table__
    statement = insert(table)
    statement = statement.on_conflict_do_update(index_elements=["commune_id"],
                                                set_={"changed_dt": statement.excluded.changed_dt})
    now = utcnow()
    connection.execute(statement, [{"commune_id": commune, "changed_dt": now} for commune in communes])


def _unnest_upsert(table, columns: tuple[str, ...], prefix: str, dialect) -> str:
    """INSERT … SELECT FROM unnest(one array parameter per column) … ON CONFLICT DO UPDATE
    adding the value: every row of an upsert in one statement, in the arrays' order."""
    names = (*columns, "value")
    arrays = ", ".join(f"%({prefix}{name})s::{table.c[name].type.compile(dialect=dialect)}[]" for name in names)
    listed = ", ".join(names)
    return (f"INSERT INTO {table.name} ({listed}) SELECT {listed} FROM unnest({arrays}) WITH ORDINALITY "  # noqa: S608  # nosec B608: names from the models; every value is a parameter
            f"AS rows ({listed}, position) ORDER BY position "
            f"ON CONFLICT ({', '.join(columns)}) DO UPDATE SET value = {table.name}.value + excluded.value")


def _upsert_both(connection, deltas: Counter, rollups: Counter, communes: list[int]) -> None:
    """PostgreSQL: the counters' and the rollup's upserts, and the communes' change times, as
    one statement (the first two in a WITH), so a completion's counters cost one round trip
    instead of three; each table's rows go in sorted key order, the same lock order everywhere."""
    sql = _UPSERTS.get(("both", "postgresql"))
    if sql is None:
        sql = (f"WITH counters AS ({_unnest_upsert(StatCounter.__table__, KEY_COLUMNS, 'c_', connection.dialect)}), "  # noqa: S608  # nosec B608: names from the models; every value is a parameter
               "changes AS (INSERT INTO stat_changes (commune_id, changed_dt) "
               "SELECT unnest(%(s_communes)s::INTEGER[]), %(s_now)s::TIMESTAMP WITH TIME ZONE "
               "ON CONFLICT (commune_id) DO UPDATE SET changed_dt = excluded.changed_dt) "
               f"{_unnest_upsert(StatRollup.__table__, ROLLUP_COLUMNS, 'r_', connection.dialect)}")
        _UPSERTS[("both", "postgresql")] = sql
    parameters: dict = {"s_communes": communes, "s_now": utcnow()}
    for prefix, columns, values in (("c_", KEY_COLUMNS, deltas), ("r_", ROLLUP_COLUMNS, rollups)):
        items = [(key, delta) for key, delta in sorted(values.items()) if delta]
        for index, name in enumerate(columns):
            parameters[prefix + name] = [key[index] for key, _delta in items]
        parameters[prefix + "value"] = [delta for _key, delta in items]
    connection.exec_driver_sql(sql, parameters)


# -- targets --------------------------------------------------------------------------

def set_target(unit, adults: int, due_on: date, *, actor) -> StatTarget:
    """Set (or replace) the number of adults `unit` aims to reach by `due_on`."""
    from lms.access import check

    check(actor, "set_targets", unit)
    if adults is None or adults < 1 or adults > 200_000_000:
        raise StatisticsError("target-invalid", _l("Enter a number of adults above zero."), field="adults")
    target = db.session.scalar(select(StatTarget).where(StatTarget.unit_id == unit.id))
    if target is None:
        target = StatTarget(unit_id=unit.id)
        db.session.add(target)
    target.adults, target.due_on, target.set_by_id = adults, due_on, actor.id
    db.session.flush()
    return target
