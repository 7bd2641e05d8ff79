"""Dashboard drill-down, scope, exports read back, API and locale formatting."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from lms.extensions import db
from lms.learning.operations import record_lesson_progress
from tests.conftest import Factory
from tests.statistics.conftest import new_learner


@pytest.fixture
def data(communes, course, admin):
    """Learners in two Hà Nội communes and one elsewhere; 1,234 extra registrations in the first."""
    from lms.statistics.operations import apply_deltas, make_key

    first, second, other = communes
    for commune, count in ((first, 3), (second, 2), (other, 1)):
        for i in range(count):
            learner = new_learner(commune, birth_year=1950 + i)
            record_lesson_progress(learner, course.lessons[0], 100)
    from collections import Counter

    bulk = new_learner(first, birth_year=1980)
    key = make_key(bulk, "registered", bulk.registered_dt)
    apply_deltas(Counter({key: 1234}))  # a big number, to see thousands separators
    db.session.flush()
    return communes


def _bearer(client, user) -> dict:
    """The statistics API takes a bearer token, like the rest of /api/v1."""
    db.session.commit()
    response = client.post("/api/v1/tokens", json={"login": user.login_name, "password": Factory.password,
                                                   "name": "tests"})
    assert response.status_code == 201, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def _page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _screen_table(html: str, name: str) -> list[list[str]]:
    body = html.split(f'id="data-{name}"', 1)[1].split("</table>", 1)[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([re.sub(r"<[^>]+>", "", c).strip() for c in cells])
    return rows


def _as_int(text: str, locale: str) -> int:
    return int(text.replace("." if locale == "vi" else ",", ""))


def test_national_admin_drills_down_with_breadcrumbs(client, login, make, data):
    first = data[0]
    login(make.staff("national_admin"))
    response = client.get("/statistics/", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Hà Nội" in html and 'id="chart-months"' in html and "<title id=\"chart-months-title\">" in html
    province = _page(client, f"/statistics/units/{first.province_id}")
    assert first.name in province and 'aria-current="page"' in province
    commune = _page(client, f"/statistics/units/{first.id}")
    assert "Việt Nam" in commune.split("<h1>")[0]


@pytest.mark.parametrize("role", ["province_official", "commune_official", "team_member"])
def test_officials_never_see_a_sibling_unit(client, login, make, data, role):
    first, second, other = data
    unit = make.province("01") if role == "province_official" else first
    user = make.staff(role, unit=unit)
    login(user)
    assert client.get(f"/statistics/units/{first.id}").status_code == 200
    sibling = other.province_id if role == "province_official" else second.id
    assert client.get(f"/statistics/units/{sibling}").status_code == 403
    assert client.get(f"/statistics/units/{sibling}/units.csv").status_code == 403
    assert client.get(f"/api/v1/statistics/units/{sibling}", headers=_bearer(client, user)).status_code == 403
    from lms.units.operations import ensure_nation

    assert client.get(f"/statistics/units/{ensure_nation().id}").status_code == 403


def test_learners_and_strangers_are_kept_out(client, login, make, data):
    assert client.get(f"/statistics/units/{data[0].id}").status_code in (302, 401)
    assert client.get(f"/api/v1/statistics/units/{data[0].id}").status_code == 401
    login(make.learner())
    assert client.get(f"/statistics/units/{data[0].id}").status_code == 403


def test_the_statistics_api_takes_a_token_not_the_website_cookie(client, login, make, data):
    official = make.staff("commune_official", unit=data[0])
    login(official)
    assert client.get(f"/statistics/units/{data[0].id}").status_code == 200
    response = client.get(f"/api/v1/statistics/units/{data[0].id}")
    assert response.status_code == 401 and response.get_json()["code"] == "token-missing"
    assert client.get(f"/api/v1/statistics/units/{data[0].id}", headers=_bearer(client, official)).status_code == 200


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_csv_and_xlsx_match_the_screen(client, login, make, data, locale):
    first = data[0]
    user = make.staff("province_official", unit=make.province("01"))
    user.locale = locale
    db.session.flush()
    login(user)
    url = f"/statistics/units/{first.province_id}"
    screen = _screen_table(_page(client, url + "?sort=registered&dir=desc"), "units")
    csv_response = client.get(url + "/units.csv?sort=registered&dir=desc")
    assert csv_response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(csv_response.data.decode("utf-8-sig"))))[1:]
    book = load_workbook(io.BytesIO(client.get(url + "/units.xlsx?sort=registered&dir=desc").data))
    sheet_rows = [list(r) for r in book["units"].iter_rows(min_row=3, values_only=True)]
    assert len(screen) == len(rows) == len(sheet_rows) > 2
    for shown, written, cells in zip(screen, rows, sheet_rows, strict=True):
        assert shown[0] == written[0] == cells[0]
        assert [_as_int(v, locale) for v in shown[1:6]] == [int(v) for v in written[1:6]] == list(cells[1:6])
    assert screen[0][0] == first.name  # sorted by registered, descending
    big = screen[0][1]
    assert big == ("1.238" if locale == "vi" else "1,238")


def test_pdf_report_and_api(client, login, make, data):
    first = data[0]
    official = make.staff("commune_official", unit=first)
    login(official)
    pdf = client.get(f"/statistics/units/{first.id}/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and b"NotoSans" in pdf.data
    body = client.get(f"/api/v1/statistics/units/{first.id}", headers=_bearer(client, official)).get_json()
    assert body["total"]["registered"] == 1238 and body["total"]["completed"] == 0
    assert body["total"]["started"] == 3 and body["children"][0]["name"] is None  # no village given


def test_dates_and_percents_follow_the_locale(client, login, make, data):
    from datetime import date

    from lms.statistics.operations import set_target

    first = data[0]
    official = make.staff("commune_official", unit=first)
    set_target(first, 2000, date(2026, 12, 31), actor=official)
    db.session.flush()
    login(official)
    vi = _page(client, f"/statistics/units/{first.id}")
    assert "31/12/2026" in vi and "1.238" in vi and "61,9%" in vi
    official.locale = "en"
    db.session.flush()
    en = _page(client, f"/statistics/units/{first.id}")
    assert "31 Dec 2026" in en and "1,238" in en and "61.9%" in en


def test_targets_only_by_officials_in_scope(make, data):
    from datetime import date

    from lms.errors import NotAllowedError
    from lms.statistics.models import StatTarget
    from lms.statistics.operations import set_target

    with pytest.raises(NotAllowedError):
        set_target(data[1], 10, date(2026, 12, 31), actor=make.staff("commune_official", unit=data[0]))
    with pytest.raises(NotAllowedError):
        set_target(data[0], 10, date(2026, 12, 31), actor=make.staff("team_member", unit=data[0]))
    assert db.session.scalar(select(StatTarget)) is None


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_fast_cell_formatting_matches_babel(app, locale):
    """The page formats a thousand cells without Babel's per-call work; same text as Babel."""
    import random

    from flask_babel import force_locale

    from lms.i18n import number, percent
    from lms.statistics.views import _fast_count, _fast_rate

    rng = random.Random(5)
    counts = [0, 1, 999, 1000, 1238, 10**6, *(rng.randint(0, 10**7) for _ in range(300))]
    rates = [0, 1, 0.5, 0.619, 0.0005, 0.0015, 1 / 3, 2 / 3, 0.99951, 12.3456,
             *(rng.randint(0, 500) / rng.randint(1, 500) for _ in range(2000))]
    with app.test_request_context(), force_locale(locale):
        assert [_fast_count(v, locale) for v in counts] == [number(v) for v in counts]
        assert [_fast_rate(r, locale) for r in rates] == [percent(r) for r in rates]


def test_rollup_dashboard_equals_the_sums_of_the_fine_counters(data, course):
    """Each figure the page reads from the rollup equals the GROUP BY over stat_counters."""
    from sqlalchemy import func, literal_column

    from lms.statistics.models import StatCounter
    from lms.statistics.queries import dashboard
    from lms.units.models import Unit
    from lms.units.operations import ensure_nation

    def fine(column, condition):
        if column is None:  # the unit's total (PostgreSQL refuses GROUP BY a constant)
            rows = db.session.execute(select(literal_column("'t'"), StatCounter.metric, func.sum(StatCounter.value))
                                      .where(condition).group_by(StatCounter.metric))
        else:
            rows = db.session.execute(select(column, StatCounter.metric, func.sum(StatCounter.value))
                                      .where(condition).group_by(column, StatCounter.metric))
        result: dict = {}
        for key, metric, value in rows:
            if value:
                result.setdefault(key, {})[metric] = value
        return result

    def shown(figures_by_key):
        return {key: {m: v for m, v in f.counts.items() if v} for key, f in figures_by_key if any(f.counts.values())}

    first = data[0]
    province = db.session.get(Unit, first.province_id)
    for unit, condition, child in ((ensure_nation(), StatCounter.id > 0, StatCounter.province_id),
                                   (province, StatCounter.province_id == province.id, StatCounter.commune_id),
                                   (first, StatCounter.commune_id == first.id, StatCounter.village_id)):
        board = dashboard(unit)
        assert shown([("t", board.total)]) == fine(None, condition)
        assert shown(board.months) == fine(StatCounter.month, condition)
        assert shown((c.id, f) for c, f in board.courses) == fine(StatCounter.course_id, condition & (StatCounter.course_id > 0))
        assert shown(board.by_sex.items()) == fine(StatCounter.sex, condition)
        assert shown(board.by_age.items()) == fine(StatCounter.age_band, condition)
        assert shown(board.by_mode.items()) == fine(StatCounter.mode, condition)
        assert shown((row.unit.id if row.unit else 0, row.figures) for row in board.children) == fine(child, condition)


def test_rendered_tables_are_reused_only_while_the_figures_are_the_same(client, login, make, data):
    """The tables and charts are kept rendered per distinct content: a repeat view reuses
    them, and any changed figure renders anew, never stale."""
    from lms.statistics import views

    first = data[0]
    province = first.province_id
    login(make.staff("national_admin"))
    url = f"/statistics/units/{province}"
    before = _screen_table(_page(client, url), "units")
    kept = len(views._rendered_figures)
    assert _screen_table(_page(client, url), "units") == before
    assert len(views._rendered_figures) == kept  # the same content: reused
    registered = {row[0]: _as_int(row[1], "vi") for row in before}
    new_learner(first, birth_year=1990)
    db.session.flush()
    after = {row[0]: _as_int(row[1], "vi") for row in _screen_table(_page(client, url), "units")}
    assert after[first.name] == registered[first.name] + 1
    assert len(views._rendered_figures) == kept + 1


def test_unit_links_go_only_where_the_reader_may_go_and_names_are_escaped(client, login, make, data):
    from lms.units.operations import create_village

    first = data[0]
    mine, other = create_village(first, "Thôn A & <B>"), create_village(first, "Thôn Khác")
    for village in (mine, other):
        new_learner(first, village=village)
    member = make.staff("team_member", unit=first, villages=[mine])
    db.session.flush()
    login(member)
    html = _page(client, f"/statistics/units/{first.id}")
    assert f'<a href="/statistics/units/{mine.id}">Thôn A &amp; &lt;B&gt;</a>' in html
    assert f"/statistics/units/{other.id}" not in html
    assert "Thôn Khác" in [row[0] for row in _screen_table(html, "units")]  # its counts, without a link


def test_whole_pages_are_kept_per_reader_and_never_stale(app, make, data):
    """The whole dashboard page is kept too (lms.statistics.views._rendered_pages): per
    reader, with their own name and CSRF token filled in, and a new page when a figure,
    the target or a flash message changes what it shows."""
    from lms.statistics import views
    from tests.conftest import post_form

    first = data[0]
    url = f"/statistics/units/{first.province_id}"
    readers = [make.staff("national_admin") for _ in range(2)]
    for reader, name in zip(readers, ("Trần Thị Một", "Lê Văn Hai"), strict=True):
        reader.display_name = name
    db.session.flush()
    pages, clients = [], []
    for reader in readers:
        client = app.test_client()
        post_form(client, "/login", {"login": reader.username, "password": Factory.password})
        clients.append(client)
        pages.append([client.get(url).get_data(as_text=True) for _ in range(2)])
    kept = len(views._rendered_pages)
    assert kept >= 2  # one per reader
    (one, one_again), (two, two_again) = pages
    assert one == one_again and two == two_again  # the kept page, filled in the same way
    assert "Trần Thị Một" in one and "Lê Văn Hai" not in one and "Lê Văn Hai" in two and "Trần Thị Một" not in two
    token = re.compile(r'name="csrf_token" value="([^"]+)"')
    assert token.search(one).group(1) != token.search(two).group(1) and "\u2983" not in one + two
    # The token on the kept page is the one this session accepts: the target form works.
    done = clients[0].post(f"/statistics/units/{first.province_id}/target", data={
        "csrf_token": token.search(one).group(1), "adults": "1234", "due_on": "2027-12-31"})
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    db.session.expire_all()
    clients[0].get(url)  # the page with the "saved" message: not kept
    after_target = clients[0].get(url).get_data(as_text=True)
    assert "1.234" in after_target or "1,234" in after_target  # the new target, not the kept page
    before = _screen_table(after_target, "units")
    new_learner(first, birth_year=1991)
    db.session.flush()
    after = _screen_table(clients[1].get(url).get_data(as_text=True), "units")
    assert {r[0]: _as_int(r[1], "vi") for r in after}[first.name] == {
        r[0]: _as_int(r[1], "vi") for r in before}[first.name] + 1
    with clients[1].session_transaction() as session:
        session["_flashes"] = [("info", "Thông báo riêng")]
    assert "Thông báo riêng" in clients[1].get(url).get_data(as_text=True)
    assert "Thông báo riêng" not in clients[1].get(url).get_data(as_text=True)
