"""Revoking and reinstating: officials in scope only, a reason every time, audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.audit.models import AuditEvent
from lms.certs import operations
from lms.errors import NotAllowedError
from lms.extensions import db
from tests.conftest import post_form


def audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def manage_url(certificate) -> str:
    return f"/certificates/manage/{certificate.serial}"


def post_reason(client, certificate, action: str, reason: str):
    return post_form(client, f"{manage_url(certificate)}/{action}", {"reason": reason}, page=manage_url(certificate))


@pytest.mark.parametrize("role", ["commune_official", "province_official", "national_admin"])
def test_official_revokes_and_reinstates_with_audit(client, login, make, graduate, role):
    _owner, certificate = graduate()
    official = make.staff(role)
    login(official)

    response = post_reason(client, certificate, "revoke", "Người học nhờ người khác làm bài kiểm tra")
    assert response.status_code == 302
    db.session.refresh(certificate)
    assert certificate.is_revoked and certificate.revoked_by_id == official.id
    assert certificate.revocation_reason == "Người học nhờ người khác làm bài kiểm tra"
    assert certificate.revoked_dt is not None
    (event,) = audit("certificate.revoke")
    assert (event.actor_id, event.learner_id) == (official.id, certificate.learner_id)
    assert event.details["reason"] == "Người học nhờ người khác làm bài kiểm tra"
    assert event.details["serial"] == certificate.serial
    html = client.get(f"/verify/{certificate.verification_code}").get_data(as_text=True)
    assert 'data-status="revoked"' in html

    response = post_reason(client, certificate, "reinstate", "Đã xác minh lại: người học tự làm bài")
    assert response.status_code == 302
    db.session.refresh(certificate)
    assert not certificate.is_revoked
    assert (certificate.revoked_dt, certificate.revocation_reason, certificate.revoked_by_id) == (None, None, None)
    (event,) = audit("certificate.reinstate")
    assert event.actor_id == official.id and event.details["reason"] == "Đã xác minh lại: người học tự làm bài"
    assert len(audit("certificate.revoke")) == 1  # the history stays in the log
    html = client.get(f"/verify/{certificate.verification_code}").get_data(as_text=True)
    assert 'data-status="valid"' in html


def test_a_reason_is_required(client, login, make, graduate):
    _owner, certificate = graduate()
    login(make.staff("commune_official"))
    response = post_reason(client, certificate, "revoke", "   ")
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    db.session.refresh(certificate)
    assert not certificate.is_revoked
    assert audit("certificate.revoke") == []


@pytest.mark.parametrize(("role", "level", "code"), [
    ("province_official", "province", "79"),  # another province
    ("commune_official", "commune", "00073"),  # another commune
    ("team_member", "commune", "00070"),  # the learner's own commune, but teams do not revoke
])
def test_others_cannot_revoke(client, login, make, graduate, role, level, code):
    _owner, certificate = graduate()
    login(make.staff(role, unit=make.unit(level, code)))
    page = manage_url(certificate) if role == "team_member" else "/verify"
    response = post_form(client, f"{manage_url(certificate)}/revoke", {"reason": "Không hợp lệ"}, page=page)
    assert response.status_code == 403
    db.session.refresh(certificate)
    assert not certificate.is_revoked
    assert audit("certificate.revoke") == []


def test_learner_cannot_revoke_own(client, login, graduate):
    owner, certificate = graduate()
    login(owner)
    response = post_form(client, f"{manage_url(certificate)}/revoke", {"reason": "Không hợp lệ"}, page="/verify")
    assert response.status_code == 403
    assert client.get(manage_url(certificate)).status_code == 403


def test_manage_page_shows_the_form_only_to_those_who_may_revoke(client, login, make, graduate):
    _owner, certificate = graduate()
    login(make.staff("team_member"))
    html = client.get(manage_url(certificate)).get_data(as_text=True)
    assert certificate.serial in html and "/revoke" not in html


def test_revoking_twice_is_refused(make, graduate):
    _owner, certificate = graduate()
    official = make.staff("commune_official")
    operations.revoke_certificate(certificate, "Lý do", actor=official)
    with pytest.raises(operations.CertificateError) as error:
        operations.revoke_certificate(certificate, "Lý do", actor=official)
    assert error.value.code == "already-revoked"
    with pytest.raises(operations.CertificateError) as error:
        operations.reinstate_certificate(certificate, "", actor=official)
    assert error.value.code == "reason-required"


def test_operations_check_the_scope_too(make, graduate):
    _owner, certificate = graduate()
    outsider = make.staff("province_official", unit=make.province("79"))
    with pytest.raises(NotAllowedError):
        operations.revoke_certificate(certificate, "Lý do", actor=outsider)
    assert not certificate.is_revoked
