"""Downloads: the learner's own certificate as PDF, staff within scope, nobody else."""

from __future__ import annotations

import io
import unicodedata

import pypdf
import pypdfium2 as pdfium
import pytest
import zxingcpp
from sqlalchemy import select

from certificates import format_code
from lms.audit.models import AuditEvent
from lms.certs import operations
from lms.extensions import db

NFD_NAME = unicodedata.normalize("NFD", "Hoàng Thị Thu Hương")
NFC_NAME = unicodedata.normalize("NFC", NFD_NAME)


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data), strict=True)
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def qr_texts(data: bytes) -> list[str]:
    document = pdfium.PdfDocument(data)
    try:
        image = document[0].render(scale=150 / 72).to_pil()
        return [result.text for result in zxingcpp.read_barcodes(image)]
    finally:
        document.close()


def download(client, serial: str, lang: str | None = None):
    query = {"lang": lang} if lang else {}
    return client.get(f"/certificates/{serial}.pdf", query_string=query)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_learner_downloads_own_certificate(app, client, login, graduate, lang):
    user, certificate = graduate(full_name=NFD_NAME)
    login(user)
    response = download(client, certificate.serial, lang)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert f"certificate-{certificate.serial}-{lang}.pdf" in response.headers["Content-Disposition"]
    data = response.get_data()

    text = pdf_text(data)
    lines = text.splitlines()
    assert NFC_NAME in lines  # the name exactly, one precomposed letter per character
    assert all(unicodedata.is_normalized("NFC", line) for line in lines)
    assert certificate.course_title(lang) in text
    assert certificate.serial in text
    assert format_code(certificate.verification_code) in text
    verify_url = f"{app.config['PUBLIC_BASE_URL']}/verify/{certificate.verification_code}"
    assert qr_texts(data) == [verify_url]

    again = download(client, certificate.serial, lang).get_data()
    assert again == data  # rendered from the snapshot: same bytes every time


def test_my_certificates_lists_downloads_in_both_languages(client, login, graduate):
    user, certificate = graduate()
    login(user)
    html = client.get("/certificates").get_data(as_text=True)
    assert certificate.course_title_vi in html
    assert f"/certificates/{certificate.serial}.pdf?lang=vi" in html
    assert f"/certificates/{certificate.serial}.pdf?lang=en" in html


def test_another_learner_cannot_download(client, login, make, graduate):
    _owner, certificate = graduate()
    login(make.learner(login="someone-else"))
    assert download(client, certificate.serial).status_code == 403
    assert client.get("/certificates").get_data(as_text=True).count(certificate.serial) == 0


def test_anonymous_is_sent_to_login(client, graduate):
    _owner, certificate = graduate()
    response = download(client, certificate.serial)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_unknown_serial_is_404(client, login, graduate):
    user, _certificate = graduate()
    login(user)
    assert download(client, "2026-999999").status_code == 404


def test_staff_in_scope_download_and_it_is_audited(client, login, make, graduate):
    _owner, certificate = graduate()
    official = make.staff("commune_official")
    login(official)
    response = download(client, certificate.serial, "vi")
    assert response.status_code == 200
    assert certificate.full_name in pdf_text(response.get_data()).splitlines()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "certificate.download"))
    assert (event.actor_id, event.learner_id) == (official.id, certificate.learner_id)
    assert event.details["certificate_id"] == certificate.id


@pytest.mark.parametrize(("role", "level", "code"), [
    ("province_official", "province", "79"),  # another province
    ("commune_official", "commune", "00073"),  # another commune of the same province
    ("team_member", "commune", "00073"),
])
def test_staff_out_of_scope_cannot_download(client, login, make, graduate, role, level, code):
    _owner, certificate = graduate()
    login(make.staff(role, unit=make.unit(level, code)))
    assert download(client, certificate.serial).status_code == 403


def test_revoked_certificate_cannot_be_downloaded(client, login, make, graduate):
    user, certificate = graduate()
    operations.revoke_certificate(certificate, "Sai thông tin", actor=make.staff("commune_official"))
    login(user)
    response = download(client, certificate.serial)
    assert response.status_code == 410
    html = client.get("/certificates").get_data(as_text=True)
    assert "Sai thông tin" in html
    assert f"/certificates/{certificate.serial}.pdf" not in html
