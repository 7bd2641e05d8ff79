from datetime import date

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.units.models import COMMUNE, PROVINCE, VILLAGE, Unit, UnitChange
from lms.units.operations import (
    UnitError,
    create_village,
    load_official_units,
    rename_village,
    retire_village,
)
from lms.units.queries import communes_of, provinces, search_units, unit_by_code, villages_of


def count(level):
    return db.session.scalar(select(func.count()).select_from(Unit).where(Unit.level == level, Unit.valid_to.is_(None)))


def test_official_units_are_loaded():
    assert count(PROVINCE) == 34
    assert count(COMMUNE) == 3321
    hanoi = unit_by_code(PROVINCE, "01")
    assert hanoi.name == "Thành phố Hà Nội"
    assert hanoi.division_type == "thành phố trung ương"
    hoan_kiem = unit_by_code(COMMUNE, "00070")
    assert hoan_kiem.parent_id == hanoi.id
    assert hoan_kiem.province_id == hanoi.id and hoan_kiem.commune_id == hoan_kiem.id
    assert hoan_kiem.valid_from == date(2025, 7, 1) and hoan_kiem.valid_to is None


def test_every_commune_belongs_to_a_province():
    orphans = db.session.scalar(select(func.count()).select_from(Unit).where(
        Unit.level == COMMUNE, Unit.province_id.is_(None)))
    assert orphans == 0
    assert sum(len(communes_of(p.id)) for p in provinces()) == 3321


def test_reload_is_idempotent():
    before = db.session.scalar(select(func.count()).select_from(Unit))
    report = load_official_units()
    assert (report.created, report.renamed, report.retired) == (0, 0, 0)
    assert report.unchanged == 34 + 3321
    assert db.session.scalar(select(func.count()).select_from(Unit)) == before


def _source(province_name="Tỉnh Thử", commune_name="Xã Thử Nghiệm", with_commune=True):
    provinces = [("99", province_name, "tỉnh", "thu")]
    communes = [("99001", commune_name, "xã", "thu_nghiem", "99")] if with_commune else []
    return lambda: (provinces, communes)


def test_rename_keeps_the_row_and_records_history():
    load_official_units(source=_source())
    commune = unit_by_code(COMMUNE, "99001")
    report = load_official_units(date(2026, 7, 1), source=_source(commune_name="Phường Thử Nghiệm"))
    assert report.renamed == 1
    renamed = unit_by_code(COMMUNE, "99001")
    assert renamed.id == commune.id and renamed.name == "Phường Thử Nghiệm"
    change = db.session.scalar(select(UnitChange).where(UnitChange.unit_id == commune.id))
    assert (change.change, change.old_value, change.new_value) == ("renamed", "Xã Thử Nghiệm", "Phường Thử Nghiệm")


def test_missing_units_are_retired_only_when_asked():
    load_official_units(source=_source())
    load_official_units(date(2026, 7, 1), source=_source(with_commune=False))
    assert unit_by_code(COMMUNE, "99001") is not None  # not retired without the flag
    report = load_official_units(date(2026, 7, 1), source=_source(with_commune=False), retire_missing=True)
    # Everything else in the real list is missing from this tiny source too.
    assert report.retired >= 1
    gone = db.session.scalar(select(Unit).where(Unit.code == "99001"))
    assert gone.valid_to == date(2026, 6, 30)
    assert unit_by_code(COMMUNE, "99001") is None


def test_villages_are_created_renamed_and_retired(make):
    commune = make.commune()
    village = create_village(commune, "  Thôn  Đông ", "thôn")
    assert village.name == "Thôn Đông" and village.level == VILLAGE
    assert village.commune_id == commune.id and village.province_id == commune.province_id
    assert village.code.startswith(commune.code + "-")
    with pytest.raises(UnitError) as error:
        create_village(commune, "thôn đông")  # same name, different case: a duplicate
    assert error.value.code == "village-exists"
    rename_village(village, "Thôn Đông Hòa")
    assert village.name == "Thôn Đông Hòa"
    retire_village(village)
    db.session.flush()
    assert village not in villages_of(commune.id)
    changes = db.session.scalars(select(UnitChange.change).where(UnitChange.unit_id == village.id)).all()
    assert changes == ["created", "renamed", "retired"]


def test_village_needs_a_current_commune(make):
    with pytest.raises(UnitError) as error:
        create_village(make.province(), "Thôn A")
    assert error.value.code == "not-a-current-commune"


def test_units_search_ignores_diacritics():
    names = [u.name for u in search_units("hoan kiem", COMMUNE)]
    assert "Phường Hoàn Kiếm" in names
    assert any(u.name.startswith("Tỉnh Đắk") or "Đ" in u.name for u in search_units("dak", PROVINCE))
