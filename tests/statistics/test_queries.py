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


def test_the_target_rides_along_in_the_page_statement_whatever_the_date_style(db_session, make):
    """The page's one statement carries the target as a row with the date as text; on
    PostgreSQL that text must not follow the server's DateStyle."""
    from datetime import date

    from sqlalchemy import text

    from lms.statistics.operations import set_target

    commune = make.commune()
    assert queries.dashboard(commune).target is None
    set_target(commune, 1500, date(2027, 3, 9), actor=make.staff("national_admin"))
    db.session.flush()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL DateStyle = 'SQL, DMY'"))
    board = queries.dashboard(commune)
    assert (board.target.adults, board.target.due_on) == (1500, date(2027, 3, 9))
    assert board.total.counts == dict.fromkeys(board.total.counts, 0)  # the target row is no figure


def test_a_communes_villages_are_kept_and_an_edit_here_shows_at_once(db_session, make):
    from lms.units.models import Unit
    from lms.units.operations import create_village, rename_village, retire_village

    commune = make.commune()
    first = create_village(commune, "Thôn Một")
    listed = queries.child_units(commune, "village")
    assert [v.name for v in listed] == ["Thôn Một"] and inspect(listed[0]).transient
    assert queries.child_units(commune, "village") is listed  # kept
    db.session.add(Unit(**{**{c.key: getattr(first, c.key) for c in Unit.__table__.columns},
                           "id": None, "code": commune.code + "-x", "name": "Thôn Lén"}))
    db.session.flush()  # a village another process created: not listed until the 30 s pass
    assert [v.name for v in queries.child_units(commune, "village")] == ["Thôn Một"]
    second = create_village(commune, "Thôn Hai")
    assert {v.name for v in queries.child_units(commune, "village")} == {"Thôn Một", "Thôn Lén", "Thôn Hai"}
    rename_village(second, "Thôn Hai Mới")
    db.session.flush()  # as the request that renames commits before any dashboard is read
    assert "Thôn Hai Mới" in {v.name for v in queries.child_units(commune, "village")}
    retire_village(first)
    db.session.flush()
    assert next(v for v in queries.child_units(commune, "village") if v.id == first.id).valid_to is not None
