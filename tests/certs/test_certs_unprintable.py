"""A stored name the certificate fonts cannot draw (from before the name rule) blocks
nothing: the learner's certificate still downloads, a bulk print leaves it out and lists
it on its last page (not audited as printed), the list marks it, and correcting the
learner's name makes it printable."""

from __future__ import annotations

import io
import logging
import re

import pypdf
from sqlalchemy import select

from lms.audit.models import AuditEvent
from lms.extensions import db
from tests.conftest import post_form

BAD = "Nguyễn 😀 An"


def _pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data), strict=True).pages]


def _graduate_with_stored_name(graduate, name: str):
    """A graduate whose stored name bypassed the rule, as rows from before it did."""
    user, _certificate = graduate(full_name="Lê Văn Tạm")
    user.learner.full_name = name
    from lms.certs.queries import certificates_of

    (certificate,) = certificates_of(user.learner)
    certificate.full_name = name
    db.session.flush()
    return user, certificate


def test_the_learner_still_downloads_the_certificate(client, login, graduate, caplog):
    user, certificate = _graduate_with_stored_name(graduate, BAD)
    login(user)
    with caplog.at_level(logging.WARNING):
        response = client.get(f"/certificates/{certificate.serial}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "Nguyễn \ufffd An" in _pages(response.get_data())[0].splitlines()
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "full_name" in logged and "Nguyễn" not in logged and "😀" not in logged


def test_bulk_print_skips_and_lists_it_and_the_rest_prints(client, login, make, graduate):
    good = [graduate(full_name=name)[1] for name in ("Đặng Văn Ơn", "H'Hen Niê")]
    _user, bad = _graduate_with_stored_name(graduate, "王小明")
    member = make.staff("team_member")
    login(member)
    html = client.get("/certificates/issued").get_data(as_text=True)
    assert html.count('class="unprintable"') == 1 and "Không in được" in html
    link = re.search(r'href="(/certificates/print\.pdf[^"]*)"', html).group(1).replace("&amp;", "&")
    response = client.get(link)
    assert response.status_code == 200
    pages = _pages(response.get_data())
    assert len(pages) == 3
    assert {"Đặng Văn Ơn", "H'Hen Niê"} == {n for page in pages[:2] for n in page.splitlines()
                                             if n in ("Đặng Văn Ơn", "H'Hen Niê")}
    assert "Chưa in được: 1 giấy chứng nhận" in pages[2] and bad.serial in pages[2]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "certificate.print"))
    assert sorted(event.details["certificate_ids"]) == sorted(c.id for c in good)
    assert event.details["not_printed_ids"] == [bad.id]


def test_correcting_the_name_makes_the_certificate_printable(client, login, make, graduate):
    user, bad = _graduate_with_stored_name(graduate, BAD)
    member = make.staff("team_member")
    login(member)
    response = post_form(client, f"/team/learners/{user.learner.id}/edit", {
        "full_name": "Nguyễn Văn An", "birth_year": "1960", "sex": "male", "village": "", "phone": "", "national_id": ""})
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    db.session.refresh(bad)
    assert bad.full_name == "Nguyễn Văn An"
    html = client.get("/certificates/issued").get_data(as_text=True)
    assert 'class="unprintable"' not in html
    link = re.search(r'href="(/certificates/print\.pdf[^"]*)"', html).group(1).replace("&amp;", "&")
    pages = _pages(client.get(link).get_data())
    assert len(pages) == 1 and "Nguyễn Văn An" in pages[0].splitlines()


def test_a_printable_certificate_keeps_its_snapshot_when_the_name_is_corrected(client, login, make, graduate):
    user, certificate = graduate(full_name="Nguyễn Thị Hoà")
    member = make.staff("team_member")
    login(member)
    response = post_form(client, f"/team/learners/{user.learner.id}/edit", {
        "full_name": "Nguyễn Thị Hòa Bình", "birth_year": "1960", "sex": "female", "village": "", "phone": "",
        "national_id": ""})
    assert response.status_code == 302
    db.session.refresh(certificate)
    assert certificate.full_name == "Nguyễn Thị Hoà"
