"""Write operations on certificates. They flush; the request or command commits once.

Exactly once: `issue_certificate` runs inside the transaction that completed the
enrolment (it is connected to `course_completed` below). It first looks for an existing
certificate; if there is none it inserts one inside a savepoint. Should a concurrent
transaction have issued one for the same enrolment in the meantime, the unique
constraint on `certificates.enrollment_id` rejects the insert, only the savepoint
rolls back, and the certificate that won is read and returned. The caller's
transaction is never poisoned, and there is never a second certificate.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, literal, select, update
from sqlalchemy.exc import IntegrityError

from certificates import make_verification_code, unsupported_characters
from lms.access import check
from lms.audit.operations import record
from lms.certs import events as cert_events
from lms.certs import queries
from lms.certs.models import Certificate
from lms.certs.queries import CertificateFilter
from lms.db import UTCDateTime, utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.learners import events as learner_events
from lms.learners.models import Learner
from lms.learning import events
from lms.learning.models import Course, Enrollment
from lms.units.models import Unit

REASON_MAX_LENGTH = 500


class CertificateError(DomainError):
    pass


def local_date(moment: datetime) -> date:
    """The calendar day of `moment` in Vietnam (what is printed), not in UTC."""
    return moment.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def make_serial(certificate_id: int, issued_dt: datetime) -> str:
    """Printed number: year of issue (Vietnam time) and the row id, e.g. 2026-000123."""
    return f"{local_date(issued_dt).year}-{certificate_id:06d}"


def verification_code(serial: str) -> str:
    return make_verification_code(current_app.config["CERTIFICATE_KEY"].encode("utf-8"), serial)


def issue_certificate(enrollment: Enrollment) -> Certificate:
    """The certificate of a completed enrolment, issued on the first call (exactly once).

    Copies every printed field from the learner, the course and the units, so the
    certificate reads the same forever. Safe to call again or concurrently.
    """
    existing = queries.certificate_for_enrollment(enrollment.id)
    if existing is not None:
        return existing
    if enrollment.completed_dt is None:
        raise CertificateError("course-not-completed", _l("This course has not been completed yet."))
    learner = db.session.get(Learner, enrollment.learner_id)
    course = db.session.get(Course, enrollment.course_id)
    now = utcnow()
    # serial and code need the row id; until the second flush they hold placeholders
    # that are unique by construction and never visible outside this savepoint.
    placeholder = f"~{enrollment.id}"
    certificate = Certificate(
        enrollment_id=enrollment.id, learner_id=learner.id, course_id=course.id,
        serial=placeholder, verification_code=placeholder,
        full_name=learner.full_name, course_title_vi=course.title_vi, course_title_en=course.title_en,
        completed_on=local_date(enrollment.completed_dt),
        commune_name=db.session.get(Unit, learner.commune_id).name,
        province_name=db.session.get(Unit, learner.province_id).name,
        issued_dt=now, is_revoked=False)
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
            db.session.flush()
            certificate.serial = make_serial(certificate.id, now)
            certificate.verification_code = verification_code(certificate.serial)
    except IntegrityError:  # issued by a concurrent transaction a moment ago
        winner = queries.certificate_for_enrollment(enrollment.id)
        if winner is None:  # another constraint failed: not a race, a real error
            raise
        return winner
    cert_events.certificate_issued.send(certificate)
    return certificate


@events.course_completed.connect
def _issue_on_completion(enrollment: Enrollment, **_extra) -> None:
    issue_certificate(enrollment)


def refresh_unprintable_names(learner: Learner) -> int:
    """Give the learner's corrected name to their certificates whose stored name the
    certificate fonts cannot draw; returns how many changed.

    A certificate is a snapshot, but such a name was never printable (it came in before
    the name rule), so no paper copy with it exists to contradict: correcting the
    learner's name is how the team makes those certificates printable.
    """
    changed = 0
    for certificate in db.session.scalars(select(Certificate).where(Certificate.learner_id == learner.id)):
        if unsupported_characters(certificate.full_name) and not unsupported_characters(learner.full_name):
            certificate.full_name = learner.full_name
            changed += 1
    if changed:
        record("certificate.rename", learner=learner, count=changed)
    return changed


@learner_events.learner_renamed.connect
def _refresh_on_rename(learner: Learner, **_extra) -> None:
    refresh_unprintable_names(learner)


def _clean_reason(reason: str | None) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise CertificateError("reason-required", _l("Please give a reason."), field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise CertificateError("reason-too-long", _l("Use at most {count} characters."), field="reason",
                               count=REASON_MAX_LENGTH)
    return reason


def _require_revoker(actor, certificate: Certificate) -> None:
    check(actor, "revoke_certificates", certificate.learner)


def revoke_certificate(certificate: Certificate, reason: str, *, actor) -> Certificate:
    """Revoke a certificate; the public verification page then says so with the date (the reason
    is for staff and the holder only)."""
    _require_revoker(actor, certificate)
    reason = _clean_reason(reason)
    if certificate.is_revoked:
        raise CertificateError("already-revoked", _l("This certificate is already revoked."))
    certificate.is_revoked = True
    certificate.revoked_dt = utcnow()
    certificate.revocation_reason = reason
    certificate.revoked_by_id = actor.id
    cert_events.certificate_revoked.send(certificate)
    record("certificate.revoke", actor=actor, learner=certificate.learner, certificate_id=certificate.id,
           serial=certificate.serial, reason=reason)
    db.session.flush()
    return certificate


def reinstate_certificate(certificate: Certificate, reason: str, *, actor) -> Certificate:
    """Make a revoked certificate valid again; the revocation stays in the audit log."""
    _require_revoker(actor, certificate)
    reason = _clean_reason(reason)
    if not certificate.is_revoked:
        raise CertificateError("not-revoked", _l("This certificate is not revoked."))
    certificate.is_revoked = False
    certificate.revoked_dt = None
    certificate.revocation_reason = None
    certificate.revoked_by_id = None
    cert_events.certificate_reinstated.send(certificate)
    record("certificate.reinstate", actor=actor, learner=certificate.learner, certificate_id=certificate.id,
           serial=certificate.serial, reason=reason)
    db.session.flush()
    return certificate


def record_download(certificate: Certificate, *, actor, locale: str) -> None:
    """Audit a staff member's download of one learner's certificate (it shows personal data)."""
    record("certificate.download", actor=actor, learner=certificate.learner, certificate_id=certificate.id,
           locale=locale)


def record_bulk_print(user, filters: CertificateFilter, part: int, certificate_ids: list[int],
                      not_printed_ids: list[int] | None = None) -> None:
    """Audit a bulk PDF: whose certificates went into it, and which were left out
    (a name the certificate fonts cannot draw, see certificates.unprintable_fields)."""
    check(user, "print_certificates")
    record("certificate.print", actor=user, unit_id=user.scope_unit_id, part=part,
           count=len(certificate_ids), certificate_ids=certificate_ids, not_printed_ids=not_printed_ids or [],
           **_filter_details(filters))


def _filter_details(filters: CertificateFilter) -> dict:
    return {"village_id": filters.village_id, "status": filters.status, "upto_id": filters.upto_id,
            "date_from": filters.date_from.isoformat() if filters.date_from else None,
            "date_to": filters.date_to.isoformat() if filters.date_to else None}


def _mark(user, filters: CertificateFilter, values: dict, only_where, action: str) -> int:
    check(user, "print_certificates")
    if not filters.is_printable:
        return 0
    ids = list(db.session.scalars(queries.scoped_certificate_ids(user, filters).where(only_where)))
    for start in range(0, len(ids), 500):  # stay below every engine's bound-parameter limit
        db.session.execute(update(Certificate).where(Certificate.id.in_(ids[start:start + 500]))
                           .values(**values).execution_options(synchronize_session=False))
    if ids:
        record(action, actor=user, unit_id=user.scope_unit_id, count=len(ids), certificate_ids=ids,
               **_filter_details(filters))
    db.session.expire_all()
    return len(ids)


def mark_printed(user, filters: CertificateFilter) -> int:
    """Mark every not yet printed certificate of the filtered set as printed now; returns how many."""
    now = literal(utcnow(), UTCDateTime())
    return _mark(user, filters, {"printed_dt": now, "printed_by_id": user.id},
                 Certificate.printed_dt.is_(None), "certificate.mark-printed")


def mark_handed_over(user, filters: CertificateFilter) -> int:
    """Mark the filtered set as handed to the learners; a copy handed over was printed, too."""
    now = literal(utcnow(), UTCDateTime())
    return _mark(user, filters, {
        "handed_over_dt": now, "handed_over_by_id": user.id,
        "printed_dt": func.coalesce(Certificate.printed_dt, now),
        "printed_by_id": func.coalesce(Certificate.printed_by_id, user.id),
    }, Certificate.handed_over_dt.is_(None), "certificate.mark-handed-over")
