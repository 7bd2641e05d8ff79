"""Certificate pages: public verification, the learner's own, staff lists and bulk print.

Every page works without JavaScript. PDFs are rendered on request from the stored
snapshot (same data, same bytes); the views only send the bytes. Bulk printing is cut
into parts of at most `PRINT_BATCH_SIZE` pages, each rendered into a temporary file so
memory stays flat, with plain "part 1 of N" links.
"""

from __future__ import annotations

import dataclasses
import io
import tempfile

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required

import certificates
from lms.access import may
from lms.certs import operations, queries  # importing operations connects issue_certificate
from lms.certs.forms import CertificateFilterForm, ReasonForm, VerifyForm
from lms.certs.queries import PRINT_BATCH_SIZE, CertificateFilter
from lms.certs.verification import (
    CodeMistypedError,
    VerificationLimitError,
    lookup_public_certificate,
    mistyped_message,
)
from lms.dbsetup import writes_on_get
from lms.errors import DomainError
from lms.extensions import db
from lms.i18n import locale_code
from lms.learning.acting import acting_learner
from lms.numbers import parse_int
from lms.pagination import page_number

bp = Blueprint("certs", __name__, template_folder="templates")

PER_PAGE = 100
MISTYPED, LIMITED = "mistyped", "limited"


class CertificateRevokedError(DomainError):
    status = 410


_mistyped_message = mistyped_message  # the name tests and older callers use


@bp.app_template_filter("verification_code")
def verification_code_filter(code: str) -> str:
    """Grouped for reading, e.g. K7XM-3FHP-94T."""
    return certificates.format_code(code)


# Public verification ------------------------------------------------------------------

@bp.get("/verify")
def verify_form():
    form = VerifyForm(request.args)
    if "code" not in request.args:
        return render_template("certs/verify.html", form=VerifyForm(formdata=None), result=None)
    if form.validate():
        canonical = certificates.normalize_code(form.code.data)
        if certificates.is_well_formed(canonical):
            return redirect(url_for("certs.verify_certificate", code=canonical))
        form.code.errors = [*form.code.errors, mistyped_message()]
    return render_template("certs/verify.html", form=form, result=None), 422


@bp.get("/verify/<code>")
@writes_on_get  # a miss is recorded (lms.certs.verification)
def verify_certificate(code: str):
    form = VerifyForm(formdata=None, data={"code": code})
    canonical = certificates.normalize_code(code)
    if canonical != code and certificates.is_well_formed(canonical):
        return redirect(url_for("certs.verify_certificate", code=canonical))  # typed with dashes or small letters
    try:
        canonical, certificate = lookup_public_certificate(code, request.remote_addr)
    except CodeMistypedError as error:
        form.code.errors = [*form.code.errors, error.message]
        return render_template("certs/verify.html", form=form, result=MISTYPED), 400
    except VerificationLimitError as error:
        return _limited_page(form, error)
    db.session.commit()
    if certificate is None:
        return render_template("certs/verify.html", form=form, result="unknown",
                               code=certificates.format_code(canonical)), 404
    can_manage = may(current_user, "read_learners", certificate.learner)
    return render_template("certs/verify.html", form=VerifyForm(formdata=None), result=certificate.status,
                           certificate=certificate, can_manage=can_manage)


def _limited_page(form, error: VerificationLimitError):
    response = current_app.make_response((render_template(
        "certs/verify.html", form=form, result=LIMITED, message=error.message), 429))
    response.headers["Retry-After"] = str(error.retry_after)
    return response


# The learner's own certificates, and single downloads ---------------------------------

@bp.get("/certificates")
@login_required
def my_certificates():
    learner, _helper = acting_learner()
    if learner is None:
        if may(current_user, "read_learners"):
            return redirect(url_for("certs.issued"))
        abort(404)
    return render_template("certs/my_certificates.html", learner=learner,
                           certificates=queries.certificates_of(learner))


def _language() -> str:
    lang = request.args.get("lang")
    return lang if lang in current_app.config["LANGUAGES"] else locale_code()


def _pdf_response(data, download_name: str):
    response = send_file(data, mimetype="application/pdf", as_attachment=True, download_name=download_name)
    response.headers["Cache-Control"] = "no-store"  # personal data on a possibly shared phone
    return response


@bp.get("/certificates/<serial>.pdf")
@writes_on_get
@login_required
def download_certificate(serial: str):
    certificate = queries.certificate_for(current_user, serial, own=True)
    own = queries.is_own(current_user, certificate)
    if certificate.is_revoked:
        raise CertificateRevokedError("certificate-revoked", _l(
            "This certificate has been revoked and can no longer be downloaded."))
    lang = _language()
    pdf = certificates.render_certificate(queries.certificate_data(certificate, lang))
    if not own:
        operations.record_download(certificate, actor=current_user, locale=lang)
        db.session.commit()
    return _pdf_response(io.BytesIO(pdf), f"certificate-{certificate.serial}-{lang}.pdf")


# Staff: list, bulk print, bulk marks ----------------------------------------------------

def _read_filters(source, action: str) -> tuple[CertificateFilterForm, CertificateFilter | None]:
    """The filter form bound to `source` (query string or form), and its filters if valid,
    for a user who may do `action` (`NotAllowedError` otherwise)."""
    form = CertificateFilterForm(source)
    form.set_villages(queries.villages_for(current_user, action))
    if not form.validate():
        return form, None
    return form, CertificateFilter(village_id=form.village.data, date_from=form.date_from.data,
                                   date_to=form.date_to.data, status=form.status.data,
                                   upto_id=parse_int(source.get("upto"), minimum=0))


def _filter_args(filters: CertificateFilter) -> dict:
    """Query-string arguments that reproduce `filters` (for links and hidden fields)."""
    args = {"village": filters.village_id, "status": filters.status, "upto": filters.upto_id,
            "date_from": filters.date_from.isoformat() if filters.date_from else None,
            "date_to": filters.date_to.isoformat() if filters.date_to else None}
    return {key: value for key, value in args.items() if value is not None}


@bp.get("/certificates/issued")
@login_required
def issued():
    form, filters = _read_filters(request.args, "read_learners")
    if filters is None:
        return render_template("certs/issued.html", form=form, total=None), 422
    if filters.upto_id is None:  # pin the set the page shows (see CertificateFilter)
        filters = dataclasses.replace(filters, upto_id=queries.last_certificate_id())
    total = queries.count_certificates(current_user, filters)
    page = queries.certificates_page(current_user, filters, page_number(request.args), PER_PAGE, total=total)
    return render_template(
        "certs/issued.html", form=form, filters=filters, args=_filter_args(filters), total=total,
        page=page, rows=page.items,
        unprintable={row.id for row in page.items if certificates.unsupported_characters(row.full_name)},
        parts=queries.part_count(total, PRINT_BATCH_SIZE), batch_size=PRINT_BATCH_SIZE,
        can_print=may(current_user, "print_certificates") and filters.is_printable)


@bp.get("/certificates/print.pdf")
@writes_on_get
@login_required
def print_certificates():
    _form, filters = _read_filters(request.args, "print_certificates")
    if filters is None or not filters.is_printable or filters.upto_id is None:
        abort(400)
    part = page_number(request.args, "part")
    total = queries.count_certificates(current_user, filters)
    parts = queries.part_count(total, PRINT_BATCH_SIZE)
    if part > parts:
        abort(404)
    rows = queries.certificates_page(current_user, filters, part, PRINT_BATCH_SIZE, total=total).items
    lang = _language()
    # One learner's name the fonts cannot draw must not block a commune's printing: such
    # certificates are left out, listed on the PDF's last page, and not audited as printed.
    printed, not_printed = [], []
    for row in rows:
        data = queries.certificate_data(row, lang)
        (not_printed if certificates.unprintable_fields(data) else printed).append((row, data))
    operations.record_bulk_print(current_user, filters, part, [row.id for row, _data in printed],
                                 not_printed_ids=[row.id for row, _data in not_printed])
    db.session.commit()
    # Pages go to a temporary file as they are drawn (render_many streams), so memory
    # stays flat; the response then streams the file in chunks and deletes it.
    out = tempfile.TemporaryFile()
    try:
        certificates.render_many((data for _row, data in printed), out,
                                 not_printed=[data for _row, data in not_printed])
        size = out.tell()
        out.seek(0)
    except BaseException:
        out.close()
        raise
    response = Response(_chunks(out), mimetype="application/pdf", headers={
        "Content-Length": str(size), "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="certificates-{part}-of-{parts}.pdf"'})
    return response


def _chunks(file, size: int = 64 * 1024):
    """Stream `file` and close it, also when the client goes away half-way."""
    with file:
        while data := file.read(size):
            yield data


def _bulk_mark(mark, message):
    _form, filters = _read_filters(request.form, "print_certificates")
    if filters is None or filters.upto_id is None:
        abort(400)
    count = mark(current_user, filters)
    db.session.commit()
    flash(message(count), "success")
    args = _filter_args(filters)
    args.pop("upto", None)
    return redirect(url_for("certs.issued", **args))


@bp.post("/certificates/mark-printed")
@login_required
def mark_printed():
    return _bulk_mark(operations.mark_printed, lambda count: ngettext(
        "{count} certificate marked as printed.", "{count} certificates marked as printed.", count
    ).format(count=count))


@bp.post("/certificates/mark-handed-over")
@login_required
def mark_handed_over():
    return _bulk_mark(operations.mark_handed_over, lambda count: ngettext(
        "{count} certificate marked as handed over.", "{count} certificates marked as handed over.", count
    ).format(count=count))


# Staff: one certificate, revoke and reinstate -------------------------------------------

def _certificate_in_scope(serial: str, action: str = "read_learners"):
    return queries.certificate_for(current_user, serial, action)


def _manage_page(certificate, form=None, status: int = 200):
    can_revoke = may(current_user, "revoke_certificates", certificate.learner)
    return render_template("certs/manage.html", certificate=certificate, form=form or ReasonForm(formdata=None),
                           can_revoke=can_revoke), status


@bp.get("/certificates/manage/<serial>")
@login_required
def manage(serial: str):
    certificate = _certificate_in_scope(serial)
    return _manage_page(certificate)


def _change_status(serial: str, change, message: str):
    certificate = _certificate_in_scope(serial, "revoke_certificates")
    form = ReasonForm()
    if form.validate():
        try:
            change(certificate, form.reason.data, actor=current_user)
        except DomainError as error:
            db.session.rollback()
            form.reason.errors = [*form.reason.errors, error.message]
        else:
            db.session.commit()
            flash(message.format(serial=certificate.serial), "success")
            return redirect(url_for("certs.manage", serial=certificate.serial))
    return _manage_page(certificate, form, 422)


@bp.post("/certificates/manage/<serial>/revoke")
@login_required
def revoke(serial: str):
    return _change_status(serial, operations.revoke_certificate, _("Certificate {serial} is revoked."))


@bp.post("/certificates/manage/<serial>/reinstate")
@login_required
def reinstate(serial: str):
    return _change_status(serial, operations.reinstate_certificate, _("Certificate {serial} is valid again."))
