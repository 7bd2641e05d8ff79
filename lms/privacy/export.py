"""Everything held about a learner, as they download it (`/my-data.json`).

Written from the inventory, table by table and column by column, so a column added to a
declared table is exported without anyone remembering to: only secrets (password and
token hashes, the keyed hash of the ID number) are reported as held instead of shown.
Ids of units, courses and lessons are explained under "labels".
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select

from lms.extensions import db
from lms.learners.models import Learner
from lms.privacy import queries
from lms.privacy.inventory import DETAIL_KEYS, TABLES, Table

HELD = "held (not shown)"
LABELLED = {"units": "name", "courses": "slug", "lessons": "slug"}


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _rows(table: Table, person: queries.Person, audit_ids: list[int]) -> list[dict[str, Any]]:
    sql_table = db.metadata.tables[table.name]
    where: ColumnElement[bool]
    if table.name == "audit_events":
        where = sql_table.c.id.in_(audit_ids)
    else:
        conditions = [sql_table.c[column].in_(person.ids(kind)) for column, kind in table.links if person.ids(kind)]
        if not conditions:
            return []
        where = or_(*conditions)
    rows = db.session.connection().execute(select(sql_table).where(where).order_by(*sql_table.primary_key))
    found = [{name: (HELD if value is not None and table.columns[name].secret else _value(value))
              for name, value in row._mapping.items()} for row in rows]
    if table.name == "audit_events":
        for row in found:
            row["details"] = only_theirs(row["details"], person)
    return found


def only_theirs(details: Any, person: queries.Person) -> Any:
    """Audit details with lists cut to the person's own ids: a bulk event lists other people too."""
    if not isinstance(details, dict):
        return details
    trimmed = dict(details)
    for key, kind in DETAIL_KEYS.items():
        if isinstance(trimmed.get(key), list):
            trimmed[key] = [value for value in trimmed[key] if value in person.ids(kind)]
        elif key in trimmed and trimmed[key] is not None and trimmed[key] not in person.ids(kind):
            trimmed[key] = None
    return trimmed


def _labels(sections: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Names of the units, courses and lessons the exported rows refer to."""
    wanted: dict[str, set[int]] = {name: set() for name in LABELLED}
    for table in TABLES:
        if table.export_as is None:
            continue
        rows = sections[table.export_as]
        for row in [rows] if isinstance(rows, dict) else rows or []:
            for column in db.metadata.tables[table.name].columns:
                for key in column.foreign_keys:
                    if key.column.table.name in wanted and row.get(column.name) is not None:
                        wanted[key.column.table.name].add(row[column.name])
    labels = {}
    for name, ids in wanted.items():
        sql_table = db.metadata.tables[name]
        label = sql_table.c[LABELLED[name]]
        labels[name] = {str(row.id): row[1] for row in db.session.connection().execute(
            select(sql_table.c.id, label).where(sql_table.c.id.in_(ids)).order_by(sql_table.c.id))}
    return labels


def personal_data(learner: Learner) -> dict[str, Any]:
    """Every declared table's rows about the learner, every column, keyed by section."""
    db.session.flush()
    person = queries.person_of(learner)
    audit_ids = [event.id for event in queries.audit_events_about(person)]
    sections: dict[str, Any] = {}
    for table in TABLES:
        if table.export_as is None:
            continue
        rows = _rows(table, person, audit_ids)
        sections[table.export_as] = (rows[0] if rows else None) if table.single else rows
    sections["labels"] = _labels(sections)
    return sections
