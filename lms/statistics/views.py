"""Statistics pages, exports and the public open-data page.

Views parse the request, call a query (which checks what the account may read) and render. The JSON
statistics API is in lms/api (`/api/v1/statistics/…`), read through the same queries.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from lms import cache
from lms.access import may
from lms.core import page_cache
from lms.extensions import db
from lms.i18n import locale_code, number, percent
from lms.learning.acting import ASSIST_KEY
from lms.quality.queries import flagged_counts
from lms.statistics import charts, exports, operations, queries
from lms.statistics.opendata import open_data
from lms.units.models import NATION, PROVINCE
from lms.units.queries import current_unit, unit_by_code

bp = Blueprint("statistics", __name__, template_folder="templates")
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


MAX_ID = 2**31 - 1


def _unit(unit_id: int):
    return current_unit(unit_id) if unit_id <= MAX_ID else None


def _shown_unit(unit_id: int):
    """The unit a read-only page shows: the nation, provinces and communes from the copies
    kept for five minutes (`queries.official_unit`), villages fresh. Not for writes."""
    if unit_id > MAX_ID:
        return None
    unit = queries.official_unit(unit_id)
    return unit if unit is not None and unit.is_current else None


def _readable_unit(unit_id: int, find=_unit):
    return queries.readable(current_user, find(unit_id))


def _sort_args() -> tuple[str, bool]:
    sort = request.args.get("sort", "name")
    return (sort if sort in queries.SORT_KEYS else "name"), request.args.get("dir") == "desc"


@bp.get("/statistics/")
@login_required
def dashboard():
    unit_id = queries.home_unit_id(current_user)
    if unit_id is None:
        from lms.units.operations import ensure_nation

        unit_id = ensure_nation().id
    return redirect(url_for("statistics.show_unit", unit_id=unit_id))


@functools.cache
def _symbols(locale: str) -> tuple[str, str, str]:
    from babel.numbers import format_percent, get_decimal_symbol, get_group_symbol

    symbols = get_group_symbol(locale), get_decimal_symbol(locale), format_percent(0, "0%", locale=locale)[1:]
    if any(char in "".join(symbols) for char in "<>&\"'"):
        raise ValueError(f"locale {locale}: number symbols {symbols} would need HTML escaping")  # see table_rows_formatter
    return symbols


def _fast_count(value: int, locale: str) -> str:
    """What `number` writes for a count, without Babel's per-call pattern work (a page has
    a thousand cells); tests/statistics/test_views.py checks both agree."""
    return f"{value:,}".replace(",", _symbols(locale)[0])


def _fast_rate(value: float, locale: str) -> str:
    """What `percent` writes ("#,##0.#%", half-even like Babel), without Babel's per-call work."""
    group, decimal_symbol, percent_sign = _symbols(locale)
    scaled = value * 1000
    tenths = round(scaled)
    if abs(scaled - int(scaled) - 0.5) < 1e-6:  # a tie, or near one: decide exactly as Babel does
        tenths = int((Decimal(str(value)) * 1000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    whole, tenth = divmod(tenths, 10)
    text = f"{whole:,}".replace(",", group)
    return f"{text}{decimal_symbol}{tenth}{percent_sign}" if tenth else f"{text}{percent_sign}"


def cell_formatter(locale: str):
    """format_cell for one request's locale (asked once, not per cell)."""
    def format_cell(value, kind: str) -> str:
        if kind == exports.RATE:
            if value is None:
                return "–"
            return _fast_rate(value, locale) if 0 <= value else percent(value)
        if kind == "count":
            return _fast_count(value, locale) if type(value) is int and value >= 0 else number(value)
        return str(value)
    return format_cell


def format_cell(value, kind: str) -> str:
    return cell_formatter(locale_code())(value, kind)


def table_rows_formatter(format_cell):
    """The rows of a table's body, in one call (a province's table has 170 rows).

    After the first column, cells are counts and rates: formatted, they hold digits, the locale's
    separators and percent sign (`_symbols` refuses a locale whose symbols would need
    escaping), a minus or a dash, so they are not escaped one by one."""
    def cells(row, kinds) -> str:
        return "".join([f'<td class="num">{format_cell(value, kind)}</td>'
                        for value, kind in zip(row[1:], kinds[1:], strict=True)])

    def table_rows(table) -> Markup:
        """Every <tr> of a table's body: the first cell (a name) escaped, then the numbers."""
        if any(kind == "text" for kind in table.kinds[1:]):
            raise ValueError("table_rows formats counts and rates after the first column only")
        return Markup("".join([f'<tr><th scope="row">{escape(row[0])}</th>{cells(row, table.kinds)}</tr>'  # noqa: S704  # nosec B704: names escaped, numbers only
                               for row in table.rows]))
    return table_rows


def _unit_links(board, may_read, unit_url) -> Markup:
    """"Open a unit:" links to the child units the reader may open (a province has 170)."""
    return Markup(" · ".join([f'<a href="{unit_url(row.unit.id)}">{escape(row.unit.name)}</a>'  # noqa: S704  # nosec B704: the name is escaped, the URL is built from an integer id
                              for row in board.children if row.unit and may_read(row.unit)]))


def _unit_url():
    """url_for("statistics.show_unit", unit_id=…) built once for a page with a link per child unit."""
    prefix = url_for("statistics.show_unit", unit_id=0)[:-1]
    return lambda unit_id: f"{prefix}{int(unit_id)}"


def _reader():
    """may_read for the current user, resolved once for a page with many links."""
    return queries.reader(current_user._get_current_object())


def _charts(board, format_cell):
    number = functools.partial(format_cell, kind="count")  # the tables' fast formatter, same text
    labels = exports.metric_labels()
    months = [month for month, _f in board.months]
    trend = charts.bar_chart(
        "chart-months", _("Learners by month"),
        _("Registrations and completed courses per month in {unit}.").format(unit=board.unit.name), months,
        [charts.Series(labels[m], [f[m] for _m, f in board.months], [number(f[m]) for _m, f in board.months])
         for m in ("registered", "completed")])
    courses = [course.title(locale_code()) for course, _f in board.courses]
    per_course = charts.horizontal_bars(
        "chart-courses", _("Learners by course"),
        _("Enrolments and completions per course in {unit}.").format(unit=board.unit.name), courses,
        [charts.Series(labels[m], [f[m] for _c, f in board.courses], [number(f[m]) for _c, f in board.courses])
         for m in ("enrolled", "completed")])
    return trend, per_course


@bp.get("/statistics/units/<int:unit_id>")
@login_required
def show_unit(unit_id: int):
    unit = _readable_unit(unit_id, _shown_unit)
    sort, descending = _sort_args()
    board = queries.dashboard(unit, sort, descending)
    flagged = flagged_counts(unit)
    tables = exports.dashboard_tables(board, locale_code(), flagged)
    formatter, may_read = cell_formatter(locale_code()), _reader()
    figures_key, figures_html = _figures_html(board, tables, sort, descending, formatter, may_read)
    context = dict(board=board, format_cell=formatter, may_read=may_read, figures_html=figures_html,
                   may_set_target=may(current_user, "set_targets", unit), flagged=flagged,
                   may_review_flags=may(current_user, "review_quality_flags"))
    if session.get("_flashes") or ASSIST_KEY in session:
        return render_template("statistics/dashboard.html", **context)  # a message or a helper's banner
    return page_cache.render_cached(_page_key(board, figures_key, context, may_read), "statistics/dashboard.html", {
        "csrf_token()": generate_csrf(), "user_name": current_user.display_name, "next_path": request.full_path},
        store=_rendered_pages, **context)


RENDERED_FIGURES_KEPT = 256  # about 40 KB each
_rendered_figures = cache.named("dashboard_figures", maxsize=RENDERED_FIGURES_KEPT, why=(
    "rendered dashboard tables and charts, keyed by a digest of their figures: a change is a new key"))
_rendered_pages = cache.named("dashboard_pages", maxsize=RENDERED_FIGURES_KEPT, why=(
    "whole dashboard pages per reader, keyed by a digest of everything on them but the CSRF token, the "
    "reader's name and the path (filled in per request): a change is a new key"))


def _page_key(board, figures_key: bytes, context: dict, may_read) -> tuple:
    """Everything the page shows beyond its tables and charts (already in `figures_key`),
    and whose page it is: the menu depends on the reader, so a page is never shared."""
    target = (board.target.adults, board.target.due_on) if board.target else None
    crumbs = tuple((unit.id, unit.name, bool(may_read(unit))) for unit in board.breadcrumbs)
    shown = repr((figures_key, board.total.counts, target, board.adults_reached, crumbs, context["flagged"].total,
                  context["may_set_target"], context["may_review_flags"]))
    return ("dashboard", current_user.id, current_user.role, locale_code(), bool(session.get("large_text")),
            hashlib.blake2b(shown.encode(), digest_size=16).digest())


def _figures_html(board, tables, sort: str, descending: bool, formatter, may_read) -> tuple[bytes, Markup]:
    """The tables and charts of a dashboard, rendered once per distinct content, with the
    digest they are kept under.

    They are a pure function of the figures, the locale, the sort order and which child
    units the reader may open, so the key is a digest of exactly those: a changed figure
    is a new key (never a stale page), an unchanged one skips two thirds of the page's
    rendering. The figures themselves are read fresh on every request.
    """
    links = tuple((row.unit.id, bool(may_read(row.unit))) for row in board.children if row.unit)
    content = [(table.title, table.headers, table.rows) for table in tables.values()]  # plain lists: a fast repr
    key = hashlib.blake2b(repr((locale_code(), board.unit.id, board.unit.name, sort, descending, links,
                                content)).encode(), digest_size=16).digest()
    html = _rendered_figures.get(key)
    if html is not None:
        return key, html
    trend, per_course = _charts(board, formatter)
    html = Markup(render_template(  # noqa: S704  # nosec B704: a rendered, autoescaped template
        "statistics/_figures.html", board=board, tables=tables, trend_chart=trend, course_chart=per_course,
        sort=sort, descending=descending, format_cell=formatter, table_rows=table_rows_formatter(formatter),
        unit_links=_unit_links(board, may_read, _unit_url())))
    return key, _rendered_figures.set(key, html)


@bp.get("/statistics/units/<int:unit_id>/<table>.<fmt>")
@login_required
def export_table(unit_id: int, table: str, fmt: str):
    unit = _readable_unit(unit_id, _shown_unit)
    tables = exports.dashboard_tables(queries.dashboard(unit, *_sort_args()), locale_code(), flagged_counts(unit))
    if fmt not in FORMATS or (table not in tables and table != "all"):
        abort(404)
    chosen = list(tables.values()) if table == "all" else [tables[table]]
    data = exports.to_xlsx(chosen) if fmt == "xlsx" else exports.to_csv(chosen[0])
    if fmt == "csv" and table == "all":
        abort(404)
    name = f"thong-ke-{unit.code}-{table}.{fmt}"
    return Response(data, content_type=FORMATS[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/statistics/units/<int:unit_id>/report.pdf")
@login_required
def export_report(unit_id: int):
    unit = _readable_unit(unit_id, _shown_unit)
    board = queries.dashboard(unit, *_sort_args())
    tables = exports.dashboard_tables(board, locale_code(), flagged_counts(unit))
    subtitle = _("Figures as of {day}").format(day=_today())
    data = exports.to_pdf(_("Statistics: {unit}").format(unit=unit.name), subtitle, list(tables.values()),
                          cell_formatter(locale_code()))
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="thong-ke-{unit.code}.pdf"'})


def _today() -> str:
    from lms.i18n import local_date

    return local_date(date.today())


@bp.post("/statistics/units/<int:unit_id>/target")
@login_required
def set_target(unit_id: int):
    unit = _readable_unit(unit_id)
    try:
        adults = int(request.form.get("adults", ""))
        due_on = date.fromisoformat(request.form.get("due_on", ""))
    except ValueError:
        flash(_("Enter a number of adults and a date."), "error")
        return redirect(url_for("statistics.show_unit", unit_id=unit.id))
    try:
        operations.set_target(unit, adults, due_on, actor=current_user)
    except operations.StatisticsError as error:  # a refusal (NotAllowedError) goes on to the 403 page
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("statistics.show_unit", unit_id=unit.id))
    db.session.commit()
    flash(_("Target saved."), "success")
    return redirect(url_for("statistics.show_unit", unit_id=unit.id))


@bp.get("/statistics/check")
@login_required
def check_page():
    """The last run of the incremental check (`flask statistics check`) and what differed."""
    from lms.statistics.check import last_result

    return render_template("statistics/check.html", **last_result(current_user))


# -- open data (public) -----------------------------------------------------------------

def _open_province():
    code = request.args.get("province")
    if not code:
        return None
    province = unit_by_code(PROVINCE, code)
    if province is None:
        abort(404)
    return province


@bp.get("/open-data/statistics")
def open_data_page():
    province = _open_province()
    return render_template("statistics/open_data.html", data=open_data(province), province=province,
                           nation=NATION)


@bp.get("/open-data/statistics.json")
def open_data_json():
    response = jsonify(open_data(_open_province()))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
