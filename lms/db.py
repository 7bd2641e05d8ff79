"""Column and statement helpers shared by every domain."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, String
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both engines (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: use lms.db.utcnow()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def insert_skipping_duplicates(table, key: tuple[str, ...], *, dialect: str | None = None):
    """INSERT INTO `table` … ON CONFLICT (key) DO NOTHING, with the engine's own insert
    construct (both engines support it, and RETURNING the rows actually added)."""
    from lms.extensions import db

    if (dialect or db.session.get_bind().dialect.name) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing(index_elements=list(key))


def SortKey(length: int = 400):  # noqa: N802 - reads like a column type
    """A column ordered byte by byte on both engines (see lms.text.sort_key)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")
