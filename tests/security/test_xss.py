"""Stored (and reflected) XSS: payloads typed into every free-text field, read back everywhere.

The payloads go in through the real forms: sign-up and self-correction (learner's
name), registration and correction by a team (name), villages (create, rename), the
import (file name, an ignored column's header, a village cell, a name), a revocation
reason, the learner-list search and the verification form (reflected), a `next`
address; a staff display name is set the way `flask accounts create-staff --name` sets
it. Then every page that shows them is fetched and parsed: the payload must be there
as text, and no element, attribute, event handler or `javascript:` address may come
out of it. Exports keep the text intact but neutralise spreadsheet formulas; PDFs
(certificate, bulk print, statistics report) show the payload as literal text.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from html.parser import HTMLParser

import openpyxl
import pytest
from sqlalchemy import select

from lms.accounts.models import User
from lms.extensions import db
from lms.units.models import Unit
from tests.conftest import Factory, post_form
from tests.security.conftest import log_in, response_text

TAGS = '"><img src=x onerror=alert(1)><script>alert(1)</script>'
NAME = f"Lê {TAGS}"  # the learner who signs up
TEAM_NAME = f"Trần '><svg onload=alert(2)> {TAGS}"  # registered by the team, then corrected
VILLAGE = f"Thôn {TAGS}"
RENAMED = f"Xóm javascript:alert(3) {TAGS}"
REASON = f"Nhầm lẫn {TAGS} javascript:alert(4)"
STAFF_NAME = f"Cán bộ {TAGS}"
FORMULA_NAME = '=HYPERLINK("http://evil.example","Lan")'
FORMULA_VILLAGE = "=1+2 Thôn"
FILE_NAME = "'><img src=x onerror=alert(1)><svg onload=alert(1)>.csv"  # no / or " in a file name
REFLECTED = "<script>alert(5)</script>"


class Page(HTMLParser):
    """Tags, attributes and text of a page, as a browser would build them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def assert_safe(html: str, *shown: str, where: str = "") -> None:
    """Nothing executable came out of the payloads, and each of `shown` reads as text."""
    page = Page(html)
    for tag, attrs in page.tags:
        assert not (tag == "script" and "src" not in attrs), f"{where}: inline <script>"
        assert tag != "svg" or "onload" not in attrs, f"{where}: <svg onload>"
        assert not (tag == "img" and attrs.get("src") == "x"), f"{where}: injected <img>"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"{where}: event handler {name}={value!r} on <{tag}>"
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                assert not value.strip().lower().startswith("javascript:"), f"{where}: {name}={value!r}"
    text = " ".join(" ".join(page.text).split())
    for expected in shown:
        assert " ".join(expected.split()) in text, f"{where}: {expected!r} is not shown as text"


@dataclass
class Stored:
    learner_id: int = 0  # signed up with NAME
    team_learner_id: int = 0  # registered as TEAM_NAME by the member
    formula_learner_id: int = 0
    village_id: int = 0
    renamed_id: int = 0
    formula_village_id: int = 0
    import_id: int = 0
    serial: str = ""
    code: str = ""
    clients: dict = field(default_factory=dict)


@pytest.fixture
def stored(app, make) -> Stored:
    from lms.accounts.operations import create_staff
    from lms.certs.queries import certificates_of
    from lms.learners.models import Learner
    from tests.certs.conftest import build_course, complete_course

    s = Stored()
    commune = make.commune()
    member = make.staff("team_member", username="xss.member")
    official = make.staff("commune_official", username="xss.official")
    named = create_staff(role="commune_official", unit=commune, username="xss.named", password=Factory.password,
                         display_name=STAFF_NAME)  # as `flask accounts create-staff --name` does
    course = build_course(db.session, lessons=1, questions=1)
    db.session.commit()
    team = s.clients["team"] = app.test_client()
    log_in(team, member)

    # Villages: created and renamed through the form.
    assert post_form(team, "/villages", {"name": VILLAGE, "division_type": "thôn"}).status_code == 302
    assert post_form(team, "/villages", {"name": "Thôn Cũ", "division_type": "thôn"}).status_code == 302
    assert post_form(team, "/villages", {"name": FORMULA_VILLAGE, "division_type": "thôn"}).status_code == 302
    villages = {v.name: v for v in db.session.scalars(select(Unit).where(Unit.parent_id == commune.id))}
    s.village_id, s.formula_village_id = villages[VILLAGE].id, villages[FORMULA_VILLAGE].id
    s.renamed_id = villages["Thôn Cũ"].id
    response = post_form(team, f"/villages/{s.renamed_id}/rename", {"name": RENAMED}, page="/villages")
    assert response.status_code == 302

    # A learner signs up with a payload as name, and corrects it on /my-data.
    own = s.clients["learner"] = app.test_client()
    signup = "/signup?province=01&commune=00070"
    response = post_form(own, signup, {"full_name": "Lê Văn Tạm", "login": "xss.learner", "password": Factory.password,
                                       "village": str(s.village_id), "consent": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    # The name rule (issue 15.2) refuses markup in a name at every form; escaping must
    # still hold for what is stored, so the payload names are then stored by force.
    response = post_form(own, "/my-data", {"full_name": NAME, "birth_year": "1970", "village": str(s.village_id)})
    assert response.status_code == 422
    learner = db.session.scalar(select(Learner).join(User, User.id == Learner.user_id)
                                .where(User.username == "xss.learner"))
    learner.full_name = learner.user.display_name = NAME
    db.session.commit()
    s.learner_id = learner.id
    complete_course(learner, course)
    (certificate,) = certificates_of(learner)
    s.serial, s.code = certificate.serial, certificate.verification_code

    # The team registers two learners, then corrects one.
    for name, village in (("Trần Văn Tạm", s.renamed_id), ("Lò Thị Lan", s.formula_village_id)):
        response = post_form(team, "/team/learners/new", {"full_name": name, "birth_year": "1980", "sex": "male",
                                                          "village": str(village), "consent": "y"})
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert_safe(response.get_data(as_text=True), name, where="login card")
    refused = post_form(team, "/team/learners/new", {"full_name": FORMULA_NAME, "birth_year": "1980", "sex": "male",
                                                     "village": str(s.formula_village_id), "consent": "y"})
    assert refused.status_code == 422
    s.team_learner_id = db.session.scalar(select(Learner.id).where(Learner.full_name == "Trần Văn Tạm"))
    s.formula_learner_id = db.session.scalar(select(Learner.id).where(Learner.full_name == "Lò Thị Lan"))
    edit = f"/team/learners/{s.team_learner_id}/edit"
    response = post_form(team, edit, {"full_name": TEAM_NAME, "birth_year": "1980", "sex": "male",
                                      "village": str(s.renamed_id)})
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    for learner_id, name in ((s.team_learner_id, TEAM_NAME), (s.formula_learner_id, FORMULA_NAME)):
        stored = db.session.get(Learner, learner_id)
        stored.full_name = stored.user.display_name = name
    db.session.commit()

    # An import whose file name, an ignored column, a village cell and a name carry payloads.
    out = io.StringIO()
    csv.writer(out).writerows([["Họ và tên", "Năm sinh", "Giới tính", "Thôn/Tổ dân phố", TAGS],
                               ["Ngô Thị Hoa", "1975", "Nữ", TAGS, "x"], [TAGS, "1975", "Nữ", "", "x"]])
    data = out.getvalue().encode()
    response = post_form(team, "/team/import", {"file": (io.BytesIO(data), FILE_NAME)},
                         content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    s.import_id = int(response.headers["Location"].rsplit("/", 1)[1])

    # An official revokes the certificate with a payload as reason.
    boss = s.clients["official"] = app.test_client()
    log_in(boss, official)
    response = post_form(boss, f"/certificates/manage/{s.serial}/revoke", {"reason": REASON},
                         page=f"/certificates/manage/{s.serial}")
    assert response.status_code == 302
    named_client = s.clients["named"] = app.test_client()
    log_in(named_client, named)
    return s


def test_html_pages_show_payloads_as_text(stored, app):
    team, own, boss = stored.clients["team"], stored.clients["learner"], stored.clients["official"]
    commune_id = db.session.get(Unit, stored.village_id).commune_id
    pages = [
        (team, "/villages", (VILLAGE, RENAMED)),
        (team, "/team/learners", (NAME, TEAM_NAME, FORMULA_NAME, VILLAGE, RENAMED)),
        (team, f"/team/learners/{stored.learner_id}", (NAME, VILLAGE)),
        (team, f"/team/learners/{stored.team_learner_id}", (TEAM_NAME, RENAMED)),
        (team, f"/team/learners/{stored.team_learner_id}/edit", ()),
        (team, f"/team/learners/{stored.team_learner_id}/move", (TEAM_NAME,)),
        (team, f"/team/import/{stored.import_id}", (FILE_NAME, TAGS)),
        (team, "/certificates/issued?status=revoked", (NAME,)),
        (team, f"/statistics/units/{commune_id}", (VILLAGE, RENAMED)),
        (team, f"/statistics/units/{stored.village_id}", (VILLAGE,)),
        (boss, f"/certificates/manage/{stored.serial}", (NAME, REASON)),
        (boss, "/team/audit", ()),
        (own, "/", ()),
        (own, "/my-data", (NAME, VILLAGE)),
        (own, "/certificates", ()),
        (own, "/my-learning", ()),
        (own, "/account", (NAME,)),
        (own, "/courses", (NAME,)),
        (app.test_client(), f"/verify/{stored.code}", (NAME,)),
        (stored.clients["named"], "/account", (STAFF_NAME,)),
        (stored.clients["named"], "/team/learners", (STAFF_NAME,)),
    ]
    for client, url, shown in pages:
        response = client.get(url)
        assert response.status_code == 200, f"{url} → {response.status_code}"
        assert "text/html" in response.content_type
        assert_safe(response.get_data(as_text=True), *shown, where=url)


def test_revocation_reason_is_for_staff_only(stored, app):
    """The public page says "revoked on DATE" without the reason; the staff page shows it, as text."""
    public = " ".join(" ".join(Page(app.test_client().get(f"/verify/{stored.code}").get_data(as_text=True)).text)
                      .split())
    assert "Nhầm lẫn" not in public and "alert(4)" not in public
    staff = stored.clients["official"].get(f"/certificates/manage/{stored.serial}").get_data(as_text=True)
    assert_safe(staff, REASON, where="manage")


def test_lesson_page_cache_escapes_the_display_name(stored, app):
    """Lesson pages come from a cache that fills in the user's name itself."""
    from lms.learning.models import Course

    course = db.session.scalar(select(Course).where(Course.is_published.is_(True)).order_by(Course.position))
    url = f"/courses/{course.slug}/lessons/{course.lessons[0].slug}"
    for client, name in ((stored.clients["named"], STAFF_NAME), (stored.clients["learner"], NAME),
                         (stored.clients["named"], STAFF_NAME)):
        response = client.get(url + f"?next={REFLECTED}")
        assert response.status_code == 200
        assert_safe(response.get_data(as_text=True), name, where=url)


def test_reflected_inputs_are_escaped(stored, app):
    team = stored.clients["team"]
    for client, url in ((team, "/team/learners"), (app.test_client(), "/verify"), (app.test_client(), "/privacy"),
                        (team, "/certificates/issued")):
        response = client.get(url, query_string={"q": REFLECTED, "code": REFLECTED, "next": REFLECTED,
                                                  "date_from": REFLECTED})
        assert response.status_code < 500
        assert_safe(response.get_data(as_text=True), where=url)
        assert REFLECTED not in response.get_data(as_text=True)
    # Sign-up errors send the typed name back into the form.
    response = post_form(app.test_client(), "/signup?province=01&commune=00070",
                         {"full_name": REFLECTED, "login": "!", "password": "x"})
    assert response.status_code == 422
    assert_safe(response.get_data(as_text=True), where="signup errors")


def test_json_answers_are_json(stored, app):
    for client, url in ((app.test_client(), f"/api/v1/certificates/{stored.code}"),
                        (stored.clients["learner"], "/my-data.json")):
        response = client.get(url)
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert NAME in _strings(response.get_json())


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


def _cells_csv(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]


def _cells_xlsx(data: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def _assert_no_formula(values: list[str], where: str) -> None:
    for value in values:
        assert not str(value).startswith(("=", "+", "-", "@", "\t", "\r")), f"{where}: formula cell {value!r}"


@pytest.mark.parametrize("url", ["/team/learners/export.{fmt}", "/statistics/units/{commune}/units.{fmt}",
                                 "/statistics/units/{commune}/all.{fmt}"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_keep_text_and_neutralise_formulas(stored, url, fmt):
    commune = db.session.get(Unit, stored.village_id).commune_id
    url = url.format(fmt=fmt, commune=commune)
    response = stored.clients["team"].get(url)
    if url.endswith("all.csv"):
        assert response.status_code == 404  # several tables only fit in a workbook
        return
    assert response.status_code == 200, url
    if fmt == "csv":
        cells = _cells_csv(response.get_data())
    else:
        xlsx = _cells_xlsx(response.get_data())
        assert all(cell.data_type != "f" for cell in xlsx), f"{url}: a formula cell"
        cells = [str(cell.value) for cell in xlsx if cell.value is not None]
    _assert_no_formula(cells, url)
    plain = [cell.removeprefix("'") for cell in cells]
    assert VILLAGE in plain and RENAMED in plain and FORMULA_VILLAGE in plain, url
    if "learners" in url:
        assert NAME in plain and TEAM_NAME in plain and FORMULA_NAME in plain, url


def _pdf_text(response) -> str:
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return " ".join(response_text(response).split())


def test_pdfs_show_payloads_as_literal_text(stored, app):
    from lms.certs.operations import reinstate_certificate
    from lms.certs.queries import certificate_by_serial

    certificate = certificate_by_serial(stored.serial)
    official = db.session.scalar(select(User).where(User.username == "xss.official"))
    reinstate_certificate(certificate, "Đã xác minh", actor=official)
    db.session.commit()
    own, team = stored.clients["learner"], stored.clients["team"]
    flat = " ".join(NAME.split())
    for lang in ("vi", "en"):
        assert flat in _pdf_text(own.get(f"/certificates/{stored.serial}.pdf?lang={lang}"))
    upto = certificate.id
    assert flat in _pdf_text(team.get("/certificates/print.pdf", query_string={"status": "all", "upto": upto}))
    commune = db.session.get(Unit, stored.village_id).commune_id
    report = _pdf_text(team.get(f"/statistics/units/{commune}/report.pdf"))
    assert " ".join(VILLAGE.split()) in report and FORMULA_VILLAGE in report
    assert " ".join(VILLAGE.split()) in _pdf_text(team.get(f"/statistics/units/{stored.village_id}/report.pdf"))


def test_payloads_are_stored_as_typed(stored):
    """Escaping happens on output only: the database keeps exactly what was typed (NFC)."""
    from lms.learners.models import Learner
    from lms.team.models import LearnerImport

    assert db.session.get(Learner, stored.learner_id).full_name == NAME
    assert db.session.get(Learner, stored.team_learner_id).full_name == TEAM_NAME
    assert db.session.get(Unit, stored.village_id).name == VILLAGE
    assert db.session.get(Unit, stored.renamed_id).name == RENAMED
    assert db.session.get(LearnerImport, stored.import_id).filename == FILE_NAME
    page = stored.clients["team"].get(f"/team/import/{stored.import_id}").get_data(as_text=True)
    assert TAGS not in page
