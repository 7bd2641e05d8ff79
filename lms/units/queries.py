"""Reading administrative units: lists for pickers, lookups by code."""

from __future__ import annotations

from sqlalchemy import select

from lms.extensions import db
from lms.text import fold
from lms.units.models import COMMUNE, PROVINCE, VILLAGE, Unit


def current_units(level: str, parent_id: int | None = None) -> list[Unit]:
    """Current units of a level (under a parent), in Vietnamese alphabetical order."""
    query = select(Unit).where(Unit.level == level, Unit.valid_to.is_(None))
    if parent_id is not None:
        query = query.where(Unit.parent_id == parent_id)
    return list(db.session.scalars(query.order_by(Unit.name_sort_key)))


def provinces() -> list[Unit]:
    return current_units(PROVINCE)


def communes_of(province_id: int) -> list[Unit]:
    return current_units(COMMUNE, province_id)


def villages_of(commune_id: int) -> list[Unit]:
    return current_units(VILLAGE, commune_id)


def unit_by_code(level: str, code: str) -> Unit | None:
    return db.session.scalar(
        select(Unit).where(Unit.level == level, Unit.code == code, Unit.valid_to.is_(None))
    )


def current_unit(unit_id, level: str | None = None) -> Unit | None:
    """A current unit by id (None for bad ids), optionally of a given level."""
    try:
        unit = db.session.get(Unit, int(unit_id))
    except (TypeError, ValueError):
        return None
    if unit is None or not unit.is_current or (level and unit.level != level):
        return None
    return unit


def search_units(text: str, level: str | None = None, limit: int = 20) -> list[Unit]:
    """Units whose name contains `text`, ignoring diacritics ("dang" finds "Đặng")."""
    key = fold(text)
    if not key:
        return []
    query = select(Unit).where(Unit.valid_to.is_(None), Unit.name_folded.contains(key, autoescape=True))
    if level:
        query = query.where(Unit.level == level)
    return list(db.session.scalars(query.order_by(Unit.name_sort_key).limit(limit)))
