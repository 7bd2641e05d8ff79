"""Erasure: what a deletion request does, table by table (see inventory.py).

Deleted: the account, its API tokens and failed logins, lesson progress, progress events
and quiz attempts. Anonymised: the learner row keeps province, commune and registration
date; enrolments keep the course, the counted dates and whether a helper took part;
certificates are revoked and lose the printed name (a paper copy then verifies as no
longer valid); consents are withdrawn and lose the IP address; audit events lose the
learner's id, their own account and IP address and their ids in lists, and keep what staff
did. Sex, birth year and village are erased, so the counters first move the learner's
figures to "unknown" and "no village": they equal a recount before and after.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from lms.accounts import throttle
from lms.accounts.models import User
from lms.audit.operations import record
from lms.certs import events as cert_events
from lms.certs.models import Certificate
from lms.db import utcnow
from lms.extensions import db
from lms.learners import events
from lms.learners.models import Consent, Learner
from lms.learning.models import ApiToken, Enrollment, LessonProgress, ProgressEvent, QuizAttempt
from lms.privacy import queries
from lms.privacy.inventory import DETAIL_KEYS
from lms.team.models import LearnerImport

ERASED_REASON = "Thu hồi vì người được cấp đã yêu cầu xóa dữ liệu cá nhân"


def erase_learner(learner: Learner, *, actor) -> None:
    """Erase a learner's personal data on request; anonymous counts survive (module docstring)."""
    if learner.is_deleted:
        return
    events.learner_deleted.send(learner)  # before anything is erased
    person = queries.person_of(learner)
    by_self = actor is not None and getattr(actor, "id", None) == person.user_id
    _scrub_audit(person)
    _uncount_demographics(learner)
    _revoke_certificates(learner)
    _anonymise_learning(learner)
    for consent in db.session.scalars(select(Consent).where(Consent.learner_id == learner.id)):
        consent.withdrawn_dt = consent.withdrawn_dt or utcnow()
        consent.ip_address = None
    _scrub_imports(learner)
    learner.full_name = learner.name_folded = learner.name_sort_key = ""
    learner.national_id_hash = learner.national_id_last4 = None
    learner.is_deleted = True
    learner.deleted_dt = utcnow()
    _delete_account(learner, person)
    event = record("learner.erase", actor=None if by_self else actor, learner=learner, by_self=by_self)
    if by_self:
        event.ip_address = None  # the learner's own address goes with the rest
    db.session.flush()


def _uncount_demographics(learner: Learner) -> None:
    """Erase sex, birth year and village; the counters move the learner's figures with them."""
    db.session.flush()
    learner.sex = None
    learner.birth_year = None
    db.session.flush()  # statistics re-key the learner's figures to unknown sex and age
    old_village_id = learner.village_id
    if old_village_id is not None:
        learner.village_id = None
        db.session.flush()
        events.learner_moved.send(learner, old_commune_id=learner.commune_id, old_village_id=old_village_id)


def _revoke_certificates(learner: Learner) -> None:
    """Nameless and revoked: nobody is left to vouch for the name printed on the paper."""
    for certificate in db.session.scalars(select(Certificate).where(Certificate.learner_id == learner.id)):
        certificate.full_name = ""
        if not certificate.is_revoked:
            certificate.is_revoked = True
            certificate.revoked_dt = utcnow()
            certificate.revocation_reason = ERASED_REASON
            certificate.revoked_by_id = None
            cert_events.certificate_revoked.send(certificate)
    db.session.flush()


def _anonymise_learning(learner: Learner) -> None:
    for enrollment in db.session.scalars(select(Enrollment).where(Enrollment.learner_id == learner.id)):
        enrollment.last_activity_dt = None
        enrollment.last_lesson_id = None
        enrollment.enrolled_by_id = None
    for model in (LessonProgress, ProgressEvent, QuizAttempt):
        db.session.execute(delete(model).where(model.learner_id == learner.id),
                           execution_options={"synchronize_session": False})


def _scrubbed(details, person: queries.Person):
    if not isinstance(details, dict):
        return details
    clean = dict(details)
    for key, kind in DETAIL_KEYS.items():
        value = clean.get(key)
        if isinstance(value, list):
            clean[key] = [v for v in value if v not in person.ids(kind)]
        elif value is not None and value in person.ids(kind):
            clean[key] = None
    return clean


def _scrub_audit(person: queries.Person) -> None:
    """Keep what staff did; remove whose record it was, the learner's own account and address."""
    for event in queries.audit_events_about(person):
        if event.actor_id is None or event.actor_id == person.user_id:
            event.ip_address = None  # the learner acted (or signed up) from this address
        if event.actor_id == person.user_id:
            event.actor_id = None
        event.learner_id = None
        event.details = _scrubbed(event.details, person)
    db.session.flush()


def _scrub_imports(learner: Learner) -> None:
    for staged in db.session.scalars(select(LearnerImport).where(LearnerImport.commune_id == learner.commune_id)):
        ids = (staged.payload or {}).get("learner_ids") or []
        if learner.id in ids:
            staged.payload = {**staged.payload, "learner_ids": [i for i in ids if i != learner.id]}


def _delete_account(learner: Learner, person: queries.Person) -> None:
    """The login account goes entirely: tokens, failed logins, the row itself (ends every session)."""
    for login in person.logins:
        throttle.clear_account(login)
    throttle.clear_addresses(person.addresses)  # their address's failures: a few fewer counted for 15 minutes
    if person.user_id is None:
        return
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == person.user_id),
                       execution_options={"synchronize_session": False})
    user = db.session.get(User, person.user_id)
    learner.user = None
    db.session.flush()
    db.session.delete(user)
    db.session.flush()
