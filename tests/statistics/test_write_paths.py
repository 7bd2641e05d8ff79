"""Every write path keeps the counters and the rollup equal to a recount (issue 14.2).

The write operations are enumerated from the code: every public function of every
`lms.*.operations` module, of the importer, of the recount and the check, and every
`flask` command. Each one is either driven here by a scenario (and must really write a
learner, an enrolment or a certificate while it runs) or listed in `NOT_COUNTED` with
the reason it cannot change a figure. A new operation added without either fails
`test_every_write_operation_is_listed`. After each scenario, and after random mixes of
them (imports of 1 and 2,100 rows through `/team/import` included), the stored
counters and rollup rows must equal the recount, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import importlib
import inspect
import io
import pkgutil
import random
import re

import click
import pytest
from sqlalchemy import delete, event, insert, text, update

import lms
from lms.extensions import db
from lms.statistics.recount import compare
from tests.conftest import post_form
from tests.statistics.conftest import new_learner, right_answers

EXTRA_MODULES = ("lms.team.importer", "lms.statistics.recount", "lms.statistics.check", "lms.statistics.writer",
                 "lms.learning.progress_log", "lms.learning.applier")

# Functions that cannot change a figure, and why. Everything else needs a scenario.
NOT_COUNTED = {
    **dict.fromkeys(["lms.accounts.operations." + n for n in (
        "hash_password", "check_new_password", "parse_login", "find_by_login", "authenticate", "create_staff",
        "change_password", "end_sessions", "set_password", "set_locale")], "accounts only (users, sessions, tokens)"),
    "lms.audit.operations.record": "audit rows only",
    **dict.fromkeys(["lms.accounts.operations." + n for n in ("log_out_everywhere", "login_key")],
                    "accounts only (sessions, tokens)"),
    **dict.fromkeys(["lms.duplicates.operations." + n for n in (
        "begin_check", "keep_checks", "match_token", "record_check", "file_request")],
        "audit rows and duplicate requests only (resolving one is a scenario)"),
    "lms.team.importer.check_import_budget": "reads the audit log only",
    **dict.fromkeys(["lms.quality.operations." + n for n in (
        "add_flags", "check_duplicates", "check_fast_course", "check_fast_quiz", "check_helper", "check_import",
        "configure", "count_words", "counts_by_kind", "fast_course_reason", "fast_quiz_reason", "generated_reason",
        "lesson_seconds", "lesson_words", "quiz_opened", "quiz_words", "reading_seconds", "review_flag", "scan",
        "set_flagging")] + ["cli quality scan"], "quality flags only: no counted column"),
    **dict.fromkeys(["lms.backup.operations." + n for n in (
        "manifest_path", "schema_head", "stored_revision", "count_rows", "engine_name", "create_backup",
        "sqlite_file", "libpq_target", "check_backup")], "reads the database or writes files"),
    **dict.fromkeys(["lms.certs.operations." + n for n in (
        "local_date", "make_serial", "verification_code", "record_download", "record_bulk_print")],
        "pure, or audit rows only"),
    **dict.fromkeys(["lms.learners.operations." + n for n in (
        "validate_residence", "validate_name", "current_consent_version", "give_consent", "withdraw_consent",
        "set_national_id")], "checks, consents, or columns no figure reads (ID hash)"),
    **dict.fromkeys(["lms.learning.operations." + n for n in (
        "clamp_moment", "lessons_done", "has_passed_quiz", "active_questions", "score_answers")], "reads only"),
    **dict.fromkeys(["lms.learning.progress_log." + n for n in (
        "clamp_progress", "apply_mode", "has_waiting")], "pure, or reads only"),
    "lms.learning.progress_log.store_events": "the event log only: its effect is apply_pending's (a scenario)",
    **dict.fromkeys(["lms.learning.applier." + n for n in ("init_app", "wake")],
                    "starts the worker's applier, whose rounds are drain (a scenario)"),
    **dict.fromkeys(["lms.statistics.operations." + n for n in ("month_of", "age_band", "make_key")], "pure"),
    "lms.statistics.operations.apply_deltas": "the counter upsert itself (what the writer calls)",
    "lms.statistics.operations.set_target": "targets only",
    "lms.statistics.operations.mark_changed": "change times only",
    **dict.fromkeys(["lms.statistics.recount." + n for n in (
        "expected_counters", "contributions_of", "learner_contributions", "expected_rollups", "stored_counters",
        "stored_rollups", "compare")], "reads only"),
    **dict.fromkeys(["lms.statistics.check." + n for n in (
        "check_communes", "communes_by_recent_change", "commune_differences", "province_differences",
        "nation_differences", "last_run", "run_differences", "coverage", "last_result")],
        "reads, or writes check runs only (the repair is a scenario)"),
    **dict.fromkeys(["lms.statistics.writer." + n for n in (
        "init_app", "current_writer", "set_counting", "recount_after")], "the writer itself"),
    **dict.fromkeys(["lms.team.importer." + n for n in (
        "read_table", "map_header", "run_steps", "check_header", "validate_rows", "validate_rows_steps",
        "problem_text", "column_label", "stage_import", "expected_seconds", "pending_import", "template_headers")],
        "reads, validates, or stages the file (no learner yet)"),
    **dict.fromkeys(["lms.team.operations." + n for n in (
        "new_pin", "hash_first_pin", "has_login", "username_base", "new_usernames", "parse_phone",
        "issue_login_card", "issue_login_cards", "update_contact")], "login cards, phone and ID hash: no figure"),
    **dict.fromkeys(["lms.units.operations." + n for n in (
        "ensure_nation", "load_official_units", "retire_unit", "create_village", "rename_village", "retire_village")],
        "units only; learners keep their unit ids"),
    **dict.fromkeys(["cli db " + n for n in (
        "list-templates", "init", "revision", "migrate", "edit", "merge", "show", "history", "heads", "branches",
        "current", "stamp", "check", "upgrade", "downgrade")],
        "schema; a migration that moved counted rows would need recount_after (SQL text is refused)"),
    **dict.fromkeys(["cli units load", "cli accounts create-staff", "cli accounts set-password", "cli courses check",
                     "cli courses load", "cli backup create", "cli statistics recount"],
                    "no counted table, or the recount itself"),
    "lms.backup.operations.restore_backup": "the snapshot carries its counters: "
                                            "tests/core/test_backup.py recounts after a restore",
    "cli backup restore": "as restore_backup",
    "cli statistics check": "the check; its repair is the repair_communes scenario",
}


def write_operations(app) -> set[str]:
    """Every public function of the operations modules, and every flask command."""
    found = set()
    names = [m.name for m in pkgutil.walk_packages(lms.__path__, "lms.") if m.name.endswith(".operations")]
    for name in [*names, *EXTRA_MODULES]:
        module = importlib.import_module(name)
        found |= {f"{name}.{attr}" for attr, value in vars(module).items()
                  if inspect.isfunction(value) and value.__module__ == name and not attr.startswith("_")}

    def commands(group, prefix):
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                yield from commands(command, f"{prefix}{name} ")
            else:
                yield f"cli {prefix}{name}"

    return found | set(commands(app.cli, ""))


# -- watching that a scenario really writes a counted table -----------------------------

COUNTED_WRITE = re.compile(r"^\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+(learners|enrollments|certificates)\b", re.I)


@pytest.fixture
def writes():
    seen: list[str] = []

    def spy(_conn, _cursor, statement, *_args):
        match = COUNTED_WRITE.match(statement)
        if match:
            seen.append(match.group(1))

    engine = db.session.get_bind().engine
    event.listen(engine, "before_cursor_execute", spy)
    yield seen
    event.remove(engine, "before_cursor_execute", spy)


# -- scenarios: one per counted write operation ----------------------------------------

def csv_rows(count: int, offset: int) -> bytes:
    """`count` valid import rows (names, phones and ID numbers all different) from `offset`."""
    lines = ["Họ và tên,Năm sinh,Giới tính,Số điện thoại,Số CCCD,Thôn/Tổ dân phố"]
    given = ["An", "Bình", "Cường", "Dung", "Hoà", "Lan", "Minh", "Nga", "Phúc", "Tâm"]
    family = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"]
    middle = ["Văn", "Thị", "Hữu", "Đức", "Ngọc", "Minh", "Quang", "Thanh", "Xuân", "Kim"]
    for i in range(offset, offset + count):
        year, female = 1940 + i % 60, i % 2
        name = f"{family[i // 1000 % 10]} {middle[i // 100 % 10]} {given[i // 10 % 10]} {given[i % 10]}"
        lines.append(f"{name},{year},{'Nữ' if female else 'Nam'},09{i:08d},"
                     f"001{female}{year % 100:02d}{i:06d},{'Thôn Đông' if i % 3 == 0 else ''}")
    return ("\n".join(lines) + "\n").encode()


class World:
    """What the scenarios act on: communes, a course, staff, a logged-in team member."""

    def __init__(self, communes, course, admin, team, client, rng):
        from lms.units.operations import create_village

        self.communes, self.course, self.admin, self.team, self.client = communes, course, admin, team, client
        self.rng = rng
        self.villages = {c.id: create_village(c, "Thôn Tây") for c in communes}
        self.learners: list = []
        self.imported = 0

    def learner(self):
        if not self.learners:
            self.learners.append(new_learner(self.communes[0]))
        return self.rng.choice(self.learners)

    def completed(self):
        """A learner who completed the course (with a certificate)."""
        from lms.learning.operations import complete_lesson, submit_quiz

        learner = new_learner(self.rng.choice(self.communes), birth_year=self.rng.randint(1940, 2010))
        self.learners.append(learner)
        for lesson in self.course.lessons:
            complete_lesson(learner, lesson)
        submit_quiz(learner, self.course, right_answers(self.course))
        return learner

    def certificate(self):
        from lms.certs.queries import certificates_of

        return next(iter(certificates_of(self.completed())))

    def import_file(self, rows: int) -> None:
        """Upload and confirm a file through /team/import, as a team member does."""
        data = csv_rows(rows, 100_000 + self.imported)  # never the same person twice
        self.imported += rows
        response = post_form(self.client, "/team/import", {"file": (io.BytesIO(data), "list.csv")},
                             content_type="multipart/form-data")
        url = (response.headers.get("Location") or _streamed_target(response))
        self.client.get(url)
        confirm = post_form(self.client, url + "/confirm", {"consent": "y"}, page=url)
        assert confirm.status_code in (200, 302)
        db.session.expire_all()


def _streamed_target(response) -> str:
    body = "".join(chunk.decode() for chunk in getattr(response, "streamed_chunks", []))
    match = re.search(r'url=(/team/import/\d+)"', body)
    assert match, body[-1000:]
    return match.group(1)


def s_create_learner(w):
    w.learners.append(new_learner(w.rng.choice(w.communes), sex=w.rng.choice(["female", "male", None]),
                                  birth_year=w.rng.choice([None, 1950, 1990, 2012]),
                                  registered_by=w.admin if w.rng.random() < 0.5 else None))


def s_sign_up_learner(w):
    from lms.accounts.operations import sign_up_learner

    user = sign_up_learner(full_name="Trần Văn Bình", login=f"hv{w.rng.randrange(10**9)}", password="correct horse 42",
                           commune=w.communes[1], village=None, consent_given=True, locale="vi", birth_year=1970,
                           sex="male")
    w.learners.append(user.learner)


def s_register_learner(w):
    from lms.team.operations import register_learner

    card = register_learner(w.team, commune=w.team.scope_unit, village=None, full_name="Lê Văn Cường",
                            birth_year=w.rng.randint(1940, 2000), sex="male", phone=None, national_id=None,
                            consent_given=True, locale="vi", register_anyway=True)
    w.learners.append(card.learner)


def s_update_learner(w):
    from lms.learners.operations import update_learner

    learner = w.learner()
    if not learner.is_deleted:
        village = w.rng.choice([None, w.villages[learner.commune_id]]) if learner.commune_id in w.villages else None
        update_learner(learner, actor=w.admin, full_name="Lê Thị Mai", birth_year=w.rng.randint(1940, 2012),
                       sex=w.rng.choice(["female", "male"]), village=village)


def s_move_learner(w):
    from lms.learners.operations import move_learner

    learner = w.completed()
    commune = w.rng.choice([c for c in w.communes if c.id != learner.commune_id])
    move_learner(learner, actor=w.admin, commune=commune, village=w.rng.choice([None, w.villages[commune.id]]))


def s_resolve_duplicate_by_moving(w):
    """The commune official resolves a duplicate by moving the existing record here."""
    from lms.accounts.operations import create_staff
    from lms.duplicates.models import MOVED
    from lms.duplicates.operations import file_request, match_token, resolve_request
    from tests.conftest import Factory

    learner = w.completed()
    commune = w.rng.choice([c for c in w.communes if c.id != learner.commune_id])
    member = create_staff(role="team_member", unit=commune, username=f"dup.member{learner.id}",
                          password=Factory.password, display_name="Cán bộ Thử")
    official = create_staff(role="commune_official", unit=commune, username=f"dup.official{learner.id}",
                            password=Factory.password, display_name="Cán bộ Thử")
    request = file_request(member, commune=commune, token=match_token(member, kind="phone", learner_id=learner.id),
                           full_name="Lê Thị Hoa", note=None)
    resolve_request(request, official=official, outcome=MOVED, note=None)


def s_erase_learner(w):
    from lms.privacy.operations import erase_learner

    erase_learner(w.completed(), actor=w.admin)


def s_enroll(w):
    from lms.learning.operations import enroll

    enroll(w.learner(), w.course, helper=w.admin if w.rng.random() < 0.3 else None)


def s_record_lesson_progress(w):
    from datetime import timedelta

    from lms.db import utcnow
    from lms.learning.operations import record_lesson_progress

    record_lesson_progress(w.learner(), w.rng.choice(w.course.lessons), w.rng.choice([20, 100]),
                           helper=w.admin if w.rng.random() < 0.3 else None,
                           at=utcnow() - timedelta(days=w.rng.randint(0, 400)))


def s_complete_lesson(w):
    from lms.learning.operations import complete_lesson

    complete_lesson(w.learner(), w.rng.choice(w.course.lessons))


def s_submit_quiz(w):
    w.completed()


def s_try_complete(w):
    from lms.learning.operations import complete_lesson, enroll, submit_quiz, try_complete

    learner = new_learner(w.communes[0])
    w.learners.append(learner)
    enrollment = enroll(learner, w.course)
    for lesson in w.course.lessons:
        complete_lesson(learner, lesson)
    submit_quiz(learner, w.course, right_answers(w.course))
    assert try_complete(enrollment) is False  # completed once, by the quiz; never twice


def s_apply_progress_events(w):
    from lms.learning.progress_log import apply_progress_events

    learner = w.learner()
    batch = [{"id": f"e{w.rng.randrange(10**9)}", "lesson_id": lesson.id, "kind": "complete"}
             for lesson in w.course.lessons]
    apply_progress_events(learner, batch + batch[:1])


def s_record_batch(w):
    from lms.learning.progress_log import record_batch

    learner = new_learner(w.communes[0])
    w.learners.append(learner)
    batch = [{"id": f"e{w.rng.randrange(10**9)}", "lesson_id": lesson.id, "kind": "complete"}
             for lesson in w.course.lessons]
    record_batch(learner.id, batch + batch[:1], helper_id=w.admin.id)


def _store_unapplied(w, learner=None):
    """A new learner's events in the log, not yet applied (as a request stores them in
    background mode): applying them enrols the learner and completes lessons."""
    from lms.db import utcnow
    from lms.learning.progress_log import store_events

    learner = learner or new_learner(w.communes[0])
    w.learners.append(learner)
    batch = [{"id": f"e{w.rng.randrange(10**9)}", "lesson_id": lesson.id, "kind": w.rng.choice(["progress", "complete"]),
              "progress": 60} for lesson in w.course.lessons]
    store_events(learner.id, batch, helper_id=w.admin.id if w.rng.random() < 0.3 else None, now=utcnow())
    return learner


def s_apply_pending(w):
    from lms.learning.progress_log import apply_pending

    _store_unapplied(w)
    _store_unapplied(w)
    assert apply_pending() >= 2


def s_drain(w):
    from lms.learning.applier import drain

    _store_unapplied(w)
    assert drain(limit=1) >= 1  # one event a transaction: every group's commit


def s_cli_progress_apply(w):
    from flask import current_app

    _store_unapplied(w)
    db.session.commit()
    result = current_app.test_cli_runner().invoke(args=["progress", "apply"])
    assert result.exit_code == 0, result.output
    assert "progress events applied: " in result.output


def s_issue_certificate(w):
    w.certificate()


def s_revoke_certificate(w):
    from lms.certs.operations import revoke_certificate

    revoke_certificate(w.certificate(), "Sai thông tin", actor=w.admin)


def s_reinstate_certificate(w):
    from lms.certs.operations import reinstate_certificate, revoke_certificate

    certificate = revoke_certificate(w.certificate(), "Sai thông tin", actor=w.admin)
    reinstate_certificate(certificate, "Đã xác minh", actor=w.admin)


def s_refresh_unprintable_names(w):
    from lms.certs.operations import refresh_unprintable_names

    certificate = w.certificate()
    certificate.full_name = "Lê \u0d15"
    db.session.flush()
    refresh_unprintable_names(certificate.learner)


def _marks(w, operation):
    from lms.accounts.operations import create_staff
    from lms.certs.queries import CertificateFilter

    commune = w.communes[0]
    w.certificate()
    member = create_staff(role="team_member", unit=commune, username=f"in{w.rng.randrange(10**9)}",
                          password="correct horse 42", display_name="Tổ")
    operation(member, CertificateFilter(upto_id=10**9))


def s_mark_printed(w):
    from lms.certs.operations import mark_printed

    _marks(w, mark_printed)


def s_mark_handed_over(w):
    from lms.certs.operations import mark_handed_over

    _marks(w, mark_handed_over)


def s_commit_import(w):
    w.import_file(w.rng.choice([1, 3]))


def s_commit_import_steps(w):
    w.import_file(1)


def s_rebuild(w):
    from lms.statistics.recount import rebuild

    w.completed()
    rebuild()


def s_repair(w):
    from lms.statistics.check import check_communes

    w.completed()
    check_communes(seconds=5, repair=True)


def s_demo_load(w):
    from flask import current_app

    result = current_app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output


# Statement-level writes that no operation makes today, but a script, a test, a new
# feature or a maintenance command might: they go through the writer's second door.
def s_core_insert_learners(w):
    from lms.learners.models import Learner

    commune = w.rng.choice(w.communes)
    db.session.execute(insert(Learner), [
        {"full_name": "Phạm Văn Đông", "name_folded": "pham van dong", "name_sort_key": "dong", "birth_year": 1960 + i,
         "sex": "male", "province_id": commune.province_id, "commune_id": commune.id, "is_deleted": False}
        for i in range(3)])
    db.session.connection().execute(insert(Learner.__table__).values(
        full_name="Phạm Thị Thu", name_folded="pham thi thu", name_sort_key="thu", birth_year=1981,
        sex="female", province_id=commune.province_id, commune_id=commune.id, is_deleted=False))


def s_core_update_enrollments(w):
    from lms.db import utcnow
    from lms.learning.models import Enrollment
    from lms.learning.operations import enroll

    for _ in range(2):
        enroll(new_learner(w.communes[2]), w.course)
    db.session.execute(update(Enrollment).where(Enrollment.started_dt.is_(None)).values(started_dt=utcnow())
                       .execution_options(synchronize_session=False))
    db.session.expire_all()


def s_core_move_learners(w):
    from lms.learners.models import Learner

    learner = w.completed()
    target = w.communes[2] if learner.commune_id != w.communes[2].id else w.communes[0]
    db.session.execute(update(Learner).where(Learner.id == learner.id)
                       .values(commune_id=target.id, province_id=target.province_id, village_id=None)
                       .execution_options(synchronize_session=False))
    db.session.expire_all()


def s_core_delete_rows(w):
    from lms.certs.models import Certificate
    from lms.learning.models import Enrollment, LessonProgress, QuizAttempt

    learner = w.completed()
    db.session.execute(delete(Certificate).where(Certificate.learner_id == learner.id))
    for model in (QuizAttempt, LessonProgress, Enrollment):
        db.session.execute(delete(model).where(model.learner_id == learner.id))
    db.session.expire_all()


def s_orm_delete_certificate(w):
    db.session.delete(w.certificate())
    db.session.flush()


SCENARIOS = {
    "lms.learners.operations.create_learner": s_create_learner,
    "lms.accounts.operations.sign_up_learner": s_sign_up_learner,
    "lms.team.operations.register_learner": s_register_learner,
    "lms.learners.operations.update_learner": s_update_learner,
    "lms.learners.operations.move_learner": s_move_learner,
    "lms.privacy.operations.erase_learner": s_erase_learner,
    "lms.duplicates.operations.resolve_request": s_resolve_duplicate_by_moving,
    "lms.learning.operations.enroll": s_enroll,
    "lms.learning.operations.record_lesson_progress": s_record_lesson_progress,
    "lms.learning.operations.complete_lesson": s_complete_lesson,
    "lms.learning.operations.submit_quiz": s_submit_quiz,
    "lms.learning.operations.try_complete": s_try_complete,
    "lms.learning.progress_log.apply_progress_events": s_apply_progress_events,
    "lms.learning.progress_log.apply_pending": s_apply_pending,
    "lms.learning.progress_log.record_batch": s_record_batch,
    "lms.learning.applier.drain": s_drain,
    "cli progress apply": s_cli_progress_apply,
    "lms.certs.operations.issue_certificate": s_issue_certificate,
    "lms.certs.operations.revoke_certificate": s_revoke_certificate,
    "lms.certs.operations.reinstate_certificate": s_reinstate_certificate,
    "lms.certs.operations.refresh_unprintable_names": s_refresh_unprintable_names,
    "lms.certs.operations.mark_printed": s_mark_printed,
    "lms.certs.operations.mark_handed_over": s_mark_handed_over,
    "lms.team.importer.commit_import": s_commit_import,
    "lms.team.importer.commit_import_steps": s_commit_import_steps,
    "lms.statistics.recount.rebuild": s_rebuild,
    "lms.statistics.check.repair_communes": s_repair,
    "cli demo load": s_demo_load,
    "core insert learners": s_core_insert_learners,
    "core update enrollments": s_core_update_enrollments,
    "core move learners": s_core_move_learners,
    "core delete rows": s_core_delete_rows,
    "orm delete certificate": s_orm_delete_certificate,
}


def test_every_write_operation_is_listed(app):
    found = write_operations(app)
    unlisted = found - SCENARIOS.keys() - NOT_COUNTED.keys()
    assert not unlisted, f"write operations without a scenario here (or a reason in NOT_COUNTED): {sorted(unlisted)}"
    gone = {name for name in SCENARIOS.keys() | NOT_COUNTED.keys()
            if (name.startswith("lms.") or name.startswith("cli ")) and name not in found}
    assert not gone, f"listed but no longer in the code: {sorted(gone)}"


@pytest.fixture
def world(communes, course, admin, client, make, login):
    make.village(name="Thôn Đông")
    team = make.staff("team_member")
    db.session.flush()
    login(team)
    return World(communes, course, admin, team, client, random.Random(14))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_each_write_path_keeps_counters_equal_to_a_recount(world, writes, name):
    SCENARIOS[name](world)
    db.session.flush()
    assert writes, f"{name} wrote no learner, enrolment or certificate: the scenario tests nothing"
    assert compare() == []


def test_an_import_of_2100_rows_through_the_page_is_counted(world):
    from lms.statistics.queries import dashboard

    commune = world.team.scope_unit
    before = dashboard(commune).total["registered"]
    world.import_file(2_100)
    assert compare() == []
    assert dashboard(commune).total["registered"] == before + 2_100


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_random_mix_of_write_paths_keeps_counters_equal_to_a_recount(world, seed):
    rng = random.Random(seed)
    world.rng = rng
    steps = [rng.choice(sorted(SCENARIOS)) for _ in range(24)]
    steps.insert(rng.randrange(len(steps)), "import 2100")
    steps.insert(rng.randrange(len(steps)), "import 1")
    for number, name in enumerate(steps):
        if name.startswith("import "):
            world.import_file(int(name.split()[1]))
        else:
            SCENARIOS[name](world)
        if number % 8 == 7:
            db.session.flush()
            assert compare() == [], f"after {steps[:number + 1]}"
    db.session.flush()
    assert compare() == [], f"after {steps}"


def test_sql_text_writing_a_counted_table_is_refused(communes):
    from lms.statistics.writer import UncountedWriteError

    learner = new_learner(communes[0])
    db.session.flush()
    savepoint = db.session.begin_nested()
    with pytest.raises(UncountedWriteError):
        db.session.execute(text("UPDATE learners SET commune_id = :c WHERE id = :i"),
                           {"c": communes[2].id, "i": learner.id})
    with pytest.raises(UncountedWriteError):
        db.session.connection().exec_driver_sql("DELETE FROM enrollments")
    savepoint.rollback()
    db.session.execute(text("SELECT count(*) FROM learners"))  # reading is fine
    assert compare() == []


def test_a_bulk_load_in_recount_after_is_counted_by_the_rebuild(communes):
    from lms.statistics.writer import recount_after

    learner = new_learner(communes[0])
    db.session.flush()
    with recount_after():
        db.session.execute(text("UPDATE learners SET birth_year = 1930 WHERE id = :i"), {"i": learner.id})
    assert compare() == []


def test_the_writer_lives_on_the_app(app):
    """Registered by create_app, state on the app: another app in the same process has its own."""
    from lms import create_app
    from lms.config import TestConfig
    from lms.statistics import writer

    assert app.extensions[writer.EXTENSION].counting is True
    other = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://")
    other.extensions[writer.EXTENSION].counting = False
    assert app.extensions[writer.EXTENSION].counting is True
    assert not hasattr(writer, "_state")
