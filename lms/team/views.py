"""Team workspace pages: learner list and export, registration, learner page, import.

Views parse the request, call an operation or a query, and render; each request
commits once. Learners are always read through `scope_units(user).learner_filter()`, and
the queries and operations check what the account may do (`lms.access.check`).
"""

from __future__ import annotations

import functools
import time
from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, format_number
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from lms import exports
from lms.access import VILLAGES, may, scope_units
from lms.audit.operations import record
from lms.core.streaming import StreamedWork, stream_page
from lms.duplicates import operations as duplicate_ops
from lms.errors import DomainError
from lms.extensions import db
from lms.forms import show_error
from lms.i18n import locale_code
from lms.learners import operations as learner_ops
from lms.learners.consent import LEARNING, current_text
from lms.learning.queries import course_progress
from lms.numbers import parse_ints
from lms.pagination import count, first_rows, page_number, paginate
from lms.quality.queries import flags_of
from lms.quality.reasons import kind_label
from lms.team import importer, operations, queries
from lms.team.forms import (
    CardsForm,
    ConfirmForm,
    ConfirmImportForm,
    EditForm,
    MoveForm,
    RegisterForm,
    SearchForm,
    UploadForm,
)
from lms.team.models import LearnerImport
from lms.units import queries as units
from lms.units.models import COMMUNE, Unit
from lms.validation import display_phone

bp = Blueprint("team", __name__, template_folder="templates", static_folder="static",
               static_url_path="/team/static")

PER_PAGE = 50
EXPORT_LIMIT = 50_000



def _team_commune():
    """The commune a team member or commune official registers learners in."""
    return queries.team_commune(current_user)


def _my_villages(commune):
    """Villages the current user works on, and whether one must be chosen."""
    scope = scope_units(current_user)
    villages = units.villages_of(commune.id)
    if scope.level == VILLAGES:
        return [v for v in villages if v.id in scope.village_ids], True
    return villages, False


def _learner_or_403(learner_id: int, action: str = "read_learners"):
    return queries.learner_for(current_user, learner_id, action)


# --- List and export -------------------------------------------------------------------

def _search(formdata=None):
    form = SearchForm(formdata if formdata is not None else request.args)
    scope = scope_units(current_user)
    villages = units.villages_of(scope.unit_id) if scope.level in (COMMUNE, VILLAGES) else []
    if scope.level == VILLAGES:
        villages = [v for v in villages if v.id in scope.village_ids]
    form.village.choices = [SelectChoice("", _("All villages"))] + [SelectChoice(v.id, v.name) for v in villages]
    form.course.choices = [SelectChoice("", _("All courses"))] + [
        SelectChoice(c.id, c.title(locale_code())) for c in queries.courses()]
    form.validate()
    filters = queries.LearnerFilter(q=form.q.data or "", village_id=form.village.data if not form.village.errors else None,
                                    course_id=form.course.data if not form.course.errors else None,
                                    status=form.status.data if not form.status.errors else "",
                                    card=form.card.data if not form.card.errors else "")
    return form, queries.learners_query(current_user, filters)


def _list_args(source) -> dict:
    """The list's filters, for its page, export and back links (only these: another
    parameter, such as `fmt`, would clash with the link's own arguments)."""
    return {k: v for k in ("q", "village", "course", "status", "card") if (v := source.get(k))}


@bp.get("/team/learners")
@login_required
def learners():
    form, query = _search()
    page = paginate(query, page=page_number(request.args), per_page=PER_PAGE)
    ids = [learner.id for learner in page.items]
    return render_template("team/learners.html", form=form, learners=page.items, page=page,
                           statuses=queries.statuses_of(ids),
                           phones=queries.phones_of(ids), can_write=may(current_user, "write_learners"),
                           args=_list_args(request.args),
                           cards_form=CardsForm(formdata=None), max_cards=operations.MAX_CARDS,
                           no_card=queries.no_card_of(ids))


def status_label(status: str) -> str:
    return {queries.NOT_STARTED: _("Not started"), queries.IN_PROGRESS: _("In progress"),
            queries.COMPLETED: _("Completed"), queries.CERTIFIED: _("Certified")}.get(status, status)


@bp.app_template_filter("learner_status")
def learner_status_filter(status: str) -> str:
    return status_label(status)


@bp.app_template_filter("phone")
def phone_filter(e164: str | None) -> str:
    return display_phone(e164)


@bp.get("/team/learners/export.<fmt>")
@login_required
def export_learners(fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    _form, query = _search()
    rows = first_rows(query, EXPORT_LIMIT)
    ids = [learner.id for learner in rows]
    statuses, phones, flags = queries.statuses_of(ids), queries.phones_of(ids), flags_of(ids)
    header = [_("Full name"), _("Birth year"), _("Sex"), _("Phone"), _("ID (last 4 digits)"), _("Village"),
              _("Status"), _("Registered on"), _("Data-quality flags")]
    sexes = {"female": _("Female"), "male": _("Male")}
    data = [[learner.full_name, learner.birth_year or "", sexes.get(learner.sex, ""),
             display_phone(phones.get(learner.id)), learner.national_id_last4 or "",
             learner.village.name if learner.village else "", status_label(statuses[learner.id]),
             learner.registered_dt.strftime("%d/%m/%Y"),
             "; ".join(kind_label(kind) for kind in flags.get(learner.id, []))] for learner in rows]
    record("learner.export", actor=current_user, unit_id=current_user.scope_unit_id, rows=len(data), format=fmt)
    db.session.commit()
    name = f"learners-{date.today():%Y%m%d}.{fmt}"
    if fmt == "csv":
        body, mimetype = exports.to_csv(header, data), "text/csv; charset=utf-8"
    else:
        body = exports.to_xlsx(header, data, _("Learners"))
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, content_type=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                          "Cache-Control": "no-store"})


# --- Registration ----------------------------------------------------------------------

@bp.route("/team/learners/new", methods=["GET", "POST"])
@login_required
def register_learner():
    commune = _team_commune()
    villages, village_required = _my_villages(commune)
    form = RegisterForm()
    form.set_villages(villages, required=village_required)
    consent_version, consent_text = current_text(LEARNING, locale_code())
    duplicates, overridable, status = [], False, 200
    if form.validate_on_submit():
        village = units.current_unit(form.village.data, "village") if form.village.data else None
        if village_required and (village is None or village not in villages):
            form.village.errors = [*form.village.errors, _("Choose one of your villages.")]
        else:
            try:
                card = operations.register_learner(
                    current_user, commune=commune, village=village, full_name=form.full_name.data,
                    birth_year=form.birth_year.data, sex=form.sex.data or None, phone=form.phone.data,
                    national_id=form.national_id.data, consent_given=form.consent.data, locale=locale_code(),
                    register_anyway=form.register_anyway.data)
            except operations.DuplicateLearnerError as error:
                db.session.rollback()
                duplicates, overridable = error.duplicates, error.overridable
                _keep_checks(error)
            except DomainError as error:
                db.session.rollback()
                show_error(form, error)
                _keep_checks(error)
                status = 429 if error.status == 429 else status
            else:
                db.session.commit()
                return render_template("team/card.html", cards=[card], new=True)
    if request.method == "POST" and status == 200:
        status = 409 if duplicates else 422
    return render_template("team/register.html", form=form, commune=commune, consent_text=consent_text,
                           consent_version=consent_version, duplicates=duplicates, overridable=overridable,
                           match_token=functools.partial(duplicate_ops.match_token, current_user)), status


def _keep_checks(error: DomainError) -> bool:
    """A failed form still used up identity checks: audit them after the rollback (lms.duplicates)."""
    kept = duplicate_ops.keep_checks(current_user, error)
    if kept:
        db.session.commit()
    return kept


# --- A learner's page ------------------------------------------------------------------

@bp.get("/team/learners/<int:learner_id>")
@login_required
def learner(learner_id: int):
    learner = _learner_or_403(learner_id)
    record("learner.view", actor=current_user, learner=learner)
    db.session.commit()
    progress = [course_progress(learner, course) for course in queries.courses()]
    return render_template("team/learner.html", learner=learner, progress=progress,
                           certificates=queries.certificates_of(learner), consents=queries.consents_of(learner),
                           can_write=may(current_user, "write_learners", learner),
                           can_assist=may(current_user, "assist_learners", learner))


@bp.route("/team/learners/<int:learner_id>/edit", methods=["GET", "POST"])
@login_required
def edit_learner(learner_id: int):
    learner = _learner_or_403(learner_id, "write_learners")
    villages, village_required = _my_villages(learner.commune)
    form = EditForm(obj=None if request.method == "POST" else learner)
    form.set_villages(villages, required=village_required)
    if request.method == "GET":
        form.village.data = str(learner.village_id or "")
        form.phone.data = display_phone(learner.user.phone if learner.user else None)
        record("learner.view", actor=current_user, learner=learner)
        db.session.commit()
    status = 200
    if form.validate_on_submit():
        village = units.current_unit(form.village.data, "village") if form.village.data else None
        try:
            if village_required and village not in villages:
                raise learner_ops.LearnerError("village-invalid", _("Choose one of your villages."), field="village")
            learner_ops.update_learner(learner, actor=current_user, full_name=form.full_name.data,
                                    birth_year=form.birth_year.data, sex=form.sex.data or None, village=village)
            operations.update_contact(learner, actor=current_user, phone=form.phone.data,
                                      national_id=form.national_id.data,
                                      clear_national_id=form.clear_national_id.data)
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
            _keep_checks(error)
            status = 429 if error.status == 429 else status
        else:
            db.session.commit()
            flash(_("The learner's data has been corrected."), "success")
            return redirect(url_for("team.learner", learner_id=learner.id))
    if request.method == "POST" and status == 200:
        status = 422
    return render_template("team/edit.html", form=form, learner=learner), status


@bp.route("/team/learners/<int:learner_id>/move", methods=["GET", "POST"])
@login_required
def move_learner(learner_id: int):
    learner = _learner_or_403(learner_id, "write_learners")
    form = MoveForm()
    communes = [c for c in units.communes_of(learner.province_id) if c.id != learner.commune_id]
    form.commune.choices = [SelectChoice("", _("Choose…"))] + [SelectChoice(str(c.id), c.name) for c in communes]
    status = 200
    if form.validate_on_submit():
        target = None
        if form.commune_code.data:
            target = units.unit_by_code(COMMUNE, form.commune_code.data)
        elif form.commune.data:
            target = units.current_unit(form.commune.data, COMMUNE)
        if target is None or target.id == learner.commune_id:
            form.commune.errors = [*form.commune.errors, _("Choose the commune the learner has moved to.")]
        else:
            learner_ops.move_learner(learner, actor=current_user, commune=target, village=None)
            db.session.commit()
            flash(_("{name} now belongs to {commune}. Their progress and certificates stay with them.").format(
                name=learner.full_name, commune=target.name), "success")
            return redirect(url_for("team.learners"))
    if request.method == "POST":
        status = 422
    return render_template("team/move.html", form=form, learner=learner), status


@bp.post("/team/learners/<int:learner_id>/card")
@login_required
def reset_card(learner_id: int):
    learner = _learner_or_403(learner_id, "write_learners")
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("Tick the box to confirm: the old password will stop working."), "error")
        return redirect(url_for("team.learner", learner_id=learner.id))
    card = operations.issue_login_card(learner, by=current_user)
    db.session.commit()
    return render_template("team/card.html", cards=[card], new=False)


# --- Printed login cards, many at once --------------------------------------------------

def _card_texts() -> dict:
    return {"title": _("Login card"), "name": _("Full name"), "village": _("Village"),
            "username": _("Username"), "pin": _("First password"), "site": _("Website"),
            "change": _("Change this password at your first login. Keep this card private.")}


def _cards_page(batch: operations.CardBatch, *, remaining: int, back: str) -> Response:
    """The one printable page of the batch; rendered before the commit, never cached."""
    with force_locale("vi"):
        texts_vi = _card_texts()
    texts_other = _card_texts() if locale_code() != "vi" else None
    body = render_template("team/cards.html", cards=batch.cards, batch=batch, remaining=remaining, back=back,
                           vi=texts_vi, other=texts_other, site=url_for("accounts.login", _external=True))
    db.session.commit()
    return Response(body, mimetype="text/html", headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _learners_back(formdata) -> str:
    return url_for("team.learners", **_list_args(formdata))


@bp.post("/team/cards")
@login_required
def print_cards():
    """Cards for the ticked learners, or for every learner the list's filters find."""
    form = CardsForm()
    back = _learners_back(request.form)
    if not form.validate_on_submit():
        flash(_("The form has expired. Open the list again and print again."), "error")
        return redirect(back)
    reissue = bool(form.reissue.data)
    if request.form.get("selection") == "ticked":
        ids = parse_ints(request.form.getlist("learner"))
        if ids is None:  # not a learner's id at all (a learner out of scope is a 403 below)
            abort(400)
        if not ids:
            flash(_("Tick at least one learner, or print the cards of every learner found."), "error")
            return redirect(back)
        if len(set(ids)) > operations.MAX_CARDS:
            flash(_("At most {limit} cards can be printed at once. Narrow the list, then print again.").format(
                limit=operations.MAX_CARDS), "error")
            return redirect(back)
        chosen = queries.learners_for(current_user, ids, "write_learners")
        remaining = 0
    else:
        _form, query = _search(request.form)
        if not reissue:
            query = query.where(queries.without_card())
        total = count(query)
        if reissue and total > operations.MAX_CARDS:
            flash(_("To issue new cards, narrow the list to at most {limit} learners ({count} found).").format(
                limit=operations.MAX_CARDS, count=total), "error")
            return redirect(back)
        chosen = first_rows(query, operations.MAX_CARDS)
        remaining = max(total - len(chosen), 0)
    batch = operations.issue_login_cards(chosen, by=current_user, reissue=reissue,
                                         unit_id=current_user.scope_unit_id, source="list")
    if not batch.cards:
        db.session.rollback()
        flash(_("No card was printed: every learner chosen already has a password. To replace it, tick "
                "“Also issue new cards…” and print again."), "error")
        return redirect(back)
    return _cards_page(batch, remaining=remaining, back=back)


@bp.post("/team/import/<int:import_id>/cards")
@login_required
def import_cards(import_id: int):
    """Cards for the learners of a confirmed import who have none yet, a page at a time."""
    staged = _staged_or_404(import_id)
    back = url_for("team.import_preview", import_id=staged.id)
    if not CardsForm().validate_on_submit():
        flash(_("The form has expired. Open the list again and print again."), "error")
        return redirect(back)
    ids = (staged.payload or {}).get("learner_ids") or []
    chosen, total = queries.without_card_among(current_user, ids, operations.MAX_CARDS)
    if not chosen:
        flash(_("Every learner of this import already has a login card."), "info")
        return redirect(back)
    batch = operations.issue_login_cards(chosen, by=current_user, unit_id=staged.commune_id, source="import")
    return _cards_page(batch, remaining=max(total - len(batch.cards), 0), back=back)


# --- Import ----------------------------------------------------------------------------

@bp.route("/team/import", methods=["GET", "POST"])
@login_required
def import_upload():
    commune = _team_commune()
    form = UploadForm()
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            data = upload.read(importer.MAX_BYTES + 1)
        finally:
            upload.close()
        villages, required = _my_villages(commune)
        started = time.perf_counter()
        filename = upload.filename or ""
        try:
            table = importer.read_table(filename, data)
            importer.check_header(table)
            importer.check_import_budget(current_user, commune, rows=len(table) - 1)
            allowed = {v.id for v in villages} if required else None

            def check():
                here = db.session.get(Unit, commune.id)
                return importer.validate_rows_steps(table, commune=here, villages=units.villages_of(here.id),
                                                    allowed_village_ids=allowed, this_year=date.today().year)

            def finish(validated) -> str:
                return _stage(db.session.get(Unit, commune.id), filename, validated, started)

            if len(table) > importer.STREAM_FROM_ROWS:
                return _stream_import_work(check, _("Checking the file"), finish)
            staged_url = finish(importer.run_steps(check()))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
            _keep_checks(error)
            status = 429 if error.status == 429 else status
        else:
            return redirect(staged_url)
    if request.method == "POST" and status == 200:
        status = 422
    return render_template("team/import.html", form=form, commune=commune, max_rows=importer.MAX_ROWS), status


@bp.get("/team/import/template.<fmt>")
@login_required
def import_template(fmt: str):
    _team_commune()
    header = importer.template_headers(locale_code())
    if fmt == "csv":
        return Response(exports.to_csv(header, []), content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="learners-template.csv"'})
    if fmt == "xlsx":
        return Response(exports.to_xlsx(header, [], _("Learners")),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": 'attachment; filename="learners-template.xlsx"'})
    abort(404)


def _staged_or_404(import_id: int):
    _team_commune()
    staged = importer.pending_import(current_user, import_id)
    if staged is None:
        abort(404)
    return staged


@bp.get("/team/import/<int:import_id>")
@login_required
def import_preview(import_id: int):
    staged = _staged_or_404(import_id)
    payload = staged.payload
    problems = payload.get("problems", [])
    without_card = 0
    if staged.status == importer.IMPORTED:
        without_card = queries.without_card_among(current_user, payload.get("learner_ids") or [], 0)[1]
    return render_template("team/import_preview.html", staged=staged, form=ConfirmImportForm(),
                           expected=importer.expected_seconds(staged), without_card=without_card,
                           cards_form=CardsForm(formdata=None), max_cards=operations.MAX_CARDS,
                           import_seconds=payload.get("import_seconds"),
                           problems=problems[:importer.SHOWN_PROBLEMS], more=max(len(problems) - importer.SHOWN_PROBLEMS, 0),
                           problem_count=len(problems), skipped=payload.get("skipped", [])[:importer.SHOWN_PROBLEMS],
                           skipped_count=len(payload.get("skipped", [])),
                           ignored=payload.get("ignored_columns", []), text=importer.problem_text,
                           label=importer.column_label)


@bp.post("/team/import/<int:import_id>/confirm")
@login_required
def import_confirm(import_id: int):
    staged = _staged_or_404(import_id)
    form = ConfirmImportForm()
    if not form.validate_on_submit() or not form.consent.data:
        flash(_("Tick the box to confirm that everyone in the file has given consent."), "error")
        return redirect(url_for("team.import_preview", import_id=staged.id))
    started = time.perf_counter()
    locale = locale_code()

    def register():
        return importer.commit_import_steps(db.session.get(LearnerImport, import_id), current_user, locale)

    def finish(created: int) -> str:
        done = db.session.get(LearnerImport, import_id)
        done.payload = {**done.payload, "import_seconds": round(time.perf_counter() - started, 1)}
        db.session.commit()
        return url_for("team.import_preview", import_id=import_id)

    if staged.valid_count >= importer.STREAM_FROM_ROWS:
        return _stream_import_work(register, _("Registering the learners"), finish)
    try:
        created = importer.run_steps(register())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("team.import_preview", import_id=import_id))
    next_url = finish(created)
    flash(_("{count} learners registered. Print their login cards now.").format(count=created), "success")
    return redirect(next_url)


def _stage(commune, filename: str, validated, started: float) -> str:
    """Keep the checked rows for the preview; commits; returns the preview's URL."""
    staged = importer.stage_import(current_user, commune, filename, validated, seconds=time.perf_counter() - started)
    db.session.commit()
    return url_for("team.import_preview", import_id=staged.id)


def _describe_import_step(step: importer.Progress) -> str:
    if step.stage == "check":
        return _("Checked {done} of {total} rows ({percent} %)").format(
            done=format_number(step.done), total=format_number(step.total), percent=step.percent)
    return _("Registered {done} of {total} learners ({percent} %)").format(
        done=format_number(step.done), total=format_number(step.total), percent=step.percent)


def _stream_import_work(start, title: str, finish):
    """A large file: answer with a page that shows each step as it is done."""
    work = StreamedWork(start, describe=_describe_import_step, finish=finish, back_url=url_for("team.import_upload"))
    return stream_page("core/working.html", title=title, work=work)


@bp.post("/team/import/<int:import_id>/discard")
@login_required
def import_discard(import_id: int):
    staged = _staged_or_404(import_id)
    if staged.status == importer.PENDING:
        staged.status = "discarded"
        staged.payload = {"rows": [], "problems": [], "skipped": []}
        db.session.commit()
    flash(_("The upload has been discarded. Nothing was registered."), "info")
    return redirect(url_for("team.import_upload"))
