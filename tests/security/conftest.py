"""A small country for security tests: two provinces, three communes, learners and staff
in and out of each other's scope, each learner with a certificate.

Commune A is 00070 (Phường Hoàn Kiếm, Hà Nội) with villages vA and vA2; commune B is
another commune of Hà Nội with village vB; commune C lies in another province, with
village vC. One learner lives in vA, vA2, B and C each (lA, lA2, lB, lC). The personas
are the five roles plus a team member limited to village vA; the learner persona is
lA's own account. Names and phones are unique, so a page that leaks a learner out of
scope can be caught by searching its text.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from lms.extensions import db
from tests.conftest import Factory, csrf_token

PASSWORD = Factory.password
PERSONAS = ("anonymous", "learner", "team_member", "village_member", "commune_official", "province_official",
            "national_admin")

LEARNERS = {  # key → (full name, phone typed at sign-up, where)
    "lA": ("Phạm Thị Ánh Dương", "0912000101", "vA"),
    "lA2": ("Vũ Văn Bảo Long", "0912000202", "vA2"),
    "lB": ("Đỗ Thị Cúc Hương", "0912000303", "vB"),
    "lC": ("Hồ Văn Duy Khánh", "0912000404", "vC"),
}

# Which learners each persona's scope covers (lms.access.scope_units, written out).
LEARNER_SCOPE = {
    "anonymous": set(),
    "learner": {"lA"},
    "team_member": {"lA", "lA2"},
    "village_member": {"lA"},
    "commune_official": {"lA", "lA2"},
    "province_official": {"lA", "lA2", "lB"},
    "national_admin": {"lA", "lA2", "lB", "lC"},
}
# Which units' statistics each persona may read (lms.statistics.queries.may_read, written out).
UNIT_SCOPE = {
    "anonymous": set(),
    "learner": set(),
    "team_member": {"cA", "vA", "vA2"},
    "village_member": {"cA", "vA"},
    "commune_official": {"cA", "vA", "vA2"},
    "province_official": {"p1", "cA", "vA", "vA2", "cB", "vB"},
    "national_admin": {"nation", "p1", "p2", "cA", "vA", "vA2", "cB", "vB", "cC", "vC"},
}


@dataclass
class World:
    units: dict = field(default_factory=dict)
    learners: dict = field(default_factory=dict)
    certificates: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    imports: dict = field(default_factory=dict)  # persona → id of a pending import it uploaded; "other" → in B
    tokens: dict = field(default_factory=dict)  # persona → API bearer token
    duplicates: dict = field(default_factory=dict)  # "own" → id of a duplicate request in A, "other" → in B
    flags: dict = field(default_factory=dict)  # learner key → id of an open data-quality flag on them
    course: object = None

    def markers(self, key: str) -> list[str]:
        """Strings that only appear in a response that shows learner `key`'s personal data."""
        name, phone, _where = LEARNERS[key]
        national = f"{phone[:4]} {phone[4:7]} {phone[7:]}"
        return [name, f"+84{phone[1:]}", national]

    def leaks(self, persona: str, text: str) -> list[str]:
        """Personal data in `text` of learners outside the persona's scope."""
        return [marker for key in LEARNERS if key not in LEARNER_SCOPE[persona]
                for marker in self.markers(key) if marker in text]


def _stage_import(member, commune, name: str) -> int:
    from lms.team import importer

    table = [["Họ và tên", "Năm sinh", "Giới tính"], [name, "1970", "Nữ"]]
    validated = importer.validate_rows(table, commune=commune, villages=[], allowed_village_ids=None,
                                       this_year=2026)
    return importer.stage_import(member, commune, "list.csv", validated).id


@pytest.fixture
def world(make) -> World:
    from lms.api.auth import issue_token
    from lms.certs.queries import certificates_of
    from lms.units.operations import ensure_nation
    from lms.units.queries import communes_of
    from tests.certs.conftest import build_course, complete_course

    w = World()
    home = make.commune()
    neighbour = next(c for c in communes_of(home.province_id) if c.id != home.id)
    far_province = make.province("79")  # Hồ Chí Minh City
    far = communes_of(far_province.id)[0]
    w.units.update(cA=home, cB=neighbour, cC=far, p1=make.province(), p2=far_province, nation=ensure_nation())
    w.units.update(vA=make.village(home, "Thôn Bắc"), vA2=make.village(home, "Thôn Nam"),
                   vB=make.village(neighbour, "Thôn Tây"), vC=make.village(far, "Ấp Đông"))
    w.course = build_course(db.session, lessons=1, questions=1)
    for key, (name, phone, where) in LEARNERS.items():
        village = w.units[where]
        user = make.learner(commune=db.session.get(type(village), village.commune_id), village=village,
                            full_name=name, login=phone, birth_year=1970, sex="female")
        w.learners[key] = user.learner
        complete_course(user.learner, w.course)
        (w.certificates[key],) = certificates_of(user.learner)
    w.users["learner"] = w.learners["lA"].user
    w.users["team_member"] = make.staff("team_member", username="sec.member")
    w.users["village_member"] = make.staff("team_member", villages=[w.units["vA"]], username="sec.village")
    w.users["commune_official"] = make.staff("commune_official", username="sec.commune")
    w.users["province_official"] = make.staff("province_official", username="sec.province")
    w.users["national_admin"] = make.staff("national_admin", username="sec.admin")
    other_member = make.staff("team_member", unit=neighbour, username="sec.other")
    for persona, name in (("team_member", "Lý Thị Gấm"), ("village_member", "Lý Thị Hạnh"),
                          ("commune_official", "Lý Thị Lan")):
        w.imports[persona] = _stage_import(w.users[persona], home, name)
    w.imports["other"] = _stage_import(other_member, neighbour, "Lý Thị Mơ")
    from lms.duplicates.models import DuplicateRequest

    for key, commune, member, learner in (("own", home, w.users["team_member"], "lA"),
                                          ("other", neighbour, other_member, "lB")):
        request = DuplicateRequest(commune_id=commune.id, filed_by_id=member.id, kind="national_id",
                                   existing_learner_id=w.learners[learner].id, full_name="Lý Thị Hồng", status="open")
        db.session.add(request)
        db.session.flush()
        w.duplicates[key] = request.id
    from lms.quality.models import QualityFlag

    db.session.flush()
    for key, learner in w.learners.items():  # finishing the course at once already raised one; else add one
        flag = db.session.scalar(select(QualityFlag).where(QualityFlag.learner_id == learner.id).limit(1))
        if flag is None:
            flag = QualityFlag(kind="fast_course", learner_id=learner.id, subject=f"course:{w.course.id}",
                               reason={"seconds": 10}, province_id=learner.province_id,
                               commune_id=learner.commune_id, village_id=learner.village_id, status="open")
            db.session.add(flag)
            db.session.flush()
        w.flags[key] = flag.id
    for persona, user in w.users.items():
        w.tokens[persona] = issue_token(user, "security test")
    db.session.commit()
    return w


def log_in(client, user, password: str = PASSWORD):
    response = client.post("/login", data={"csrf_token": csrf_token(client, "/login"),
                                           "login": user.login_name, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def persona_client(app, world: World, persona: str):
    client = app.test_client()
    if persona != "anonymous":
        log_in(client, world.users[persona])
    return client


def page_token(client) -> str:
    """A CSRF token for the client's current session (every page has the language form)."""
    return csrf_token(client, "/privacy")


def response_text(response) -> str:
    """What a person would read in a response: HTML, JSON, CSV, XLSX cells or PDF text."""
    mimetype = response.mimetype or ""
    data = response.get_data()
    if mimetype == "application/pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    if mimetype.endswith("spreadsheetml.sheet"):
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join("\t".join("" if v is None else str(v) for v in row)
                         for sheet in book.worksheets for row in sheet.iter_rows(values_only=True))
    if mimetype in ("application/json", "application/problem+json") and data:
        return json.dumps(response.get_json(), ensure_ascii=False)
    return data.decode("utf-8", errors="replace")


def rows(model, **where):
    return list(db.session.scalars(select(model).filter_by(**where)))


def text_of(html: str) -> str:
    """The text of an HTML page with tags removed (entities kept)."""
    return re.sub(r"<[^>]+>", " ", html)
