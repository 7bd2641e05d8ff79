"""A learner with something in every table the inventory declares, made through the real
operations: sign-up from an address, a village, an ID number, a completed course with its
certificate, an app's progress events and token, a failed login, and staff who viewed,
printed cards and printed certificates (bulk events that list other learners too)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from lms.extensions import db
from tests.certs.conftest import build_course, finish_lessons
from tests.conftest import right_answers

LEARNER_IP = "203.0.113.77"
STAFF_IP = "198.51.100.5"
NAME = "Hoàng Thị Xuyến"
PHONE = "0912345678"
NATIONAL_ID = "001160012345"  # Hà Nội, female born 1960


@dataclass
class Held:
    user: object
    learner: object
    other: object
    member: object
    course: object
    certificate: object
    login: str = PHONE

    @property
    def ids(self) -> dict:
        return {"learner": self.learner.id, "user": self.user.id, "certificate": self.certificate.id}


@pytest.fixture
def held(app, make) -> Held:
    from lms.accounts.operations import authenticate
    from lms.api.auth import issue_token
    from lms.certs.operations import record_bulk_print
    from lms.certs.queries import CertificateFilter, certificates_of
    from lms.errors import DomainError
    from lms.learners.operations import set_national_id
    from lms.learning.operations import submit_quiz
    from lms.learning.progress_log import apply_progress_events
    from lms.team.operations import issue_login_cards
    from tests.certs.conftest import complete_course

    commune = make.commune()
    village = make.village(commune)
    course = build_course(db.session)
    member = make.staff("team_member", commune)
    with app.test_request_context(environ_base={"REMOTE_ADDR": LEARNER_IP}):
        user = make.learner(commune=commune, village=village, full_name=NAME, login=PHONE, birth_year=1960,
                            sex="female", address=LEARNER_IP)
        learner = user.learner
        set_national_id(learner, NATIONAL_ID)
        finish_lessons(learner, course)
        submit_quiz(learner, course, {key: [0] for key in right_answers(course)})  # a failed attempt
        submit_quiz(learner, course, right_answers(course))
        apply_progress_events(learner, [{"id": "ev-1", "lesson_id": course.lessons[0].id, "kind": "view"}])
        issue_token(user, "Điện thoại của Xuyến")
        try:
            authenticate(PHONE, "not the password", LEARNER_IP)
        except DomainError:
            pass
    other = make.learner(commune=commune, full_name="Đỗ Văn Khác")
    complete_course(other.learner, course)
    (certificate,) = certificates_of(learner)
    (other_certificate,) = certificates_of(other.learner)
    with app.test_request_context(environ_base={"REMOTE_ADDR": STAFF_IP}):
        from lms.audit.operations import record

        record("learner.view", actor=member, learner=learner)
        issue_login_cards([learner, other.learner], by=member, reissue=True)
        record_bulk_print(member, CertificateFilter(), 1, [certificate.id, other_certificate.id])
        # Someone else registering with her phone: the member asks the official to resolve it.
        from lms.duplicates.operations import file_request, match_token

        file_request(member, commune=commune, token=match_token(member, kind="phone", learner_id=learner.id),
                     full_name="Nguyễn Thị Xuyên", note="Cùng số điện thoại")
    db.session.flush()
    return Held(user, learner, other, member, course, certificate)
