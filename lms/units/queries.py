"""Reading administrative units: lists for pickers, lookups by code, copies kept for display."""

from __future__ import annotations

from sqlalchemy import bindparam, select, true

from lms import cache
from lms.extensions import db
from lms.text import fold
from lms.units.models import COMMUNE, NATION, PROVINCE, VILLAGE, Unit


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


# --- Copies kept in memory for display (dashboards, breadcrumbs) ------------------------
# Provinces and communes change only when the official list is loaded (`flask units
# load`, a few times a year): kept five minutes. Villages, which commune staff edit: 30
# seconds. The process that makes a change forgets its copies at once (`forget_units`,
# `forget_villages`); another server process shows it within those times. Copies belong
# to no session (their columns only), so they can never be written back by mistake.

OFFICIAL_UNITS_SECONDS = 300.0
VILLAGES_SECONDS = 30.0
_official_units = cache.named("official_units", maxsize=4096, ttl=OFFICIAL_UNITS_SECONDS, why=(
    "the nation, provinces and communes shown in breadcrumbs; `flask units load` elsewhere shows within the TTL"))
_unit_lists = cache.named("unit_lists", maxsize=64, ttl=OFFICIAL_UNITS_SECONDS, why=(
    "the provinces of the nation and the communes of a province, for dashboards"))
_villages = cache.named("villages", maxsize=4096, ttl=VILLAGES_SECONDS, why=(
    "a commune's villages for dashboards; an edit through another server shows within the TTL"))
_units = Unit.__table__
_UNIT_KEYS = [column.key for column in _units.columns]
# A commune's villages as plain rows, made into Units of no session: the ORM's loading
# work cost twice the query's round trip, even for no rows.
_VILLAGES_OF = select(_units).where(_units.c.level == VILLAGE, _units.c.parent_id == bindparam("commune_id"))


def _unit_copy(values) -> Unit:
    """A Unit of no session from its column values (in table order): only displayed, never written."""
    return Unit(**dict(zip(_UNIT_KEYS, values, strict=True)))


def official_unit(unit_id: int) -> Unit | None:
    """The nation, a province or a commune, for display (breadcrumbs), as a kept copy.
    Villages are read fresh (and returned as the session's own)."""
    kept = _official_units.get(unit_id)
    if kept is not None:
        return kept
    unit = db.session.get(Unit, unit_id)
    if unit is None or unit.level == VILLAGE:
        return unit
    return _official_units.set(unit_id, _unit_copy(getattr(unit, key) for key in _UNIT_KEYS))


def child_units(unit: Unit, level: str) -> list[Unit]:
    """The units of `level` directly below `unit`, current and retired, as kept copies
    (a province page then does not load 170 communes on every request)."""
    if level == VILLAGE:
        kept = _villages.get(unit.id)
        if kept is None:
            rows = db.session.connection().execute(_VILLAGES_OF, {"commune_id": unit.id})
            kept = _villages.set(unit.id, [_unit_copy(row) for row in rows])
        return kept
    kept = _unit_lists.get(unit.id)
    if kept is None:
        parent = Unit.parent_id == unit.id if unit.level != NATION else true()
        kept = list(db.session.scalars(select(Unit).where(Unit.level == level, parent)))
        for child in kept:
            db.session.expunge(child)
        _unit_lists.set(unit.id, kept)
    return kept


def forget_villages(commune_id: int) -> None:
    """A village of this commune was created, renamed or retired."""
    _villages.pop(commune_id)


def forget_units() -> None:
    """The official list was loaded: forget every kept unit copy of this process."""
    for kept in (_official_units, _unit_lists, _villages):
        kept.clear()
