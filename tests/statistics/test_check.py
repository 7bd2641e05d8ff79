"""The incremental check: unit by unit, newest changes first, bounded in time, and a
repair that rewrites only the units that differ (issue 14.3)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from lms.extensions import db
from lms.learning.operations import record_lesson_progress
from lms.statistics.check import check_communes, communes_by_recent_change, last_run, run_differences
from lms.statistics.models import StatCounter, StatRollup
from lms.statistics.recount import compare, stored_counters, stored_rollups
from tests.statistics.conftest import new_learner


def _activity(communes, course):
    for commune in communes:
        learner = new_learner(commune)
        record_lesson_progress(learner, course.lessons[0], 100)
    db.session.flush()


def _bump_counter(commune, by: int = 3) -> None:
    row = db.session.scalar(select(StatCounter).where(StatCounter.commune_id == commune.id).limit(1))
    row.value += by
    db.session.flush()


def _bump_rollup(unit_id: int, by: int = 2) -> None:
    row = db.session.scalar(select(StatRollup).where(StatRollup.unit_id == unit_id,
                                                     ~StatRollup.dimension.startswith("unit:")).limit(1))
    row.value += by
    db.session.flush()


def test_a_clean_database_has_no_differences(communes, course):
    _activity(communes, course)
    run = check_communes(seconds=600)
    assert run.units_checked == run.units_total > 3000  # every commune, province and the nation
    assert run.differences == 0 and last_run().id == run.id


def test_units_changed_last_are_checked_first(communes, course):
    check_communes(seconds=600)  # everything checked once
    new_learner(communes[2])
    db.session.flush()
    order = communes_by_recent_change(db.session.connection())
    assert order[0][:2] == (communes[2].id, "commune")
    assert order[1][:2] == (communes[2].province_id, "province") and order[2][1] == "nation"
    run = check_communes(seconds=0.001)  # a tiny budget still checks the newest change
    assert run.units_checked >= 1 and run.units_checked < run.units_total


def test_a_differing_commune_is_found_reported_and_repaired_alone(communes, course):
    _activity(communes, course)
    _bump_counter(communes[0])
    assert compare() != []
    run = check_communes(seconds=600)
    assert run.units_differing >= 1
    assert {d.unit_id for d in run_differences(run) if d.table_name == "stat_counters"} == {communes[0].id}
    before_counters, before_rollups = stored_counters(), stored_rollups()
    repair = check_communes(seconds=600, repair=True)
    assert repair.differences == run.differences and compare() == []
    changed = {key for key in before_counters.keys() | stored_counters().keys()
               if before_counters[key] != stored_counters()[key]}
    assert {key[1] for key in changed} == {communes[0].id}  # only the commune that differed was rewritten
    moved = Counter(stored_rollups())
    moved.subtract(before_rollups)
    assert {key[0] for key, value in moved.items() if value} <= {0, communes[0].province_id, communes[0].id}
    assert check_communes(seconds=600).differences == 0


def test_rollup_rows_of_a_province_and_the_nation_are_checked_and_repaired(communes, course):
    _activity(communes, course)
    _bump_rollup(communes[2].province_id)
    _bump_rollup(0)
    run = check_communes(seconds=600)
    assert {(d.unit_id, d.table_name) for d in run_differences(run)} == {
        (communes[2].province_id, "stat_rollups"), (0, "stat_rollups")}
    check_communes(seconds=600, repair=True)
    assert compare() == []


def test_the_command_reports_then_repairs(app, communes, course):
    _activity(communes, course)
    _bump_counter(communes[1])
    runner = app.test_cli_runner()
    fast = ["--pace", "1", "--no-nice"]  # no rests, and the test process keeps its priority
    result = runner.invoke(args=["statistics", "check", "--seconds", "600", *fast])
    assert result.exit_code == 1 and "rows differ in" in result.output, result.output
    result = runner.invoke(args=["statistics", "check", "--seconds", "600", "--repair", *fast])
    assert result.exit_code == 0 and "repaired" in result.output
    assert compare() == []
    result = runner.invoke(args=["statistics", "check", "--seconds", "0"])
    assert result.exit_code == 2 and "above zero" in result.output
    for pace in ("0", "1.5", "-1"):
        result = runner.invoke(args=["statistics", "check", "--pace", pace, "--no-nice"])
        assert result.exit_code == 2 and "share of the time" in result.output, (pace, result.output)


def test_a_paced_check_rests_in_proportion_to_its_work(communes, course):
    """At pace p the check rests t × (1/p − 1) after a unit that took t: it works p of the
    time, leaving the rest of the processor to the pages."""
    _activity(communes, course)
    rests, timings = [], []
    run = check_communes(seconds=600, pace=0.25, sleep=rests.append, timings=timings)
    assert run.differences == 0 and len(rests) == len(timings) >= len(communes)
    for rest, (_level, milliseconds, snapshot) in zip(rests, timings, strict=True):
        assert 0 <= snapshot <= milliseconds
        assert abs(rest - milliseconds / 1000 * 3) < 1e-9
    unpaced = []
    check_communes(seconds=600, sleep=unpaced.append)
    assert unpaced == []


def test_the_page_shows_the_last_run_to_national_administrators_only(app, client, login, make, communes, course):
    from tests.conftest import Factory, post_form

    _activity(communes, course)
    _bump_counter(communes[0])
    check_communes(seconds=600)
    official, other = make.staff("province_official"), app.test_client()
    post_form(other, "/login", {"login": official.login_name, "password": Factory.password})
    assert other.get("/statistics/check").status_code == 403
    admin = make.staff("national_admin")
    login(admin)
    page = client.get("/statistics/check").get_data(as_text=True)
    assert "Kiểm tra số liệu thống kê" in page and 'id="differences"' in page and communes[0].name in page
    assert "flask statistics check --repair" in page
    admin.locale = "en"
    db.session.flush()
    english = client.get("/statistics/check").get_data(as_text=True)
    assert "Statistics check" in english and "rows differ in" in english


def test_a_provinces_rollup_summed_by_the_database_equals_the_rollup_of_its_counters(communes, course):
    """`_province_aggregates` (GROUP BYs in SQL) gives exactly the province rows that
    `rollup_keys` gives from its counters in Python, on every engine."""
    from lms.statistics.check import _province_aggregates
    from lms.statistics.models import CHILD, KEY_COLUMNS, rollup_deltas
    from lms.statistics.recount import expected_counters

    _activity(communes, course)
    for commune in communes:  # learners of every sex and age, some with a village, some helped
        new_learner(commune)
    db.session.flush()
    counters = expected_counters()
    for province_id in {commune.province_id for commune in communes}:
        mine = Counter({k: v for k, v in counters.items() if k[KEY_COLUMNS.index("province_id")] == province_id})
        child = f"{CHILD}{province_id}"
        wanted = Counter({k: v for k, v in rollup_deltas(mine).items() if v and (
            (k[0] == province_id and not k[3].startswith(CHILD)) or (k[0] == 0 and k[3] == child))})
        assert wanted and _province_aggregates(db.session.connection(), province_id) == wanted


LOCK_PROBE = """
import sqlite3, sys
from lms import create_app
from lms.extensions import db
from lms.statistics import check

app = create_app()
runner = app.test_cli_runner()
for args in (["db", "upgrade"], ["units", "load"], ["courses", "load"], ["demo", "load"]):
    result = runner.invoke(args=args)
    assert result.exit_code == 0, (args, result.output, result.exception)
path = sys.argv[1]
probes = []
read_unit = check._read_unit

def probing(connection, *args):
    # While the check reads a unit, another writer must get the write lock at once.
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        probes.append(True)
    except sqlite3.OperationalError:
        probes.append(False)
    finally:
        other.close()
    return read_unit(connection, *args)

check._read_unit = probing
with app.app_context():
    for pace in (1.0, 0.5):
        run = check.check_communes(600, isolated=True, pace=pace)
        assert run.units_checked == run.units_total and run.differences == 0
        check.check_communes(600, repair=True, isolated=True, pace=pace)
print(len(probes), probes.count(False))
"""


def test_the_check_never_holds_the_write_lock_while_it_reads(tmp_path):
    """On SQLite a command's transaction takes the write lock; the check reads each unit
    in a snapshot of its own and writes only its record, so learners' writes never wait
    for a unit's read (they waited up to the busy timeout, then answered 503)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    path = tmp_path / "lms.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(root), "FLASK_APP": "wsgi.py", "LMS_INSTANCE_DIR": str(tmp_path / "instance"),
           "DATABASE_URL": f"sqlite:///{path}", "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
           "LMS_LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-c", LOCK_PROBE, str(path)], cwd=root, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    probes, refused = map(int, done.stdout.split()[-2:])
    assert probes >= 8 and refused == 0, done.stdout
