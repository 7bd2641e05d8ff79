"""The one writer of statistics counters (and of targets).

How counters follow events: the invariant is *counters = f(rows as flushed)*, where f
is what `recount.py` computes from raw rows. An `after_flush` hook (ids are assigned, history still shows the previous state) compares each
changed enrolment, certificate and learner with its state at the previous flush and
writes the difference (+1 / −1) with an upsert, in the same transaction, to the
counters and (through `models.rollup_keys`) to the dashboard rollup `stat_rollups`:
the deltas of a flush are summed in Python and written with one executemany upsert
per table. So every path
that changes those rows is counted the same way, including ones that send no signal
(the first lesson progress sets `started_dt`; a helper turns an enrolment `is_assisted`,
which moves its figures from self-study to assisted). The domain signals
(`learner_registered`, `enrolled`, `course_completed`, `certificate_*`) flush the
session, so the counters change at the event, not at the end of the request.

A transfer (`learner_moved`) moves every contribution of the learner from the old unit
to the new one; a deletion (`learner_deleted`) changes nothing: the erased row keeps
commune, birth year and sex, so anonymous counts stay, "registered" included.

`set_counting(False)` disconnects everything (the benchmark measures the cost).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select
from sqlalchemy.orm import Session, attributes

from lms.errors import DomainError
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
    StatTarget,
    rollup_deltas,
)

TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # UTC+7 all year; recount.py uses the same fixed offset
Key = tuple  # values in the order of KEY_COLUMNS

_state = {"counting": True}


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
    if connection.dialect.name == "postgresql":
        _upsert_both(connection, deltas, rollups)
        return
    _upsert(connection, StatCounter.__table__, KEY_COLUMNS, deltas)
    _upsert(connection, StatRollup.__table__, ROLLUP_COLUMNS, rollups)


def _unnest_upsert(table, columns: tuple[str, ...], prefix: str, dialect) -> str:
    """INSERT … SELECT FROM unnest(one array parameter per column) … ON CONFLICT DO UPDATE
    adding the value: every row of an upsert in one statement, in the arrays' order."""
    names = (*columns, "value")
    arrays = ", ".join(f"%({prefix}{name})s::{table.c[name].type.compile(dialect=dialect)}[]" for name in names)
    listed = ", ".join(names)
    return (f"INSERT INTO {table.name} ({listed}) SELECT {listed} FROM unnest({arrays}) WITH ORDINALITY "  # noqa: S608  # nosec B608: names from the models; every value is a parameter
            f"AS rows ({listed}, position) ORDER BY position "
            f"ON CONFLICT ({', '.join(columns)}) DO UPDATE SET value = {table.name}.value + excluded.value")


def _upsert_both(connection, deltas: Counter, rollups: Counter) -> None:
    """PostgreSQL: the counters' and the rollup's upserts as one statement (the first in a
    WITH), so a completion's counters cost one round trip instead of two; each table's
    rows go in sorted key order, the same lock order everywhere."""
    sql = _UPSERTS.get(("both", "postgresql"))
    if sql is None:
        sql = (f"WITH counters AS ({_unnest_upsert(StatCounter.__table__, KEY_COLUMNS, 'c_', connection.dialect)}) "
               f"{_unnest_upsert(StatRollup.__table__, ROLLUP_COLUMNS, 'r_', connection.dialect)}")
        _UPSERTS[("both", "postgresql")] = sql
    parameters = {}
    for prefix, columns, values in (("c_", KEY_COLUMNS, deltas), ("r_", ROLLUP_COLUMNS, rollups)):
        items = [(key, delta) for key, delta in sorted(values.items()) if delta]
        for index, name in enumerate(columns):
            parameters[prefix + name] = [key[index] for key, _delta in items]
        parameters[prefix + "value"] = [delta for _key, delta in items]
    connection.exec_driver_sql(sql, parameters)


# -- the flush diff -------------------------------------------------------------------

def _old(obj, name: str):
    """The value `name` had at the previous flush (None for a new object)."""
    history = attributes.get_history(obj, name)
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    return None if history.added else getattr(obj, name)


def _enrollment_items(enrollment, certificate, *, old: bool) -> list[tuple[str, datetime, str]]:
    """(metric, moment, mode) that one enrolment and its certificate contribute."""
    value = (lambda obj, name: _old(obj, name)) if old else getattr
    items = []
    mode = ASSISTED if value(enrollment, "is_assisted") else SELF_STUDY
    for metric, name in ((ENROLLED, "enrolled_dt"), (STARTED, "started_dt"), (COMPLETED, "completed_dt")):
        moment = value(enrollment, name)
        if moment is not None:
            items.append((metric, moment, mode))
    if certificate is not None and not value(certificate, "is_revoked") and value(certificate, "issued_dt"):
        items.append((CERTIFIED, value(certificate, "issued_dt"), mode))
    return items


def _changed(obj, names: tuple[str, ...]) -> bool:
    return any(attributes.get_history(obj, name).has_changes() for name in names)


def _after_flush(session: Session, _context) -> None:
    if not _state["counting"]:
        return
    from lms.certs.models import Certificate
    from lms.learners.models import Learner
    from lms.learning.models import Enrollment

    deltas: Counter = Counter()
    enrollments: dict[int | None, object] = {}
    certificates: dict[int, object] = {}
    new = set(session.new)
    for obj in new:
        if isinstance(obj, Learner):
            mode = ASSISTED if obj.registered_by_id else SELF_STUDY
            deltas[make_key(obj, REGISTERED, obj.registered_dt, mode=mode)] += 1
        elif isinstance(obj, Enrollment):
            enrollments[id(obj)] = obj
        elif isinstance(obj, Certificate):
            certificates[obj.enrollment_id] = obj
    for obj in session.dirty:
        if isinstance(obj, Enrollment) and _changed(obj, ("started_dt", "completed_dt", "is_assisted", "enrolled_dt")):
            enrollments[id(obj)] = obj
        elif isinstance(obj, Certificate) and _changed(obj, ("is_revoked", "issued_dt")):
            certificates[obj.enrollment_id] = obj
        elif isinstance(obj, Learner) and _changed(obj, ("sex", "birth_year")):
            _rekey_learner(obj, deltas)
    by_enrollment = {e.id: e for e in enrollments.values()}
    for enrollment_id in certificates.keys() - by_enrollment.keys():
        by_enrollment[enrollment_id] = session.get(Enrollment, enrollment_id)
    for key, enrollment in by_enrollment.items():
        certificate = certificates.get(key)
        if certificate is None and enrollment not in new and _changed(enrollment, ("is_assisted",)):
            # the certificate's contribution moves only with the mode; otherwise old and new cancel out
            certificate = session.scalar(select(Certificate).where(Certificate.enrollment_id == enrollment.id))
        learner = session.get(Learner, enrollment.learner_id)
        course_id = enrollment.course_id
        old_items = [] if enrollment in new else _enrollment_items(enrollment, None, old=True)
        if certificate is not None and certificate not in new:
            old_items += [item for item in _enrollment_items(enrollment, certificate, old=True) if item[0] == CERTIFIED]
        for metric, moment, mode in old_items:
            deltas[make_key(learner, metric, moment, course_id=course_id, mode=mode)] -= 1
        for metric, moment, mode in _enrollment_items(enrollment, certificate, old=False):
            deltas[make_key(learner, metric, moment, course_id=course_id, mode=mode)] += 1
    apply_deltas(deltas, session.connection())


def _rekey_learner(learner, deltas: Counter) -> None:
    """Sex or birth year corrected: move the learner's figures to the new groups."""
    from lms.statistics.recount import learner_contributions

    old_sex, old_birth_year = _old(learner, "sex"), _old(learner, "birth_year")
    for key, count in learner_contributions(learner.id).items():  # the database has the new values
        deltas[key] += count
        old_key = (*key[:5], old_sex or "unknown", age_band(old_birth_year, int(key[4][:4])), *key[7:])
        deltas[old_key] -= count


# -- signals --------------------------------------------------------------------------

def _flush(*_args, **_extra) -> None:
    if _state["counting"]:
        db.session.flush()


def _on_moved(learner, old_commune_id: int, old_village_id: int | None, **_extra) -> None:
    """Move every contribution of the learner from the old unit to the new one."""
    if not _state["counting"]:
        return
    from lms.statistics.recount import learner_contributions
    from lms.units.models import Unit

    db.session.flush()
    old_province_id = db.session.get(Unit, old_commune_id).province_id
    deltas: Counter = Counter()
    for key, count in learner_contributions(learner.id).items():
        deltas[key] += count
        deltas[(old_province_id, old_commune_id, old_village_id or 0, *key[3:])] -= count
    apply_deltas(deltas)


def _connect_signals() -> None:
    from lms.certs import events as cert_events
    from lms.learners import events as learner_events
    from lms.learning import events as learning_events

    for signal in (learner_events.learner_registered, learning_events.enrolled, learning_events.course_completed,
                   cert_events.certificate_issued, cert_events.certificate_revoked,
                   cert_events.certificate_reinstated):
        signal.connect(_flush, weak=False)
    learner_events.learner_moved.connect(_on_moved, weak=False)


def set_counting(enabled: bool) -> None:
    """Turn counter writes on or off (the benchmark measures what they cost)."""
    _state["counting"] = enabled


def _track_old_values() -> None:
    """Load the old value on assignment, so the diff knows what was counted before."""
    from lms.certs.models import Certificate
    from lms.learners.models import Learner
    from lms.learning.models import Enrollment

    def noop(*_args):
        return None

    for attribute in (Enrollment.started_dt, Enrollment.completed_dt, Enrollment.is_assisted, Enrollment.enrolled_dt,
                      Certificate.is_revoked, Certificate.issued_dt, Learner.sex, Learner.birth_year):
        event.listen(attribute, "set", noop, active_history=True)


_track_old_values()
event.listen(Session, "after_flush", _after_flush)
_connect_signals()


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
