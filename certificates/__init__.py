"""Printable course-completion certificates and their verification codes.

Plain Python (reportlab, segno, babel): data in, PDF bytes out. The Flask app
looks up the learner, course and commune, builds a :class:`CertificateData`
and calls :func:`render_certificate` (one PDF) or :func:`render_many` (one
multi-page PDF for community teams to print in bulk)::

    from certificates import CertificateData, format_code, make_verification_code, render_certificate

    code = make_verification_code(app.config["CERTIFICATE_KEY"], "2026-000123")  # store it
    pdf = render_certificate(CertificateData(
        full_name="Nguyễn Thị Hồng Nhung", course_title="Kỹ năng số cơ bản",
        completed_on=date(2026, 11, 22), commune_name="Xã Ea Tu", province_name="Tỉnh Đắk Lắk",
        serial="2026-000123", verification_code=format_code(code),
        verify_url=f"https://example.vn/verify/{code}", locale="vi"))

    with open("print-run.pdf", "wb") as out:           # constant memory, any count
        pages = render_many(rows_as_certificate_data, out, progress=print)

A character the fonts cannot draw is printed as U+FFFD (``printable_text``), so a
certificate always renders; for bulk printing, leave out what ``unprintable_fields``
reports and pass it as ``render_many(..., not_printed=[...])``, listed on a last page.

On the verification page: ``is_well_formed(typed)`` catches typos before any
lookup; then look up ``normalize_code(typed)``.
"""

from certificates.codes import (
    ALPHABET,
    format_code,
    is_well_formed,
    make_verification_code,
    normalize_code,
    verify_code,
)
from certificates.render import (
    LABELS,
    REPLACEMENT,
    CertificateData,
    plan_page,
    printable_text,
    render_certificate,
    render_many,
    unprintable_fields,
    unsupported_characters,
)

__all__ = [
    "ALPHABET",
    "LABELS",
    "REPLACEMENT",
    "CertificateData",
    "format_code",
    "is_well_formed",
    "make_verification_code",
    "normalize_code",
    "plan_page",
    "printable_text",
    "render_certificate",
    "render_many",
    "unprintable_fields",
    "unsupported_characters",
    "verify_code",
]
