"""Write operations on administrative units. They flush; the caller commits once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from lms.errors import DomainError
from lms.extensions import db
from lms.text import clean_text, fold, sort_key
from lms.units.models import COMMUNE, NATION, PROVINCE, REFORM_DATE, VILLAGE, Unit, UnitChange
from lms.units.queries import forget_units, forget_villages

NATION_CODE = "VN"
VILLAGE_TYPES = ("thôn", "bản", "ấp", "tổ dân phố", "khu phố", "làng", "buôn", "plei", "sóc", "khóm")


class UnitError(DomainError):
    """A unit change that cannot be made."""


_MESSAGES = {
    "not-a-current-commune": _l("Villages can only be added to a current commune."),
    "not-a-current-village": _l("This village no longer exists."),
    "village-name-invalid": _l("Enter a village name of at most 120 characters."),
    "village-type-invalid": _l("Choose a village type from the list."),
    "village-exists": _l("This commune already has a village with that name."),
    "village-merge-invalid": _l("A village can only be merged into another village of the same commune."),
}


def _fail(code: str):
    raise UnitError(code, _MESSAGES[code])


@dataclass
class LoadReport:
    created: int = 0
    renamed: int = 0
    unchanged: int = 0
    retired: int = 0
    messages: list[str] = field(default_factory=list)


def _set_name(unit: Unit, name: str) -> None:
    unit.name = name
    unit.name_folded = fold(name)
    unit.name_sort_key = sort_key(name)


def _record(unit: Unit, change: str, old, new, effective_on: date, actor_id=None) -> None:
    db.session.add(
        UnitChange(unit_id=unit.id, change=change, old_value=old, new_value=new,
                   effective_on=effective_on, changed_by_id=actor_id)
    )


def ensure_nation() -> Unit:
    nation = db.session.scalar(select(Unit).filter_by(level=NATION, code=NATION_CODE))
    if nation is None:
        nation = Unit(level=NATION, code=NATION_CODE, division_type="quốc gia",
                      codename="viet_nam", valid_from=REFORM_DATE)
        _set_name(nation, "Việt Nam")
        db.session.add(nation)
        db.session.flush()
    return nation


def _official_rows():
    """The official list as plain tuples, from the `vietnam-provinces` package."""
    from vietnam_provinces import Province, Ward

    provinces = [
        (f"{int(p.code):02d}", p.name, p.division_type.value, p.codename)
        for p in Province.iter_all()
    ]
    communes = [
        (f"{int(w.code):05d}", w.name, w.division_type.value, w.codename, f"{int(w.province_code):02d}")
        for w in Ward.iter_all()
    ]
    return provinces, communes


def _sync(level, code, name, division_type, codename, current, parent, effective_on, report):
    unit = current.get(code)
    if unit is None:
        unit = Unit(level=level, code=code, division_type=division_type, codename=codename,
                    parent_id=parent.id if parent else None, valid_from=effective_on)
        _set_name(unit, name)
        db.session.add(unit)
        report.created += 1
        return unit
    changed = False
    if unit.name != name:
        db.session.flush()
        _record(unit, "renamed", unit.name, name, effective_on)
        _set_name(unit, name)
        changed = True
    if unit.division_type != division_type:
        _record(unit, "retyped", unit.division_type, division_type, effective_on)
        unit.division_type = division_type
        changed = True
    if parent is not None and unit.parent_id != parent.id:
        _record(unit, "moved", str(unit.parent_id), str(parent.id), effective_on)
        unit.parent_id = parent.id
        changed = True
    unit.codename = codename
    if changed:
        report.renamed += 1
    else:
        report.unchanged += 1
    return unit


def load_official_units(effective_on: date | None = None, *, retire_missing: bool = False,
                        source=None) -> LoadReport:
    """Create or update the 34 provinces and 3,321 communes from the official list.

    Idempotent: a second run changes nothing. Renames and type changes keep the row
    and are recorded; units missing from the list are retired only when asked, since
    a missing unit usually means a merger that needs its successor named.
    """
    effective_on = effective_on or REFORM_DATE
    provinces, communes = source() if source else _official_rows()
    report = LoadReport()
    nation = ensure_nation()

    current = {
        (u.level, u.code): u
        for u in db.session.scalars(select(Unit).where(Unit.level.in_((PROVINCE, COMMUNE)),
                                                       Unit.valid_to.is_(None)))
    }
    by_level = {
        level: {code: u for (lvl, code), u in current.items() if lvl == level}
        for level in (PROVINCE, COMMUNE)
    }

    province_units = {}
    for code, name, division_type, codename in provinces:
        province_units[code] = _sync(PROVINCE, code, name, division_type, codename,
                                     by_level[PROVINCE], nation, effective_on, report)
    db.session.flush()
    for unit in province_units.values():
        unit.province_id = unit.id

    commune_units = []
    for code, name, division_type, codename, province_code in communes:
        parent = province_units.get(province_code)
        if parent is None:
            raise UnitError("official-list-invalid", f"commune {code} names unknown province {province_code}")
        unit = _sync(COMMUNE, code, name, division_type, codename,
                     by_level[COMMUNE], parent, effective_on, report)
        commune_units.append((unit, parent))
    db.session.flush()
    for unit, parent in commune_units:
        unit.commune_id = unit.id
        unit.province_id = parent.id

    if retire_missing:
        seen = {(PROVINCE, c[0]) for c in provinces} | {(COMMUNE, c[0]) for c in communes}
        for key, unit in current.items():
            if key not in seen:
                retire_unit(unit, effective_on)
                report.retired += 1
    db.session.flush()
    forget_units()  # dashboards of this process list the new units at once
    return report


def retire_unit(unit: Unit, effective_on: date, replaced_by: Unit | None = None, actor_id=None) -> None:
    """Close a unit's validity; its learners and history stay attached to it."""
    unit.valid_to = effective_on - timedelta(days=1)
    if replaced_by is not None:
        unit.replaced_by_id = replaced_by.id
        _record(unit, "merged", unit.code, replaced_by.code, effective_on, actor_id)
    else:
        _record(unit, "retired", unit.name, None, effective_on, actor_id)


def create_village(commune: Unit, name: str, division_type: str = "thôn", actor_id=None) -> Unit:
    """Create a village (thôn, bản, tổ dân phố…) under a current commune."""
    name = clean_text(name)
    division_type = clean_text(division_type).lower()
    if commune.level != COMMUNE or not commune.is_current:
        _fail("not-a-current-commune")
    if not name or len(name) > 120:
        _fail("village-name-invalid")
    if division_type not in VILLAGE_TYPES:
        _fail("village-type-invalid")
    duplicate = db.session.scalar(
        select(Unit.id).where(Unit.parent_id == commune.id, Unit.level == VILLAGE,
                              Unit.valid_to.is_(None), Unit.name_folded == fold(name))
    )
    if duplicate:
        _fail("village-exists")
    count = db.session.scalar(select(func.count()).select_from(Unit).where(
        Unit.parent_id == commune.id, Unit.level == VILLAGE)) or 0
    village = Unit(level=VILLAGE, code=f"{commune.code}-{count + 1}", division_type=division_type,
                   parent_id=commune.id, province_id=commune.province_id, commune_id=commune.id,
                   valid_from=date.today())
    _set_name(village, name)
    db.session.add(village)
    db.session.flush()
    _record(village, "created", None, name, date.today(), actor_id)
    _villages_changed(commune.id)
    return village


def _villages_changed(commune_id: int) -> None:
    forget_villages(commune_id)  # this process's dashboards list the change at once


def rename_village(village: Unit, name: str, actor_id=None) -> Unit:
    name = clean_text(name)
    if village.level != VILLAGE or not village.is_current:
        _fail("not-a-current-village")
    if not name or len(name) > 120:
        _fail("village-name-invalid")
    if fold(name) != village.name_folded or name != village.name:
        _record(village, "renamed", village.name, name, date.today(), actor_id)
        _set_name(village, name)
        _villages_changed(village.commune_id)
    return village


def retire_village(village: Unit, actor_id=None, replaced_by: Unit | None = None) -> Unit:
    """Retire (or merge into another village of the same commune) a village."""
    if village.level != VILLAGE or not village.is_current:
        _fail("not-a-current-village")
    if replaced_by is not None and (replaced_by.commune_id != village.commune_id or replaced_by.id == village.id):
        _fail("village-merge-invalid")
    retire_unit(village, date.today() + timedelta(days=1), replaced_by, actor_id)
    _villages_changed(village.commune_id)
    return village
