"""Identity checks (phone, ID number) are limited per member, audited, and never say where."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from lms.audit.models import AuditEvent
from lms.duplicates.queries import CHECK, CHECK_REFUSED
from lms.extensions import db
from lms.learners.models import Learner
from tests.conftest import csrf_token, post_form
from tests.duplicates.conftest import NUMBER, register_form

URL = "/team/learners/new"
LANGS = ["vi", "en"]


def audit_count(member, action: str, **details) -> int:
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.actor_id == member.id,
                                                          AuditEvent.action == action))
    return sum(1 for e in events if all((e.details or {}).get(k) == v for k, v in details.items()))


def limit_text(app, lang: str) -> str:
    with app.test_request_context(headers={"Accept-Language": lang}):
        from lms.duplicates.operations import IdentityCheck, IdentityCheckLimitError

        return str(escape(IdentityCheckLimitError(IdentityCheck("register", ("national_id",))).message))


def test_a_thousand_guess_probe_is_stopped_and_audited(app, client, member, login, elsewhere):
    """Guess the six unknown digits of a number whose start (province, sex, year) is known,
    through the real registration form; the limit stops it long before 1,000."""
    limit = app.config["IDENTITY_CHECKS_PER_HOUR"]
    login(member)
    token = csrf_token(client, URL)
    statuses = []
    guesses = [f"001160{n:06d}" for n in range(1000)]
    guesses[600] = NUMBER  # the right one, far beyond the limit
    for guess in guesses:
        response = client.post(URL, data={"csrf_token": token, **register_form(national_id=guess)})
        statuses.append(response.status_code)
    answered = [s for s in statuses if s != 429]
    assert len(answered) == limit and statuses[:limit] == answered  # then refused, every time
    assert statuses[600] == 429  # the right guess was never answered
    assert audit_count(member, CHECK) == limit
    assert audit_count(member, CHECK_REFUSED) == 1000 - limit
    assert audit_count(member, CHECK, found=False, form="register", fields=["national_id"]) == limit


@pytest.mark.parametrize("lang", LANGS)
def test_the_refusal_is_clear_and_leaves_nothing_half_stored(app, client, member, login, monkeypatch, lang):
    monkeypatch.setitem(app.config, "IDENTITY_CHECKS_PER_HOUR", 2)
    login(member)
    for n in range(2):
        assert post_form(client, URL, register_form(phone=f"091234567{n}")).status_code == 200
    before = db.session.scalar(select(func.count()).select_from(Learner))
    response = post_form(client, URL, register_form(phone="0912345679"), headers={"Accept-Language": lang})
    assert response.status_code == 429
    assert limit_text(app, lang) in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Learner)) == before
    # Without phone and ID number the person can still be registered now.
    assert post_form(client, URL, register_form(full_name="Lê Văn Ba", sex="male")).status_code == 200


def test_the_duplicate_is_still_detected_and_says_not_where(client, make, member, login, elsewhere):
    login(member)
    response = post_form(client, URL, register_form(full_name="Lê Thị Hoa", national_id=NUMBER))
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    alert = re.search(r'<div class="flash flash-error" role="alert" id="duplicates">(.*?)</div>\s*<form method="post" novalidate',
                      html, re.S).group(1)
    assert "Phạm Thị Mai" not in html and "0987654321" not in html and "1960" not in alert and "2345" not in alert
    assert "outside your area" not in html and "ngoài" not in html and "địa bàn khác" not in html
    assert audit_count(member, CHECK, found=True) == 1

    # In scope, the sentence is the same; only a link to the record the member may open anyway.
    own = post_form(client, URL, register_form(full_name="Trần Thị Lan", phone="0912000111")).status_code
    assert own == 200
    response = post_form(client, URL, register_form(full_name="Võ Thị Lan", phone="0912 000 111"))
    assert response.status_code == 409
    in_scope = response.get_data(as_text=True)
    assert "Open the existing learner" in in_scope or "Mở người học đã có" in in_scope


def test_the_edit_form_is_limited_too(app, client, make, member, login, monkeypatch, elsewhere):
    monkeypatch.setitem(app.config, "IDENTITY_CHECKS_PER_HOUR", 3)
    learner = make.learner(full_name="Đỗ Thị Hạnh", birth_year=1960, sex="female").learner
    login(member)
    url = f"/team/learners/{learner.id}/edit"
    data = {"full_name": "Đỗ Thị Hạnh", "birth_year": "1960", "sex": "female", "village": "", "phone": ""}
    statuses = [post_form(client, url, {**data, "national_id": f"001160{n:06d}"}).status_code for n in range(3)]
    assert all(s in (302, 422) for s in statuses)
    assert post_form(client, url, {**data, "national_id": NUMBER}).status_code == 429
    assert audit_count(member, CHECK, form="edit") == 3 and audit_count(member, CHECK_REFUSED, form="edit") == 1


def test_checks_of_one_member_do_not_limit_another(app, client, make, member, login, monkeypatch):
    monkeypatch.setitem(app.config, "IDENTITY_CHECKS_PER_HOUR", 1)
    login(member)
    assert post_form(client, URL, register_form(phone="0912345670")).status_code == 200
    assert post_form(client, URL, register_form(phone="0912345671")).status_code == 429
    colleague = app.test_client()
    other = make.staff("team_member")
    post_form(colleague, "/login", {"login": other.login_name, "password": make.password})
    assert post_form(colleague, URL, register_form(phone="0912345671")).status_code == 200


@pytest.mark.parametrize("lang", LANGS)
def test_imports_have_a_daily_budget_of_rows(app, client, make, member, login, monkeypatch, elsewhere, lang):
    """An import checks every row at once; a file past the day's rows is refused, and audited."""
    import io

    monkeypatch.setitem(app.config, "IDENTITY_IMPORT_ROWS_PER_DAY", 3)
    login(member)

    def upload(rows):
        body = "Họ và tên,Năm sinh,Giới tính,Số định danh cá nhân\n" + "".join(
            f"Lê Thị Hoa {chr(65 + n)},1960,Nữ,{number}\n" for n, number in enumerate(rows))
        return post_form(client, "/team/import", {"file": (io.BytesIO(body.encode()), "list.csv")},
                         content_type="multipart/form-data", headers={"Accept-Language": lang})

    assert upload(["001160000001", NUMBER]).status_code == 302  # the preview: row 3 already registered
    preview = db.session.scalar(select(AuditEvent).where(AuditEvent.actor_id == member.id,
                                                         AuditEvent.action == "learner.import_preview"))
    assert preview.details["identity_hits"] == 1
    response = upload(["001160000002", "001160000003"])
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert ("1 are left today" in html) if lang == "en" else ("còn 1" in html)
    assert audit_count(member, CHECK_REFUSED, form="import") == 1
