"""The one writer of the statistics counters, registered on the app by `create_app`.

The invariant is *counters = f(rows)*, f being the recount (`recount.py`). A write that
changes a learner, an enrolment or a certificate reaches the database through one of
two doors of the app's engine, and the writer stands at both:

1. **The ORM unit of work** (a session flush). `after_flush` compares each new or
   changed enrolment, certificate and learner with its state at the previous flush
   and adds the difference (+1 / −1), with no query; objects whose key changes in a
   way a diff cannot follow (a learner moved or corrected: commune, village, sex,
   birth year, registration; anything deleted; an enrolment given to another learner)
   have their learner's contributions recounted before (`before_flush`, the database
   still holds the old rows) and after the flush, and the difference is written.
2. **Every other statement** on the engine (`before_execute` / `after_execute`): Core
   INSERT, UPDATE and DELETE on `learners`, `enrollments` or `certificates` — the
   bulk import, bulk marks, deletions by statement, command-line and test writes. The
   learners a statement touches are found before it runs (its WHERE clause, or the
   rows it inserts: new learners get their ids from the sequence first, so they are
   known whatever the statement returns), recounted before and after, and the
   difference written. An UPDATE that sets no column a figure depends on (printed,
   handed over, last activity, the completion claim's `completed_version`) costs
   nothing. SQL text (`text()`, `exec_driver_sql`) that writes one of those tables is
   refused with `UncountedWriteError`: its rows cannot be known, so it must be a
   statement (or be wrapped in `recount_after`, which rebuilds the counters).

Either way the counters change in the statement's own transaction, so they commit or
roll back with it. Writes that bypass the app's engine (psql, another program, a raw
DBAPI cursor, a restored file) are not seen here: a backup carries its counters (a
snapshot of the same transaction), the benchmark's loader recounts after, and
`flask statistics check` finds and repairs any commune whose figures differ.

The state lives on the app (`app.extensions["lms.statistics"]`); the listeners are
installed once per process and do nothing for an app without a writer.
"""

from __future__ import annotations

import contextlib
import re
import weakref
from collections import Counter
from dataclasses import dataclass, field

from flask import current_app, has_app_context
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, attributes
from sqlalchemy.sql import Delete, Insert, TextClause, Update

from lms.certs.models import Certificate
from lms.extensions import db
from lms.learners.models import Learner
from lms.learning.models import Enrollment
from lms.statistics.models import ASSISTED, CERTIFIED, COMPLETED, ENROLLED, REGISTERED, SELF_STUDY, STARTED
from lms.statistics.operations import apply_deltas, make_key

EXTENSION = "lms.statistics"

# The columns each figure is computed from (see recount.py); writes to others change nothing.
COUNTED = {
    "learners": frozenset({"id", "province_id", "commune_id", "village_id", "sex", "birth_year", "registered_dt",
                           "registered_by_id"}),
    "enrollments": frozenset({"id", "learner_id", "course_id", "enrolled_dt", "started_dt", "completed_dt",
                              "is_assisted"}),
    "certificates": frozenset({"id", "enrollment_id", "is_revoked", "issued_dt"}),
}
LEARNER_KEY = ("province_id", "commune_id", "village_id", "sex", "birth_year", "registered_dt", "registered_by_id")
_TABLES = "|".join(COUNTED)
_RAW_WRITE = re.compile(
    rf"\b(?:insert\s+(?:or\s+\w+\s+)?into|replace\s+into|update(?:\s+only)?|delete\s+from(?:\s+only)?|"
    rf"truncate(?:\s+table)?(?:\s+only)?|merge\s+into|copy)\s+[\"`]?(?:\w+[\"`]?\.[\"`]?)?({_TABLES})[\"`]?\b",
    re.IGNORECASE)


class UncountedWriteError(RuntimeError):
    """A write the counters could not follow (SQL text on a counted table, an INSERT from a
    SELECT): a programming error, refused before it reaches the database."""


@dataclass
class CounterWriter:
    """Per-app state: whether counting is on (the benchmark turns it off to measure it)."""

    counting: bool = True
    statements_counted: int = 0
    engines: list = field(default_factory=list)


def init_app(app) -> CounterWriter:
    """Install the writer for `app` (called by `create_app`)."""
    writer = CounterWriter()
    app.extensions[EXTENSION] = writer
    _install_orm_events()
    with app.app_context():
        _install_engine_events(db.engine)
        writer.engines.append(weakref.ref(db.engine))
    return writer


def current_writer() -> CounterWriter | None:
    return current_app.extensions.get(EXTENSION) if has_app_context() else None


def _counting() -> CounterWriter | None:
    writer = current_writer()
    return writer if writer is not None and writer.counting else None


def set_counting(enabled: bool, app=None) -> None:
    """Turn this app's counter writes on or off (the benchmark measures what they cost)."""
    (app or current_app).extensions[EXTENSION].counting = enabled


@contextlib.contextmanager
def recount_after(connection=None):
    """Run a bulk load that the writer cannot follow (SQL text, a loader), then rebuild
    every counter and rollup row from the rows in the same transaction."""
    from lms.statistics.recount import rebuild

    writer = current_app.extensions[EXTENSION]
    was = writer.counting
    writer.counting = False
    try:
        yield
    finally:
        writer.counting = was
    rebuild()


# -- door 1: the ORM unit of work ------------------------------------------------------

def _old(obj, name: str):
    """The value `name` had at the previous flush (None for a new object)."""
    history = attributes.get_history(obj, name)
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    return None if history.added else getattr(obj, name)


def _changed(obj, names) -> bool:
    return any(attributes.get_history(obj, name).has_changes() for name in names)


def _enrollment_items(enrollment, certificate, *, old: bool) -> list[tuple]:
    """(metric, moment, mode) that one enrolment and its certificate contribute."""
    value = _old if old else getattr
    items = []
    mode = ASSISTED if value(enrollment, "is_assisted") else SELF_STUDY
    for metric, name in ((ENROLLED, "enrolled_dt"), (STARTED, "started_dt"), (COMPLETED, "completed_dt")):
        moment = value(enrollment, name)
        if moment is not None:
            items.append((metric, moment, mode))
    if certificate is not None and not value(certificate, "is_revoked") and value(certificate, "issued_dt"):
        items.append((CERTIFIED, value(certificate, "issued_dt"), mode))
    return items


def _learners_to_recount(session: Session) -> set[int]:
    """Learners whose figures a flush moves in ways a diff cannot follow."""
    found: set[int] = set()
    enrollment_ids: set[int] = set()
    for obj in session.dirty:
        if isinstance(obj, Learner) and _changed(obj, LEARNER_KEY):
            found.add(obj.id)
        elif isinstance(obj, Enrollment) and _changed(obj, ("learner_id", "course_id")):
            found.update(i for i in (_old(obj, "learner_id"), obj.learner_id) if i is not None)
        elif isinstance(obj, Certificate) and _changed(obj, ("enrollment_id",)):
            enrollment_ids.update(i for i in (_old(obj, "enrollment_id"), obj.enrollment_id) if i is not None)
    for obj in session.deleted:
        if isinstance(obj, Learner):
            found.add(obj.id)
        elif isinstance(obj, Enrollment):
            found.add(_old(obj, "learner_id"))
        elif isinstance(obj, Certificate):
            enrollment_ids.add(_old(obj, "enrollment_id"))
    if enrollment_ids:
        found.update(session.connection().scalars(
            select(Enrollment.__table__.c.learner_id).where(Enrollment.__table__.c.id.in_(enrollment_ids))))
    found.discard(None)
    return found


def _before_flush(session: Session, _context, _instances) -> None:
    if _counting() is None:
        session.info.pop("lms.recount", None)
        return
    from lms.statistics.recount import contributions_of

    learner_ids = _learners_to_recount(session)
    session.info["lms.recount"] = (learner_ids, contributions_of(learner_ids, session.connection())
                                   if learner_ids else Counter())


def _after_flush(session: Session, _context) -> None:
    if _counting() is None:
        return
    from lms.statistics.recount import contributions_of

    recounted, before = session.info.pop("lms.recount", (set(), Counter()))
    deltas: Counter = Counter()
    enrollments: dict[int, object] = {}
    certificates: dict[int, object] = {}
    new = set(session.new)
    for obj in new:
        if isinstance(obj, Learner):
            if obj.id not in recounted:
                deltas[make_key(obj, REGISTERED, obj.registered_dt,
                                mode=ASSISTED if obj.registered_by_id else SELF_STUDY)] += 1
        elif isinstance(obj, Enrollment):
            enrollments[id(obj)] = obj
        elif isinstance(obj, Certificate):
            certificates[obj.enrollment_id] = obj
    for obj in session.dirty:
        if isinstance(obj, Enrollment) and _changed(obj, ("started_dt", "completed_dt", "is_assisted", "enrolled_dt")):
            enrollments[id(obj)] = obj
        elif isinstance(obj, Certificate) and _changed(obj, ("is_revoked", "issued_dt")):
            certificates[obj.enrollment_id] = obj
    by_enrollment = {e.id: e for e in enrollments.values()}
    for enrollment_id in certificates.keys() - by_enrollment.keys():
        by_enrollment[enrollment_id] = session.get(Enrollment, enrollment_id)
    for key, enrollment in by_enrollment.items():
        if enrollment.learner_id in recounted:
            continue  # its learner is recounted whole
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
    if recounted:
        deltas.update(contributions_of(recounted, session.connection()))
        deltas.subtract(before)
    apply_deltas(deltas, session.connection())


def _after_begin(session: Session, _transaction, connection) -> None:
    """Remember which sessions a connection serves (tests share one connection between
    several), so the statement door can tell a flush (counted by the diff) from any
    other statement."""
    connection.info.setdefault("lms.sessions", weakref.WeakSet()).add(session)


def _flush_signal(*_args, **_extra) -> None:
    """Domain signals flush, so the counters change at the event, not at the end of the request."""
    if _counting() is not None:
        db.session.flush()


_installed: set[str] = set()


def _install_orm_events() -> None:
    """Once per process: the session and attribute listeners (they look up the app's writer)."""
    if "orm" in _installed:
        return
    _installed.add("orm")
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_begin", _after_begin)

    def noop(*_args):
        return None

    # Load the old value on assignment, so the diff knows what was counted before.
    for attribute in (Enrollment.started_dt, Enrollment.completed_dt, Enrollment.is_assisted, Enrollment.enrolled_dt,
                      Enrollment.learner_id, Enrollment.course_id, Certificate.is_revoked, Certificate.issued_dt,
                      Certificate.enrollment_id, *(getattr(Learner, name) for name in LEARNER_KEY)):
        event.listen(attribute, "set", noop, active_history=True)
    from lms.certs import events as cert_events
    from lms.learners import events as learner_events
    from lms.learning import events as learning_events

    for signal in (learner_events.learner_registered, learning_events.enrolled, learning_events.course_completed,
                   cert_events.certificate_issued, cert_events.certificate_revoked,
                   cert_events.certificate_reinstated, learner_events.learner_moved):
        signal.connect(_flush_signal, weak=False)


# -- door 2: every other statement on the engine --------------------------------------

@dataclass
class _Pending:
    statement: object
    learner_ids: set[int]
    before: Counter


def _in_flush(connection) -> bool:
    return any(session._flushing for session in connection.info.get("lms.sessions", ()))


def _table_name(statement) -> str | None:
    table = getattr(statement, "table", None)
    return getattr(table, "name", None)


def _parameter_sets(statement, multiparams, params) -> list[dict]:
    """The rows of an INSERT (or the SET values of an UPDATE), column name → value."""
    values = {getattr(key, "key", key): value for key, value in (statement._values or {}).items()}
    values = {name: getattr(value, "value", value) for name, value in values.items()}
    rows = list(multiparams) or ([params] if params else [])
    return [{**values, **row} for row in rows] or [values]


def _set_columns(statement, multiparams, params) -> set[str]:
    names = {getattr(key, "key", key) for key in (statement._values or {})}
    names |= {getattr(key, "key", key) for key, _value in (getattr(statement, "_ordered_values", None) or ())}
    columns = set(statement.table.c.keys())
    for row in (list(multiparams) or [params or {}])[:1]:
        names |= set(row) & columns
    return names


def _selected(connection, query, multiparams, params) -> set:
    found: set = set()
    for row in list(multiparams) or [params or {}]:
        found.update(value for value in connection.scalars(query, row) if value is not None)
    return found


def _learners_of_enrollments(connection, enrollment_ids) -> set[int]:
    table = Enrollment.__table__
    ids = sorted(enrollment_ids)
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        found.update(connection.scalars(select(table.c.learner_id).where(table.c.id.in_(ids[start:start + 500]))))
    return found


def _refuse(what: str):
    raise UncountedWriteError(f"{what}: the statistics counters cannot follow it; write it as a SQLAlchemy "
                              "statement, or inside lms.statistics.writer.recount_after()")


def _fresh_learner_ids(connection, count: int) -> list[int]:
    """Ids the next learners will have, taken before the insert, so its rows are known."""
    if connection.dialect.name == "postgresql":
        return list(connection.scalars(select(func.nextval(func.pg_get_serial_sequence("learners", "id")))
                                       .select_from(func.generate_series(1, count))))
    top = connection.scalar(select(func.coalesce(func.max(Learner.__table__.c.id), 0))) or 0
    return list(range(top + 1, top + 1 + count))


def _prepare_insert(connection, statement, name: str, multiparams, params):
    """(statement, multiparams, params, learner ids, whether they are new) of an INSERT."""
    if statement.select is not None or statement._multi_values:
        _refuse(f"INSERT INTO {name} from a SELECT or a multi-row VALUES")
    rows = _parameter_sets(statement, multiparams, params)
    if name == "learners":
        missing = [row for row in rows if row.get("id") is None]
        if missing:
            ids = iter(_fresh_learner_ids(connection, len(missing)))
            if multiparams:
                multiparams = [row if row.get("id") is not None else {**row, "id": next(ids)} for row in multiparams]
            elif params:
                params = {**params, "id": next(ids)}
            else:
                statement = statement.values(id=next(ids))
            rows = _parameter_sets(statement, multiparams, params)
        return statement, multiparams, params, {row["id"] for row in rows}, bool(missing) and len(missing) == len(rows)
    if name == "enrollments":
        learner_ids = {row.get("learner_id") for row in rows}
    else:
        learner_ids = _learners_of_enrollments(connection, {row.get("enrollment_id") for row in rows} - {None})
        learner_ids |= {row.get("learner_id") for row in rows}
    learner_ids.discard(None)
    return statement, multiparams, params, learner_ids, False


def _affected(connection, statement, name: str, multiparams, params) -> set[int]:
    """Learners whose rows an UPDATE or DELETE will touch (found before it runs)."""
    table = statement.table
    column = table.c.id if name == "learners" else table.c.learner_id if name == "enrollments" else table.c.enrollment_id
    query = select(column)
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    found = _selected(connection, query, multiparams, params)
    if name == "certificates":
        found = _learners_of_enrollments(connection, found)
    return found


def _before_execute(connection, statement, multiparams, params, _options):
    if not isinstance(statement, Insert | Update | Delete):
        return statement, multiparams, params
    name = _table_name(statement)
    if name not in COUNTED or _counting() is None or _in_flush(connection):
        return statement, multiparams, params
    if isinstance(statement, Update) and not _set_columns(statement, multiparams, params) & COUNTED[name]:
        return statement, multiparams, params
    from lms.statistics.recount import contributions_of

    fresh = False
    if isinstance(statement, Insert):
        statement, multiparams, params, learner_ids, fresh = _prepare_insert(connection, statement, name,
                                                                             multiparams, params)
    else:
        learner_ids = _affected(connection, statement, name, multiparams, params)
    before = Counter() if fresh or not learner_ids else contributions_of(learner_ids, connection)
    connection.info["lms.pending"] = _Pending(statement, learner_ids, before)
    return statement, multiparams, params


def _after_execute(connection, statement, _multiparams, _params, _options, _result) -> None:
    pending = connection.info.get("lms.pending")
    if pending is None or pending.statement is not statement:
        return
    del connection.info["lms.pending"]
    from lms.statistics.recount import contributions_of

    writer = current_writer()
    if pending.learner_ids:
        deltas = contributions_of(pending.learner_ids, connection)
        deltas.subtract(pending.before)
        apply_deltas(deltas, connection)
    if writer is not None:
        writer.statements_counted += 1


def _before_cursor_execute(connection, _cursor, statement, _parameters, context, _executemany) -> None:
    """Refuse SQL text that writes a counted table (the statement door cannot see its rows)."""
    compiled = getattr(context, "compiled", None)
    if compiled is not None and not isinstance(compiled.statement, TextClause):
        return
    if _RAW_WRITE.search(statement) and _counting() is not None:
        _refuse("SQL text writing a counted table")


def _install_engine_events(engine) -> None:
    if event.contains(engine, "before_execute", _before_execute):
        return
    event.listen(engine, "before_execute", _before_execute, retval=True)
    event.listen(engine, "after_execute", _after_execute)
    event.listen(engine, "before_cursor_execute", _before_cursor_execute)
