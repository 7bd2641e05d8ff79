"""What the dashboard reads keeps in memory is a copy, and is forgotten on demand."""

from sqlalchemy import inspect

from lms.extensions import db
from lms.statistics import queries


def test_official_units_are_kept_as_copies_outside_the_session(db_session, make):
    province = make.province()
    kept = queries.official_unit(province.id)
    assert (kept.id, kept.name, kept.level) == (province.id, province.name, "province")
    assert kept is not province and inspect(kept).transient  # never flushed back
    assert queries.official_unit(province.id) is kept
    queries.forget_kept()
    assert queries.official_unit(province.id) is not kept


def test_villages_are_read_fresh(db_session, make):
    village = make.village()
    assert queries.official_unit(village.id) is village
    assert village in db.session


def test_breadcrumbs_run_from_the_nation_to_the_unit(db_session, make):
    village = make.village()
    chain = queries.breadcrumbs(village)
    assert [unit.level for unit in chain] == ["nation", "province", "commune", "village"]
    assert chain[2].id == village.commune_id and chain[-1] is village
