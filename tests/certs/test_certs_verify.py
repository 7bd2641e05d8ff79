"""Public verification: valid, revoked, unknown and mistyped codes, in both languages."""

from __future__ import annotations

import json
import re
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape

from certificates import ALPHABET, format_code, make_verification_code
from lms.certs import operations, queries
from lms.certs.verification import mistyped_message

LANGS = ["vi", "en"]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
EXPECTED_DATE = {"vi": "{d:%d}/{d:%m}/{d:%Y}", "en": "{d.day} {d:%b} {d:%Y}"}


def page(client, url: str, lang: str):
    response = client.get(url, headers={"Accept-Language": lang})
    return response, response.get_data(as_text=True)


def translated(app, lang: str, message) -> str:
    with app.test_request_context(headers={"Accept-Language": lang}):
        return str(escape(str(message)))


def mistype(code: str) -> str:
    """The code with one character replaced: the check character must catch it."""
    first = ALPHABET[(ALPHABET.index(code[0]) + 1) % len(ALPHABET)]
    return first + code[1:]


@pytest.fixture
def learner_certificate(make, graduate):
    village = make.village(name="Thôn Đông Hải")
    return graduate(full_name="Nguyễn Thị Hoà", village=village, login="0912345678", birth_year=1957)


@pytest.mark.parametrize("lang", LANGS)
def test_valid_certificate_shows_every_printed_field(client, learner_certificate, lang):
    _user, certificate = learner_certificate
    response, html = page(client, f"/verify/{certificate.verification_code}", lang)
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in html
    assert 'data-status="valid"' in html
    assert '<meta name="robots" content="noindex">' in html
    assert "Nguyễn Thị Hoà" in html
    assert escape(certificate.course_title(lang)) in html
    assert EXPECTED_DATE[lang].format(d=certificate.completed_on) in html
    assert f"{certificate.commune_name}, {certificate.province_name}" in html
    assert certificate.serial in html
    assert format_code(certificate.verification_code) in html


def test_verification_shows_nothing_else_about_the_learner(client, learner_certificate):
    user, certificate = learner_certificate
    _response, html = page(client, f"/verify/{certificate.verification_code}", "vi")
    html = re.sub(r'<input type="hidden"[^>]*>', "", html)  # random CSRF tokens may contain any digits
    assert "Nguyễn Thị Hoà" in html
    for private in ("1957", "0912345678", "+84912345678", "912345678", "Thôn Đông Hải", user.login_name):
        assert private not in html
    assert f"/certificates/{certificate.serial}.pdf" not in html  # no download for strangers
    assert "/certificates/manage/" not in html


@pytest.mark.parametrize("lang", LANGS)
def test_revoked_certificate_says_when_not_why(client, make, login, learner_certificate, lang):
    """The public sees "revoked on DATE"; the reason is for staff (docs/decisions.md, Public verification)."""
    _user, certificate = learner_certificate
    official = make.staff("commune_official")
    operations.revoke_certificate(certificate, "Cấp nhầm người", actor=official)
    response, html = page(client, f"/verify/{certificate.verification_code}", lang)
    assert response.status_code == 200
    assert 'data-status="revoked"' in html and 'data-status="valid"' not in html
    assert "Cấp nhầm người" not in html
    assert EXPECTED_DATE[lang].format(d=certificate.revoked_dt.astimezone(VN).date()) in html
    assert "Nguyễn Thị Hoà" in html and certificate.serial in html
    login(official)  # staff still read the reason, on the certificate's own page
    _response, staff_html = page(client, f"/certificates/manage/{certificate.serial}", lang)
    assert _response.status_code == 200 and "Cấp nhầm người" in staff_html
    _response, html = page(client, f"/verify/{certificate.verification_code}", lang)
    assert "Cấp nhầm người" not in html  # the public page is the same for staff


@pytest.mark.parametrize("lang", LANGS)
def test_unknown_code(client, db_session, lang):
    code = make_verification_code(b"some other key, not ours", "2026-999999")
    response, html = page(client, f"/verify/{code}", lang)
    assert response.status_code == 404
    assert 'data-status="unknown"' in html
    assert format_code(code) in html


@pytest.mark.parametrize("lang", LANGS)
def test_mistyped_code_is_caught_before_lookup(app, client, learner_certificate, monkeypatch, lang):
    _user, certificate = learner_certificate
    looked_up = []
    monkeypatch.setattr(queries, "certificate_by_code", lambda code: looked_up.append(code))
    response, html = page(client, f"/verify/{mistype(certificate.verification_code)}", lang)
    assert response.status_code == 400
    assert 'data-status="mistyped"' in html
    assert translated(app, lang, mistyped_message()) in html
    assert looked_up == []


def test_typed_code_is_normalised_and_redirected(client, learner_certificate):
    _user, certificate = learner_certificate
    typed = format_code(certificate.verification_code).lower().replace("-", " ")
    response = client.get("/verify", query_string={"code": typed})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/verify/{certificate.verification_code}")
    response = client.get(f"/verify/{format_code(certificate.verification_code).lower()}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/verify/{certificate.verification_code}")


@pytest.mark.parametrize("lang", LANGS)
def test_mistyped_code_in_the_form(app, client, learner_certificate, lang):
    _user, certificate = learner_certificate
    response = client.get("/verify", query_string={"code": mistype(certificate.verification_code)},
                          headers={"Accept-Language": lang})
    assert response.status_code == 422
    assert translated(app, lang, mistyped_message()) in response.get_data(as_text=True)


def test_verify_form_works_without_javascript(client, db_session):
    response, html = page(client, "/verify", "vi")
    assert response.status_code == 200
    form = re.search(r'<form method="get" action="/verify"[^>]*>(.*?)</form>', html, re.S)
    assert form, "a plain GET form to /verify"
    assert 'name="code"' in form.group(1) and '<label for="code">' in form.group(1)


def test_api_gives_the_same_facts(client, learner_certificate, app):
    _user, certificate = learner_certificate
    response = client.get(f"/api/v1/certificates/{certificate.verification_code}")
    assert response.status_code == 200
    assert response.get_json() == {"certificate": {
        "status": "valid",
        "serial": certificate.serial,
        "verification_code": format_code(certificate.verification_code),
        "full_name": "Nguyễn Thị Hoà",
        "course_title": {"vi": certificate.course_title_vi, "en": certificate.course_title_en},
        "completed_on": certificate.completed_on.isoformat(),
        "commune_name": certificate.commune_name,
        "province_name": certificate.province_name,
        "revoked_dt": None,
        "verify_url": f"{app.config['PUBLIC_BASE_URL']}/verify/{certificate.verification_code}",
    }}


def test_api_revoked_unknown_and_mistyped(client, make, learner_certificate):
    _user, certificate = learner_certificate
    operations.revoke_certificate(certificate, "Gian lận khi làm bài", actor=make.staff("commune_official"))
    body = client.get(f"/api/v1/certificates/{certificate.verification_code}").get_json()["certificate"]
    assert body["status"] == "revoked"
    assert "revocation_reason" not in body
    assert "Gian lận" not in json.dumps(body, ensure_ascii=False)
    assert body["revoked_dt"] == certificate.revoked_dt.isoformat()

    unknown = client.get(f"/api/v1/certificates/{make_verification_code(b'another key 0123456', 'x')}")
    assert unknown.status_code == 404
    assert unknown.get_json()["code"] == "certificate-unknown"

    mistyped = client.get(f"/api/v1/certificates/{mistype(certificate.verification_code)}")
    assert mistyped.status_code == 400
    assert mistyped.get_json()["code"] == "code-mistyped"
