"""Counters follow every event, and always equal a recount from the raw rows."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.certs.queries import certificates_of
from lms.extensions import db
from lms.learners.operations import move_learner, update_learner
from lms.learning.operations import enroll, record_lesson_progress, submit_quiz
from lms.privacy.operations import erase_learner
from lms.statistics import operations as stat_operations  # noqa: F401 - connects the writer
from lms.statistics.recount import (
    compare,
    expected_counters,
    expected_rollups,
    rebuild,
    stored_counters,
    stored_rollups,
)
from tests.statistics.conftest import figures, new_learner, right_answers


def _cert(learner):
    return next(iter(certificates_of(learner)), None)


def test_registration_counts_by_sex_age_and_mode(communes, admin):
    commune = communes[0]
    new_learner(commune, sex="female", birth_year=1950)
    new_learner(commune, sex="male", birth_year=2015, registered_by=admin)
    assert figures(commune_id=commune.id) == {"registered": 2}
    assert figures(commune_id=commune.id, sex="female", age_band="60+", mode="self") == {"registered": 1}
    assert figures(commune_id=commune.id, sex="male", age_band="under-18", mode="assisted") == {"registered": 1}
    assert compare() == []


def test_each_learning_event_counts_once(communes, course, admin):
    learner = new_learner(communes[0])
    enroll(learner, course)
    assert figures(course_id=course.id) == {"enrolled": 1}
    record_lesson_progress(learner, course.lessons[0], 40)
    assert figures(course_id=course.id) == {"enrolled": 1, "started": 1}
    for lesson in course.lessons:
        record_lesson_progress(learner, lesson, 100)
    submit_quiz(learner, course, right_answers(course))
    assert figures(course_id=course.id) == {"enrolled": 1, "started": 1, "completed": 1, "certified": 1}
    certificate = _cert(learner)
    from lms.certs.operations import reinstate_certificate, revoke_certificate

    revoke_certificate(certificate, "Sai thông tin", actor=admin)
    assert "certified" not in figures(course_id=course.id)
    reinstate_certificate(certificate, "Đã xác minh", actor=admin)
    assert figures(course_id=course.id)["certified"] == 1
    assert compare() == []


def test_help_moves_an_enrolment_to_assisted(communes, course, admin):
    learner = new_learner(communes[0])
    record_lesson_progress(learner, course.lessons[0], 30)
    assert figures(mode="self", course_id=course.id) == {"enrolled": 1, "started": 1}
    record_lesson_progress(learner, course.lessons[0], 60, helper=admin)
    assert figures(mode="assisted", course_id=course.id) == {"enrolled": 1, "started": 1}
    assert figures(mode="self", course_id=course.id) == {}
    assert compare() == []


def test_transfer_moves_everything_and_deletion_keeps_counts(communes, course, admin):
    learner = new_learner(communes[0])
    for lesson in course.lessons:
        record_lesson_progress(learner, lesson, 100)
    submit_quiz(learner, course, right_answers(course))
    before = figures()
    move_learner(learner, actor=admin, commune=communes[2], village=None)
    assert figures(commune_id=communes[0].id) == {}
    assert figures(commune_id=communes[2].id, province_id=communes[2].province_id) == before
    erase_learner(learner, actor=admin)
    db.session.flush()
    # Anonymous counts survive deletion, "registered" included; the certificate is revoked
    # (nobody is left to vouch for its name), so "certified" counts it no more.
    assert before["certified"] == 1
    assert figures() == figures(sex="unknown", age_band="unknown") == {
        metric: value for metric, value in before.items() if metric != "certified"}
    assert compare() == []


def test_rebuild_agrees_with_the_writer(communes, course):
    learner = new_learner(communes[1], birth_year=None, sex=None)
    record_lesson_progress(learner, course.lessons[0], 100)
    written, rolled_up = stored_counters(), stored_rollups()
    rebuild()
    assert stored_counters() == written == expected_counters()
    assert stored_rollups() == rolled_up == expected_rollups() != {}


def test_the_migration_copies_child_totals_as_the_writer_keeps_them(communes, course):
    """Migration 8c3f2a6d1b70 fills the 'unit:<id>' rows of a database that had none."""
    import importlib.util
    from pathlib import Path

    from sqlalchemy import delete

    from lms.statistics.models import CHILD, StatRollup
    from lms.units.operations import create_village

    village = create_village(communes[0], "Thôn Đông")
    for commune, place in ((communes[0], village), (communes[0], None), (communes[1], None), (communes[2], None)):
        record_lesson_progress(new_learner(commune, village=place), course.lessons[0], 100)
    written = stored_rollups()
    assert any(key[3] == f"{CHILD}{village.id}" for key in written)
    db.session.execute(delete(StatRollup).where(StatRollup.dimension.startswith(CHILD)))
    path = next((Path(__file__).parents[2] / "migrations" / "versions").glob("*_8c3f2a6d1b70_*.py"))
    spec = importlib.util.spec_from_file_location("child_totals_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    migration.copy_child_totals(db.session.connection())
    assert stored_rollups() == written == expected_rollups()


def test_rebuild_stores_each_units_rollup_rows_together(communes, course):
    """The rollup is written in key order, into pages that keep room for updates, so a
    dashboard's index range reads few pages (PostgreSQL; SQLite stores it by key)."""
    import pytest
    from sqlalchemy import text

    if db.engine.dialect.name != "postgresql":
        pytest.skip("physical row order and fillfactor are PostgreSQL's")
    for commune in communes:
        record_lesson_progress(new_learner(commune), course.lessons[0], 100)
    rebuild()
    keys = "unit_id, course_id, period, dimension, metric, shard"
    stored = db.session.execute(text(f"SELECT {keys} FROM stat_rollups ORDER BY ctid")).all()  # noqa: S608
    assert len(stored) > 50 and stored == sorted(stored)
    options = db.session.scalar(text("SELECT reloptions FROM pg_class WHERE relname = 'stat_rollups'"))
    assert {"fillfactor=70", "autovacuum_vacuum_scale_factor=0.01"} <= set(options)


def test_recount_command_reports_and_fixes(app, communes):
    new_learner(communes[0])
    from lms.statistics.models import StatCounter

    db.session.execute(db.update(StatCounter).values(value=StatCounter.value + 5))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["statistics", "recount"])
    assert result.exit_code == 1 and "1 counters differ" in result.output
    result = runner.invoke(args=["statistics", "recount", "--fix"])
    assert result.exit_code == 0 and compare() == []


# -- random sequences of events --------------------------------------------------------

EVENTS = st.lists(st.one_of(
    st.tuples(st.just("register"), st.integers(0, 2), st.sampled_from(["female", "male", None]),
              st.one_of(st.none(), st.integers(1940, 2015)), st.booleans()),
    st.tuples(st.just("enroll"), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("lesson"), st.integers(0, 9), st.integers(0, 1), st.sampled_from([20, 100]), st.booleans(),
              st.integers(0, 400)),
    st.tuples(st.just("quiz"), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("revoke"), st.integers(0, 9)),
    st.tuples(st.just("reinstate"), st.integers(0, 9)),
    st.tuples(st.just("move"), st.integers(0, 9), st.integers(0, 2), st.booleans()),
    st.tuples(st.just("correct"), st.integers(0, 9), st.sampled_from(["female", "male"]), st.integers(1940, 2015)),
    st.tuples(st.just("delete"), st.integers(0, 9)),
), min_size=1, max_size=25)


def _run(event, learners, communes, villages, course, admin):
    from datetime import timedelta

    from lms.certs.operations import reinstate_certificate, revoke_certificate
    from lms.db import utcnow

    kind, *args = event
    if kind == "register":
        commune, sex, birth_year, assisted = communes[args[0]], args[1], args[2], args[3]
        learners.append(new_learner(commune, sex=sex, birth_year=birth_year,
                                    registered_by=admin if assisted else None))
        return
    if not learners:
        return
    learner = learners[args[0] % len(learners)]
    helper = admin if kind in ("enroll", "lesson", "quiz") and args[-1 if kind != "lesson" else 3] else None
    if kind == "enroll":
        enroll(learner, course, helper=helper)
    elif kind == "lesson":
        lesson = course.lessons[args[1]]
        record_lesson_progress(learner, lesson, args[2], helper=helper, at=utcnow() - timedelta(days=args[4]))
    elif kind == "quiz":
        if all(p for p in (_done(learner, lesson) for lesson in course.lessons)):
            submit_quiz(learner, course, right_answers(course), helper=helper)
    elif kind in ("revoke", "reinstate"):
        certificate = _cert(learner)
        if certificate is not None and certificate.is_revoked == (kind == "reinstate"):
            change = revoke_certificate if kind == "revoke" else reinstate_certificate
            change(certificate, "Lý do", actor=admin)
    elif kind == "move" and not learner.is_deleted:
        commune = communes[args[1]]
        move_learner(learner, actor=admin, commune=commune, village=villages[commune.id] if args[2] else None)
    elif kind == "correct" and not learner.is_deleted:
        village = learner.village
        update_learner(learner, actor=admin, full_name="Lê Thị Mai", birth_year=args[2], sex=args[1],
                       village=village)
    elif kind == "delete":
        erase_learner(learner, actor=admin)


def _done(learner, lesson) -> bool:
    from sqlalchemy import select

    from lms.learning.models import LessonProgress

    return db.session.scalar(select(LessonProgress.completed_dt).where(
        LessonProgress.learner_id == learner.id, LessonProgress.lesson_id == lesson.id)) is not None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=EVENTS)
def test_counters_equal_a_recount_after_any_sequence_of_events(communes, course, admin, events):
    from lms.units.operations import create_village

    savepoint = db.session.begin_nested()
    try:
        villages = {commune.id: create_village(commune, "Thôn Đông") for commune in communes}
        learners: list = []
        for event in events:
            _run(event, learners, communes, villages, course, admin)
        db.session.flush()
        assert compare() == []
    finally:
        savepoint.rollback()


def test_counters_and_rollup_are_written_by_as_few_statements_as_the_engine_allows(communes):
    """One statement for all three tables on PostgreSQL (a WITH), one per table on SQLite; and the
    stored values equal the recount either way."""
    from sqlalchemy import event

    statements = []

    def seen(_conn, _cursor, statement, *_args):
        if "stat_" in statement:
            statements.append(statement)

    engine = db.session.get_bind().engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        new_learner(communes[0], sex="female", birth_year=1980)
        db.session.flush()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    # SQLite: counters, rollup and the commune's change time (stat_changes), one each
    assert len(statements) == (1 if engine.dialect.name == "postgresql" else 3)
    assert compare() == []
