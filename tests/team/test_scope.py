"""Every team page and export: out of scope → 403 (or login redirect), in scope → 200."""

import pytest

from lms.extensions import db

PAGES = ["/team/learners", "/team/learners/export.csv", "/team/learners/export.xlsx",
         "/team/learners/{id}", "/team/learners/{id}/edit", "/team/learners/{id}/move",
         "/team/learners/new", "/team/import", "/team/import/template.csv", "/team/import/template.xlsx"]
LEARNER_PAGES = [p for p in PAGES if "{id}" in p]


@pytest.fixture
def world(make, other_commune):
    village, other_village = make.village(name="Thôn A"), make.village(name="Thôn B")
    target = make.learner(village=village, full_name="Phạm Văn Đức").learner
    users = {
        "member": make.staff("team_member"),
        "official": make.staff("commune_official"),
        "village_member": make.staff("team_member", villages=[village]),
        "other_village_member": make.staff("team_member", villages=[other_village]),
        "other_commune_member": make.staff("team_member", unit=other_commune),
        "learner": make.learner(login="selfish1"),
    }
    db.session.flush()
    return target, users


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_is_sent_to_login(client, world, page):
    target, _users = world
    response = client.get(page.format(id=target.id))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ["member", "official", "village_member"])
@pytest.mark.parametrize("page", PAGES)
def test_in_scope_pages_open(client, login, world, who, page):
    target, users = world
    login(users[who])
    assert client.get(page.format(id=target.id)).status_code == 200


@pytest.mark.parametrize("who", ["other_commune_member", "other_village_member", "learner"])
@pytest.mark.parametrize("page", LEARNER_PAGES)
def test_out_of_scope_learner_pages_are_forbidden(client, login, world, who, page):
    target, users = world
    login(users[who])
    assert client.get(page.format(id=target.id)).status_code == 403


@pytest.mark.parametrize("page", ["/team/learners", "/team/learners/export.csv", "/team/import", "/team/learners/new"])
def test_learner_role_gets_no_team_pages(client, login, world, page):
    _target, users = world
    login(users["learner"])
    assert client.get(page).status_code == 403


@pytest.mark.parametrize("who", ["other_commune_member", "other_village_member"])
def test_other_scopes_do_not_list_or_export_the_learner(client, login, world, who):
    target, users = world
    login(users[who])
    assert "Phạm Văn Đức" not in client.get("/team/learners").get_data(as_text=True)
    assert "Phạm Văn Đức" not in client.get("/team/learners/export.csv").get_data().decode("utf-8-sig")


def test_audit_log_is_for_officials_only(client, login, world):
    target, users = world
    login(users["member"])
    assert client.get("/team/audit").status_code == 403
    client2 = client.application.test_client()
    from tests.conftest import post_form
    post_form(client2, "/login", {"login": users["official"].login_name, "password": "correct horse 42"})
    client2.get(f"/team/learners/{target.id}")
    page = client2.get("/team/audit")
    assert page.status_code == 200 and "learner.view" in page.get_data(as_text=True)


def test_my_data_is_for_learners_only(client, login, world):
    _target, users = world
    login(users["member"])
    assert client.get("/my-data").status_code == 403
