"""Each kind of data-quality flag: raised when its condition holds, not when it does not,
stored once, and never for an erased learner."""

import io

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.learners.models import Learner
from lms.learners.operations import move_learner
from lms.privacy.operations import erase_learner
from lms.quality import operations, thresholds
from lms.quality.models import DUPLICATE, FAST_COURSE, FAST_QUIZ, GENERATED_IMPORT, HELPER_BURST, OPEN, QualityFlag
from lms.units.queries import communes_of
from tests.conftest import post_form, right_answers
from tests.quality.conftest import complete_course, course, flags_of


def test_reading_time_counts_words_of_the_shorter_language():
    lesson = course().lessons[0]
    words = operations.lesson_words(lesson)
    assert 0 < words <= operations.count_words(lesson.body_html_vi)
    assert operations.count_words("<p>một <b>hai</b> ba</p>") == 3
    assert operations.reading_seconds(thresholds.WORDS_PER_MINUTE) == 60


def test_course_finished_faster_than_reading_is_flagged(learner, completions):
    complete_course(learner, slow=False)
    assert completions, "the course must be completed"
    [flag] = flags_of(learner, FAST_COURSE)
    assert flag.status == OPEN and flag.subject == f"course:{course().id}"
    assert flag.reason["seconds"] < thresholds.FAST_COURSE_SHARE * flag.reason["expected_seconds"]
    assert flag.reason["lessons"] == len(course().lessons)
    assert (flag.commune_id, flag.province_id) == (learner.commune_id, learner.province_id)


def test_course_read_at_a_human_pace_is_not_flagged(learner, completions):
    complete_course(learner, slow=True)
    assert completions
    assert flags_of(learner) == []


def test_quiz_answered_faster_than_it_can_be_read_is_flagged(learner):
    attempt = complete_course(learner, slow=False)
    [flag] = flags_of(learner, FAST_QUIZ)
    assert flag.subject == f"attempt:{attempt.id}"
    assert flag.reason["seconds"] < thresholds.FAST_QUIZ_SHARE * flag.reason["expected_seconds"]


def test_failed_quiz_is_not_flagged(learner):
    from lms.learning.operations import record_lesson_progress, submit_quiz

    chosen = course()
    for lesson in chosen.lessons:
        record_lesson_progress(learner, lesson, 100)
    wrong = {key: [1 if value == [0] else 0] for key, value in right_answers(chosen).items()}
    attempt = submit_quiz(learner, chosen, wrong)
    assert not attempt.is_passed
    assert flags_of(learner, FAST_QUIZ) == []


def test_one_helper_completing_many_courses_flags_each_learner(make):
    helper = make.staff("team_member")
    learners = [make.learner().learner for _ in range(thresholds.HELPER_COMPLETIONS)]
    for learner in learners[:-1]:
        complete_course(learner, slow=True, helper=helper)
    assert db.session.scalar(select(func.count()).select_from(QualityFlag).where(
        QualityFlag.kind == HELPER_BURST)) == 0  # one fewer than the threshold: nothing
    complete_course(learners[-1], slow=True, helper=helper)
    for learner in learners:
        [flag] = flags_of(learner, HELPER_BURST)
        assert flag.subject == f"helper:{helper.id}"
        assert flag.reason == {"helper_id": helper.id, "completions": thresholds.HELPER_COMPLETIONS,
                               "minutes": thresholds.HELPER_WINDOW_MINUTES}
    late = make.learner().learner
    complete_course(late, slow=True, helper=helper)  # above the threshold: this learner too
    assert flags_of(late, HELPER_BURST)[0].reason["completions"] == thresholds.HELPER_COMPLETIONS + 1
    alone = make.learner().learner
    complete_course(alone, slow=True)  # without the helper: not theirs
    assert flags_of(alone) == []


def test_same_name_birth_year_and_commune_flags_both_at_commit(make):
    first = make.learner(full_name="Nguyễn Văn An", birth_year=1960).learner
    db.session.commit()
    assert flags_of(first) == []
    second = make.learner(full_name="NGUYEN VAN AN", birth_year=1960).learner
    other_year = make.learner(full_name="Nguyễn Văn An", birth_year=1961).learner
    elsewhere = make.learner(full_name="Nguyễn Văn An", birth_year=1960,
                             commune=next(c for c in communes_of(first.province_id) if c.id != first.commune_id))
    db.session.commit()
    [flag] = flags_of(first, DUPLICATE)
    assert flag.reason == {"other_id": second.id, "match": "name_year_commune"}
    assert flags_of(second, DUPLICATE)[0].reason["other_id"] == first.id
    assert flags_of(other_year) == [] and flags_of(elsewhere.learner) == []


def test_same_id_number_cannot_be_stored_twice(make):
    """The ID-hash case of 'registered twice' is refused by the database itself (the hash is
    unique); the scan still looks for it should that ever change."""
    from sqlalchemy.exc import IntegrityError

    first = make.learner().learner
    second = make.learner().learner
    first.national_id_hash = second.national_id_hash = "ab" * 32
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.flush()


def _csv(rows):
    header = "Họ và tên,Năm sinh,Giới tính,Số điện thoại,Số định danh cá nhân,Thôn/Tổ dân phố\n"
    return (header + "".join(f"{name},{year},{sex},{phone},,\n" for name, year, sex, phone in rows)).encode()


GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hoa", "Hùng", "Khánh", "Lan", "Linh", "Long",
         "Mai", "Minh", "Nam", "Ngọc", "Phong", "Phúc", "Quang", "Sơn", "Tâm", "Thảo", "Trang"]


def _import(client, rows):
    response = post_form(client, "/team/import", {"file": (io.BytesIO(_csv(rows)), "list.csv")},
                         content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    url = response.headers["Location"]
    assert post_form(client, url + "/confirm", {"consent": "y"}, page=url).status_code == 302
    return db.session.scalars(select(Learner).where(Learner.name_folded.like("tran %")).order_by(Learner.id)).all()


def test_import_with_sequential_phones_is_flagged(client, make, login):
    login(make.staff("team_member"))
    rows = [(f"Trần Văn {name}", 1950 + i, "Nam", f"09120000{i:02d}") for i, name in enumerate(GIVEN)]
    learners = _import(client, rows)
    assert len(learners) == len(GIVEN)
    flag = flags_of(learners[0], GENERATED_IMPORT)[0]
    assert flag.reason["sequential_phones"] == len(GIVEN) and flag.reason["rows"] == len(GIVEN)
    assert all(flags_of(x, GENERATED_IMPORT) for x in learners)
    # Placed where the learners are (the importer's rows, not read back).
    assert all((f.province_id, f.commune_id, f.village_id) == (x.province_id, x.commune_id, x.village_id)
               for x in learners for f in flags_of(x, GENERATED_IMPORT))


def test_import_with_one_birth_year_is_flagged(client, make, login):
    login(make.staff("team_member"))
    phones = [f"09{(7919 * i * i + 3) % 10**8:08d}" for i in range(1, len(GIVEN) + 1)]
    learners = _import(client, [(f"Trần Thị {name}", 1970, "Nữ", phone) for name, phone in zip(GIVEN, phones, strict=True)])
    flag = flags_of(learners[0], GENERATED_IMPORT)[0]
    assert flag.reason["same_year_rows"] == len(GIVEN) and flag.reason["year"] == 1970
    assert flag.reason["sequential_phones"] == 0


def test_import_of_real_looking_rows_is_not_flagged(client, make, login):
    login(make.staff("team_member"))
    phones = [f"09{(7919 * i * i + 3) % 10**8:08d}" for i in range(1, len(GIVEN) + 1)]
    rows = [(f"Trần Văn {name}", 1940 + (i * 7) % 50, "Nam", phone)
            for i, (name, phone) in enumerate(zip(GIVEN, phones, strict=True))]
    learners = _import(client, rows)
    assert len(learners) == len(GIVEN) and not any(flags_of(x) for x in learners)


def test_the_scan_flags_an_import_confirmed_with_the_checks_off(client, make, login, app):
    """`flask quality scan` reads a stored import's rows back (the check on write does not)."""
    login(make.staff("team_member"))
    operations.set_flagging(app, False)
    try:
        learners = _import(client, [(f"Trần Văn {name}", 1950 + i, "Nam", f"09130000{i:02d}")
                                    for i, name in enumerate(GIVEN)])
    finally:
        operations.set_flagging(app, True)
    assert len(learners) == len(GIVEN) and not any(flags_of(x) for x in learners)
    result = app.test_cli_runner().invoke(args=["quality", "scan"])
    output = result.output + repr(result.exception)
    assert f"{GENERATED_IMPORT} " in output and f": {len(GIVEN)} new" in output, output
    flags = [f for x in learners for f in flags_of(x, GENERATED_IMPORT)]
    assert len(flags) == len(GIVEN) and {f.commune_id for f in flags} == {learners[0].commune_id}


def test_findings_are_stored_once_and_reviews_survive_a_scan(learner, app):
    complete_course(learner, slow=False)
    flags = flags_of(learner)
    assert {f.kind for f in flags} == {FAST_COURSE, FAST_QUIZ}
    flags[0].status = "genuine"
    db.session.flush()
    assert operations.scan() == dict.fromkeys(operations.KINDS, 0)
    assert [f.status for f in flags_of(learner)] == ["genuine", OPEN]


def test_scan_finds_what_the_checks_on_write_would_have(learner, make, app):
    operations.set_flagging(app, False)
    try:
        complete_course(learner, slow=False)
        twin = make.learner(full_name=learner.full_name, birth_year=1980).learner
        learner.birth_year = 1980
        db.session.commit()
    finally:
        operations.set_flagging(app, True)
    assert flags_of(learner) == []
    found = operations.scan()
    assert found[FAST_COURSE] == 1 and found[FAST_QUIZ] == 1 and found[DUPLICATE] == 2
    assert {f.kind for f in flags_of(twin)} == {DUPLICATE}


def test_erasure_deletes_the_flags_and_deleted_learners_are_never_flagged(make, app):
    first = make.learner(full_name="Lê Thị Hồng", birth_year=1955).learner
    second = make.learner(full_name="Lê Thị Hồng", birth_year=1955).learner
    complete_course(first, slow=False)
    db.session.commit()
    assert flags_of(first) and flags_of(second)
    erase_learner(first, actor=None)
    db.session.flush()
    assert flags_of(first) == [] and flags_of(second) == []  # the pair's other half named them
    assert operations.scan() == dict.fromkeys(operations.KINDS, 0)
    assert flags_of(first) == []


def test_a_transfer_moves_the_flags_with_the_learner(learner, make):
    complete_course(learner, slow=False)
    target = next(c for c in communes_of(learner.province_id) if c.id != learner.commune_id)
    move_learner(learner, actor=make.staff("commune_official"), commune=target, village=None)
    assert {f.commune_id for f in flags_of(learner)} == {target.id}
