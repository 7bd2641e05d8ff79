"""Issuing: automatic on completion, a faithful snapshot, exactly once (also under races)."""

from __future__ import annotations

import re
import threading
import unicodedata
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from certificates import is_well_formed, make_verification_code
from lms.certs import operations, queries
from lms.certs.models import Certificate
from lms.extensions import db
from lms.learning import events
from lms.learning.models import Enrollment, QuizAttempt
from lms.learning.operations import submit_quiz, try_complete
from lms.learning.queries import enrollment_for
from tests.certs.conftest import complete_course, finish_lessons, right_answers

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def count_for(enrollment_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Certificate)
                             .where(Certificate.enrollment_id == enrollment_id))


def test_completing_a_course_issues_a_certificate(app, make, course):
    commune = make.commune()
    nfd_name = unicodedata.normalize("NFD", "Nguyễn Thị Hoà")
    user = make.learner(commune=commune, full_name=nfd_name)
    learner = user.learner

    enrollment = complete_course(learner, course)

    certificate = db.session.scalar(select(Certificate).where(Certificate.enrollment_id == enrollment.id))
    assert certificate is not None
    assert (certificate.learner_id, certificate.course_id) == (learner.id, course.id)
    assert certificate.full_name == unicodedata.normalize("NFC", "Nguyễn Thị Hoà")
    assert (certificate.course_title_vi, certificate.course_title_en) == (course.title_vi, course.title_en)
    assert certificate.commune_name == commune.name
    assert certificate.province_name == make.province().name
    assert certificate.completed_on == enrollment.completed_dt.astimezone(VN).date()
    year = certificate.issued_dt.astimezone(VN).year
    assert certificate.serial == f"{year}-{certificate.id:06d}"
    assert re.fullmatch(r"\d{4}-\d{6}", certificate.serial)
    key = app.config["CERTIFICATE_KEY"].encode()
    assert certificate.verification_code == make_verification_code(key, certificate.serial)
    assert is_well_formed(certificate.verification_code)
    assert certificate.is_revoked is False and certificate.printed_dt is None


def test_completion_date_is_the_day_in_vietnam(make, course):
    user = make.learner()
    enrollment = complete_course(user.learner, course)
    enrollment.completed_dt = datetime(2026, 11, 21, 18, 30, tzinfo=ZoneInfo("UTC"))  # 01:30 on the 22nd in Hà Nội
    db.session.delete(queries.certificate_for_enrollment(enrollment.id))
    db.session.flush()
    assert operations.issue_certificate(enrollment).completed_on == date(2026, 11, 22)


def test_no_certificate_before_completion(make, course):
    learner = make.learner().learner
    finish_lessons(learner, course)  # lessons done, quiz not taken
    enrollment = enrollment_for(learner, course)
    assert queries.certificates_of(learner) == []
    with pytest.raises(operations.CertificateError) as error:
        operations.issue_certificate(enrollment)
    assert error.value.code == "course-not-completed"
    assert count_for(enrollment.id) == 0


def test_repeated_completion_issues_once(make, course):
    learner = make.learner().learner
    enrollment = complete_course(learner, course)
    first = queries.certificate_for_enrollment(enrollment.id)

    finish_lessons(learner, course)  # the learner goes through it all again
    submit_quiz(learner, course, right_answers(course))
    assert try_complete(enrollment) is False
    assert operations.issue_certificate(enrollment).id == first.id
    events.course_completed.send(enrollment, helper=None)  # even a duplicate event
    db.session.flush()
    assert count_for(enrollment.id) == 1
    assert queries.certificates_of(learner) == [first]


def test_snapshot_does_not_follow_later_changes(make, course):
    user = make.learner(full_name="Lê Thị Mai")
    complete_course(user.learner, course)
    (certificate,) = queries.certificates_of(user.learner)
    user.learner.full_name = "Lê Thị Mai Anh"
    course.title_vi = "Tên khoá học mới"
    db.session.flush()
    db.session.expire_all()
    certificate = db.session.get(Certificate, certificate.id)
    assert certificate.full_name == "Lê Thị Mai"
    assert certificate.course_title_vi == "An toàn trên mạng cho người cao tuổi"


# Races: real commits on separate sessions ---------------------------------------------------

def _completed_without_certificate(committed, login: str) -> int:
    """A committed, completed enrolment whose certificate was not issued (receiver muted)."""
    user = committed.learner(login)
    course = committed.course()
    with events.course_completed.muted():
        enrollment = complete_course(user.learner, course)
    db.session.commit()
    enrollment_id = enrollment.id
    assert count_for(enrollment_id) == 0
    db.session.rollback()  # end the read: outside requests SQLite transactions take the write lock
    return enrollment_id


def _commit(work):
    result = work()
    db.session.commit()
    return result


def _in_threads(app, count: int, work) -> list:
    """Run `work` in `count` threads at once, each in its own app context, session and
    connection, committing; returns what each returned."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                results[index] = _commit(work)
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    return results


def test_a_lost_race_returns_the_winners_certificate(app, committed, monkeypatch):
    enrollment_id = _completed_without_certificate(committed, "race-loser")
    with app.app_context():  # the winner, committed first
        winner = operations.issue_certificate(db.session.get(Enrollment, enrollment_id))
        db.session.commit()
        winner_id = winner.id

    # The loser looked before the winner committed: its first lookup saw nothing.
    real_lookup = queries.certificate_for_enrollment
    lookups = []

    def stale_first_lookup(enrollment_id):
        lookups.append(enrollment_id)
        return None if len(lookups) == 1 else real_lookup(enrollment_id)

    monkeypatch.setattr(queries, "certificate_for_enrollment", stale_first_lookup)
    with app.app_context():
        enrollment = db.session.get(Enrollment, enrollment_id)
        certificate = operations.issue_certificate(enrollment)  # insert fails, savepoint rolls back
        assert certificate.id == winner_id
        enrollment.last_activity_dt = datetime.now(VN)  # the outer transaction is still usable
        db.session.commit()
    assert len(lookups) == 2
    with app.app_context():
        assert count_for(enrollment_id) == 1


def test_concurrent_issue_creates_one_certificate(app, committed):
    enrollment_id = _completed_without_certificate(committed, "race-issue")

    def issue():
        return operations.issue_certificate(db.session.get(Enrollment, enrollment_id)).id

    ids = _in_threads(app, 6, issue)
    assert len(set(ids)) == 1
    with app.app_context():
        assert count_for(enrollment_id) == 1
        assert db.session.get(Certificate, ids[0]).enrollment_id == enrollment_id


def test_concurrent_quiz_submissions_issue_one_certificate(app, committed):
    user = committed.learner("race-quiz")
    course = committed.course()
    learner_id, course_id = user.learner.id, course.id
    finish_lessons(user.learner, course)
    db.session.commit()

    def pass_quiz():
        from lms.learners.models import Learner
        from lms.learning.models import Course

        learner, course = db.session.get(Learner, learner_id), db.session.get(Course, course_id)
        return submit_quiz(learner, course, right_answers(course)).id

    _in_threads(app, 5, pass_quiz)
    with app.app_context():
        attempts = db.session.scalar(select(func.count()).select_from(QuizAttempt)
                                     .where(QuizAttempt.learner_id == learner_id))
        assert attempts == 5
        certificates = list(db.session.scalars(select(Certificate).where(Certificate.learner_id == learner_id)))
        assert len(certificates) == 1
        enrollment = db.session.get(Enrollment, certificates[0].enrollment_id)
        assert enrollment.course_id == course_id and enrollment.completed_dt is not None
