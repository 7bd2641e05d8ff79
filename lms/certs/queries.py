"""Reading certificates: by code, by serial, a learner's own, and those in a staff scope.

Every list of certificates for staff goes through `scoped_certificates`, which joins
the learner and applies `scope_units(user).learner_filter()`, like every other query
over learner data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

import certificates
from certificates import CertificateData, format_code
from lms.access import scope_units
from lms.certs.models import Certificate
from lms.errors import DomainError
from lms.extensions import db
from lms.learners.models import Learner
from lms.pagination import Page, paginate
from lms.units.models import Unit

# What a staff list shows; printing and marking never include revoked certificates.
UNPRINTED, NOT_HANDED_OVER, ALL, REVOKED = "unprinted", "not-handed-over", "all", "revoked"
STATUSES = (UNPRINTED, NOT_HANDED_OVER, ALL, REVOKED)
PRINT_BATCH_SIZE = 500  # pages per bulk PDF: a few seconds to render, ~1 MB


def certificate_by_code(code: str) -> Certificate | None:
    """The certificate with this canonical verification code (see certificates.normalize_code)."""
    return db.session.scalar(select(Certificate).where(Certificate.verification_code == code))


class CodeMistypedError(DomainError):
    status = 400


def mistyped_message():
    return _l("This code is incomplete or has a typing mistake. Check every character against the "
              "certificate: the code has 11 letters and digits, like K7XM-3FHP-94T.")


def lookup_by_code(code: str) -> tuple[str, Certificate | None]:
    """What the public verification (page and API) finds for a typed code: (canonical code,
    certificate or None). Raises CodeMistypedError before any lookup; an erased learner's
    certificate is not found."""
    canonical = certificates.normalize_code(code)
    if not certificates.is_well_formed(canonical):
        raise CodeMistypedError("code-mistyped", mistyped_message())
    certificate = certificate_by_code(canonical)
    if certificate is not None and certificate.learner.is_deleted:
        certificate = None  # the learner's data was erased on request
    return canonical, certificate


def certificate_by_serial(serial: str) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.serial == serial))


def certificate_for_enrollment(enrollment_id: int) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.enrollment_id == enrollment_id))


def certificates_of(learner) -> list[Certificate]:
    """A learner's own certificates, newest first."""
    if learner is None:
        return []
    return list(db.session.scalars(select(Certificate).where(Certificate.learner_id == learner.id)
                                   .order_by(Certificate.issued_dt.desc(), Certificate.id.desc())))


def verify_url(certificate: Certificate) -> str:
    """The public address printed (and QR-encoded) on the certificate."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/verify/{certificate.verification_code}"


def certificate_data(certificate: Certificate, locale: str) -> CertificateData:
    """What the renderer prints, from the snapshot only (so the bytes never change)."""
    return CertificateData(
        full_name=certificate.full_name,
        course_title=certificate.course_title(locale),
        completed_on=certificate.completed_on,
        commune_name=certificate.commune_name,
        province_name=certificate.province_name,
        serial=certificate.serial,
        verification_code=format_code(certificate.verification_code),
        verify_url=verify_url(certificate),
        locale=locale,
    )


@dataclass(frozen=True)
class CertificateFilter:
    """Which certificates a staff list, a bulk PDF or a bulk mark covers.

    `upto_id` pins the set to what the page showed: certificates issued after the page
    was rendered are neither printed in a later part nor marked printed unseen.
    """

    village_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    status: str = UNPRINTED
    upto_id: int | None = None

    @property
    def is_printable(self) -> bool:
        return self.status != REVOKED


def _apply_filter(query: Select, user, filters: CertificateFilter) -> Select:
    query = query.join(Learner, Learner.id == Certificate.learner_id).where(
        scope_units(user).learner_filter(), Learner.is_deleted.is_(False))
    if filters.village_id is not None:
        query = query.where(Learner.village_id == filters.village_id)
    if filters.date_from is not None:
        query = query.where(Certificate.completed_on >= filters.date_from)
    if filters.date_to is not None:
        query = query.where(Certificate.completed_on <= filters.date_to)
    if filters.upto_id is not None:
        query = query.where(Certificate.id <= filters.upto_id)
    if filters.status == REVOKED:
        return query.where(Certificate.is_revoked.is_(True))
    query = query.where(Certificate.is_revoked.is_(False))
    if filters.status == UNPRINTED:
        query = query.where(Certificate.printed_dt.is_(None))
    elif filters.status == NOT_HANDED_OVER:
        query = query.where(Certificate.handed_over_dt.is_(None))
    return query


def scoped_certificates(user, filters: CertificateFilter) -> Select:
    """Certificates in `user`'s scope matching `filters`, in handing-out order.

    Ordered by commune, village and the learner's name in Vietnamese order, so a
    printed stack can be handed out village by village.
    """
    query = _apply_filter(select(Certificate), user, filters)
    return (query.outerjoin(Unit, Unit.id == Learner.village_id)
            .order_by(Learner.commune_id, Unit.name_sort_key.nulls_last(), Learner.name_sort_key, Certificate.id))


def scoped_certificate_ids(user, filters: CertificateFilter) -> Select:
    """The ids of `scoped_certificates`, for bulk updates."""
    return _apply_filter(select(Certificate.id), user, filters)


def count_certificates(user, filters: CertificateFilter) -> int:
    return db.session.scalar(select(func.count()).select_from(scoped_certificate_ids(user, filters).subquery()))


def last_certificate_id() -> int:
    return db.session.scalar(select(func.max(Certificate.id))) or 0


def certificates_page(user, filters: CertificateFilter, page: int, per_page: int, *,
                      total: int | None = None) -> Page:
    """One page of `scoped_certificates` (page numbers start at 1, clamped to the last page)."""
    query = scoped_certificates(user, filters).options(selectinload(Certificate.learner).selectinload(Learner.village))
    return paginate(query, page=page, per_page=per_page, total=total)


def part_count(total: int, size: int) -> int:
    """How many bulk PDFs of at most `size` pages `total` certificates need."""
    return -(-total // size)
