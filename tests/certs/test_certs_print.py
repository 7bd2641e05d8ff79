"""Bulk printing for community teams: scoped lists, one PDF per part, bulk marks."""

from __future__ import annotations

import io
import re
from datetime import date

import pypdf
import pytest
from sqlalchemy import select

from lms.audit.models import AuditEvent
from lms.certs import views
from lms.extensions import db
from tests.conftest import post_form

NAMES = ["Đặng Văn Ơn", "H'Hen Niê", "Lò Thị Ánh", "Y Moan Êban", "Bùi Minh Châu"]


@pytest.fixture
def commune_with_certificates(make, graduate):
    """Five certificates in Phường Hoàn Kiếm: three in village A, two in village B."""
    village_a, village_b = make.village(name="Tổ dân phố 1"), make.village(name="Tổ dân phố 2")
    certificates = [graduate(full_name=name, village=village_a if i < 3 else village_b)[1]
                    for i, name in enumerate(NAMES)]
    return village_a, village_b, certificates


def count_on(html: str) -> int:
    return int(re.search(r'id="certificate-count" data-count="(\d+)"', html).group(1))


def links(html: str, endpoint: str) -> list[str]:
    return [url.replace("&amp;", "&") for url in re.findall(rf'href="({re.escape(endpoint)}[^"]*)"', html)]


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data), strict=True).pages]


def test_team_member_prints_the_filtered_set(client, login, make, commune_with_certificates):
    _village_a, _village_b, certificates = commune_with_certificates
    member = make.staff("team_member")
    login(member)
    html = client.get("/certificates/issued").get_data(as_text=True)
    assert count_on(html) == 5
    (print_link,) = links(html, "/certificates/print.pdf")
    response = client.get(print_link)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages = pdf_pages(response.get_data())
    assert len(pages) == 5
    # Village by village, then by given name in Vietnamese order (Ánh, Niê, Ơn | Châu, Êban).
    printed = [next(name for name in NAMES if name in page.splitlines()) for page in pages]
    assert printed == ["Lò Thị Ánh", "H'Hen Niê", "Đặng Văn Ơn", "Bùi Minh Châu", "Y Moan Êban"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "certificate.print"))
    assert event.actor_id == member.id
    assert sorted(event.details["certificate_ids"]) == sorted(c.id for c in certificates)


def test_filters_by_village_and_date(client, login, make, commune_with_certificates):
    village_a, village_b, certificates = commune_with_certificates
    for certificate, day in zip(certificates, [1, 5, 10, 15, 20], strict=True):
        certificate.completed_on = date(2026, 11, day)
    db.session.flush()
    login(make.staff("team_member"))

    html = client.get("/certificates/issued", query_string={"village": village_a.id}).get_data(as_text=True)
    assert count_on(html) == 3
    (print_link,) = links(html, "/certificates/print.pdf")
    pages = pdf_pages(client.get(print_link).get_data())
    assert len(pages) == 3
    assert all(any(name in page for name in NAMES[:3]) for page in pages)

    query = {"date_from": "2026-11-05", "date_to": "2026-11-15", "status": "all"}
    html = client.get("/certificates/issued", query_string=query).get_data(as_text=True)
    assert count_on(html) == 3
    (print_link,) = links(html, "/certificates/print.pdf")
    assert len(pdf_pages(client.get(print_link).get_data())) == 3

    html = client.get("/certificates/issued", query_string={"village": village_b.id, "date_to": "2026-11-15"})
    assert count_on(html.get_data(as_text=True)) == 1


def test_large_sets_come_in_parts(client, login, make, commune_with_certificates, monkeypatch):
    monkeypatch.setattr(views, "PRINT_BATCH_SIZE", 2)
    login(make.staff("team_member"))
    html = client.get("/certificates/issued", headers={"Accept-Language": "en"}).get_data(as_text=True)
    parts = links(html, "/certificates/print.pdf")
    assert len(parts) == 3
    assert all(f"Part {n} of 3" in html for n in (1, 2, 3))
    pages = [pdf_pages(client.get(url).get_data()) for url in parts]
    assert [len(p) for p in pages] == [2, 2, 1]
    names = [next(name for name in NAMES if name in page.splitlines()) for part in pages for page in part]
    assert sorted(names) == sorted(NAMES)  # every certificate exactly once across the parts
    assert client.get(parts[0].replace("part=1", "part=4")).status_code == 404


def test_mark_printed_and_handed_over(client, login, make, graduate, commune_with_certificates):
    village_a, _village_b, certificates = commune_with_certificates
    member = make.staff("team_member")
    login(member)
    page_url = f"/certificates/issued?village={village_a.id}"
    html = client.get(page_url).get_data(as_text=True)
    form = re.search(r'action="/certificates/mark-printed".*?</form>', html, re.S).group(0)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
    fields.pop("csrf_token")
    late = graduate(full_name="Người Đến Sau", village=village_a)[1]  # issued after the page was shown

    response = post_form(client, "/certificates/mark-printed", fields, page=page_url)
    assert response.status_code == 302
    for certificate in [*certificates, late]:
        db.session.refresh(certificate)
    assert [c.printed_by_id == member.id and c.printed_dt is not None for c in certificates] == [
        True, True, True, False, False]
    assert late.printed_dt is None  # not on the page the member saw, so not marked
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "certificate.mark-printed"))
    assert sorted(event.details["certificate_ids"]) == sorted(c.id for c in certificates[:3])
    assert count_on(client.get(page_url).get_data(as_text=True)) == 1  # only the late one is unprinted

    response = post_form(client, "/certificates/mark-handed-over", {"status": "all"}, page=page_url)
    assert response.status_code == 400  # the set must be pinned with upto
    html = client.get("/certificates/issued?status=not-handed-over").get_data(as_text=True)
    form = re.search(r'action="/certificates/mark-handed-over".*?</form>', html, re.S).group(0)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
    fields.pop("csrf_token")
    assert post_form(client, "/certificates/mark-handed-over", fields, page=page_url).status_code == 302
    for certificate in [*certificates, late]:
        db.session.refresh(certificate)
        assert certificate.handed_over_dt is not None and certificate.handed_over_by_id == member.id
        assert certificate.printed_dt is not None  # handed over implies printed


def test_revoked_certificates_are_not_printed(client, login, make, commune_with_certificates):
    from lms.certs.operations import revoke_certificate

    _village_a, _village_b, certificates = commune_with_certificates
    revoke_certificate(certificates[0], "Cấp nhầm", actor=make.staff("commune_official"))
    login(make.staff("team_member"))
    html = client.get("/certificates/issued").get_data(as_text=True)
    assert count_on(html) == 4
    (print_link,) = links(html, "/certificates/print.pdf")
    assert len(pdf_pages(client.get(print_link).get_data())) == 4
    html = client.get("/certificates/issued?status=revoked").get_data(as_text=True)
    assert count_on(html) == 1 and links(html, "/certificates/print.pdf") == []


def test_team_of_another_commune_sees_and_prints_nothing(client, login, make, commune_with_certificates):
    village_a, _village_b, certificates = commune_with_certificates
    login(make.staff("team_member", unit=make.commune("00073")))
    html = client.get("/certificates/issued").get_data(as_text=True)
    assert count_on(html) == 0
    assert all(c.serial not in html for c in certificates)
    upto = max(c.id for c in certificates)
    assert client.get(f"/certificates/print.pdf?status=all&upto={upto}").status_code == 404
    response = client.get(f"/certificates/issued?village={village_a.id}")  # not a village of theirs
    assert response.status_code == 422
    response = post_form(client, "/certificates/mark-printed", {"status": "all", "upto": upto},
                         page="/certificates/issued")
    assert response.status_code == 302
    for certificate in certificates:
        db.session.refresh(certificate)
        assert certificate.printed_dt is None


def test_member_limited_to_a_village(client, login, make, commune_with_certificates):
    village_a, village_b, _certificates = commune_with_certificates
    member = make.staff("team_member", villages=[village_b])
    db.session.flush()  # requests run in their own session on the test's connection
    login(member)
    html = client.get("/certificates/issued").get_data(as_text=True)
    assert count_on(html) == 2
    (print_link,) = links(html, "/certificates/print.pdf")
    assert len(pdf_pages(client.get(print_link).get_data())) == 2
    assert client.get(f"/certificates/issued?village={village_a.id}").status_code == 422


def test_who_may_print(client, login, make, graduate, commune_with_certificates):
    owner = graduate()[0]
    login(owner)
    assert client.get("/certificates/issued").status_code == 403
    assert client.get("/certificates/print.pdf?status=all&upto=1").status_code == 403


def test_province_official_lists_but_does_not_print(client, login, make, commune_with_certificates):
    login(make.staff("province_official"))
    html = client.get("/certificates/issued").get_data(as_text=True)
    assert count_on(html) == 5
    assert links(html, "/certificates/print.pdf") == []
    assert client.get("/certificates/print.pdf?status=all&upto=1000000").status_code == 403


@pytest.mark.parametrize("url", ["/certificates/issued", "/certificates/manage/{serial}", "/verify"])
def test_every_field_has_a_label(client, login, make, commune_with_certificates, url):
    certificates = commune_with_certificates[2]
    login(make.staff("commune_official"))
    html = client.get(url.format(serial=certificates[0].serial)).get_data(as_text=True)
    fields = re.findall(r"<(?:input|select|textarea)\b[^>]*>", html)
    assert any('type="hidden"' not in tag for tag in fields)
    for tag in fields:
        field_id = re.search(r'\bid="([^"]+)"', tag)
        if 'type="hidden"' in tag:
            continue
        assert field_id and f'for="{field_id.group(1)}"' in html, tag
