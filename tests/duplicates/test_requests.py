"""Resolving a real duplicate: the member asks, the commune official meets the person and
moves the existing record here (or dismisses); both languages; scope kept."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lms.audit.models import AuditEvent
from lms.duplicates.models import DISMISSED, MOVED, OPEN, DuplicateRequest
from lms.extensions import db
from tests.conftest import post_form
from tests.duplicates.conftest import NUMBER, register_form

URL = "/team/learners/new"
LANGS = ["vi", "en"]


def log_in(client, user, password):
    response = post_form(client, "/login", {"login": user.login_name, "password": password})
    assert response.status_code == 302


def file_from_duplicate_page(client, note: str = "Bà chuyển từ xã khác về ở với con", lang: str = "vi"):
    response = post_form(client, URL, register_form(full_name="Phạm Thị Mai", national_id=NUMBER),
                         headers={"Accept-Language": lang})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    form = re.search(r'<form method="post" action="/duplicates" class="duplicate-request">(.*?)</form>', html, re.S)
    assert form, "the duplicate message offers a request to the commune official"
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form.group(1)))
    response = client.post("/duplicates", data={**fields, "note": note}, headers={"Accept-Language": lang})
    del fields["csrf_token"]
    return response, fields


@pytest.mark.parametrize("lang", LANGS)
def test_member_asks_and_official_moves_the_record_here(app, client, make, member, login, elsewhere, lang):
    login(member)
    response, _fields = file_from_duplicate_page(client, lang=lang)
    assert response.status_code == 302 and response.headers["Location"].endswith("/duplicates")
    request = db.session.scalar(select(DuplicateRequest))
    assert (request.status, request.kind, request.existing_learner_id) == (OPEN, "national_id", elsewhere.id)
    assert request.full_name == "Phạm Thị Mai" and request.commune_id == member.scope_unit_id
    mine = client.get("/duplicates", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert "Phạm Thị Mai" in mine and elsewhere.commune.name not in mine  # the member still is not told where

    official = make.staff("commune_official")
    boss = app.test_client()
    log_in(boss, official, make.password)
    page = boss.get("/duplicates", headers={"Accept-Language": lang})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f'<html lang="{lang}">' in html
    assert "Bà chuyển từ xã khác về ở với con" in html and elsewhere.commune.name in html
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.actor_id == official.id,
                                                      AuditEvent.action == "learner.view",
                                                      AuditEvent.learner_id == elsewhere.id))
    response = post_form(boss, f"/duplicates/{request.id}/resolve",
                         {"outcome": MOVED, "resolution_note": "Đã xem thẻ căn cước"}, page="/duplicates")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(DuplicateRequest, request.id).status == MOVED
    assert elsewhere.commune_id == member.scope_unit_id
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.learner_id == elsewhere.id)))
    assert {"learner.move", "learner.move_out", "duplicate.resolve"} <= actions

    # Now in the member's scope: the same registration shows the record to open.
    response = post_form(client, URL, register_form(full_name="Phạm Thị Mai", national_id=NUMBER))
    assert response.status_code == 409
    assert f"/team/learners/{elsewhere.id}" in response.get_data(as_text=True)


def test_official_may_dismiss(app, client, make, member, login, elsewhere):
    login(member)
    file_from_duplicate_page(client)
    request = db.session.scalar(select(DuplicateRequest))
    official = make.staff("commune_official")
    boss = app.test_client()
    log_in(boss, official, make.password)
    post_form(boss, f"/duplicates/{request.id}/resolve", {"outcome": DISMISSED, "resolution_note": "Gõ nhầm số"},
              page="/duplicates")
    db.session.expire_all()
    assert db.session.get(DuplicateRequest, request.id).status == DISMISSED
    assert elsewhere.commune_id != member.scope_unit_id
    response = post_form(boss, f"/duplicates/{request.id}/resolve", {"outcome": MOVED}, page="/duplicates")
    assert response.status_code == 302  # already resolved: refused with a message, nothing moves
    db.session.expire_all()
    assert elsewhere.commune_id != member.scope_unit_id


def test_only_the_commune_official_of_the_commune_resolves(app, client, make, member, login, elsewhere,
                                                          other_commune):
    login(member)
    file_from_duplicate_page(client)
    request = db.session.scalar(select(DuplicateRequest))
    outsider = make.staff("commune_official", unit=other_commune)
    stranger = app.test_client()
    log_in(stranger, outsider, make.password)
    assert "Phạm Thị Mai" not in stranger.get("/duplicates").get_data(as_text=True)
    response = post_form(stranger, f"/duplicates/{request.id}/resolve", {"outcome": MOVED}, page="/duplicates")
    assert response.status_code == 404
    response = post_form(client, f"/duplicates/{request.id}/resolve", {"outcome": MOVED}, page="/duplicates")
    assert response.status_code == 403  # a team member files, never resolves
    db.session.expire_all()
    assert db.session.get(DuplicateRequest, request.id).status == OPEN


def test_a_match_token_is_bound_to_its_member(app, client, make, member, login, elsewhere):
    login(member)
    _response, fields = file_from_duplicate_page(client)
    colleague = make.staff("team_member")
    other = app.test_client()
    log_in(other, colleague, make.password)
    response = post_form(other, "/duplicates", fields, page="/team/learners/new")
    assert response.status_code == 302 and response.headers["Location"].endswith("/team/learners/new")
    forged = {**fields, "match": fields["match"][:-2] + "xx"}
    post_form(client, "/duplicates", forged, page="/team/learners/new")
    assert db.session.scalar(select(db.func.count()).select_from(DuplicateRequest)) == 1
