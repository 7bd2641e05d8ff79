"""Every route × every persona, with objects inside and outside the persona's scope.

The rules come from `app.url_map`, so a new route without an entry in `EXPECTED` makes
`test_every_route_has_a_decision` fail. For each rule and persona, every method is
called with URL arguments taken from the world of tests/security/conftest.py: first
objects outside the persona's scope, then those inside it (writes happen last).

- a persona allowed on the object gets a 2xx or a redirect that is not to the login page;
- anonymous visitors are sent to the login page (a 401 JSON answer on /api);
- a logged-in persona without the role, or outside its scope, gets 403 or 404 (a few
  learner-only pages send staff back home instead, as listed);
- no answer is a 500, and no answer shows a learner outside the persona's scope
  (name or phone), except the public certificate verification, which exists to show it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.security.conftest import PERSONAS, page_token, persona_client, response_text
from tests.security.routes import (
    EXPECTED,
    RULES,
    STAFF,
    Expect,
    payload_for,
    prepare,
    rolled_back,
    send,
    targets,
    url_values,
)


def test_every_route_has_a_decision():
    endpoints = {endpoint for endpoint, _rule, _methods in RULES}
    assert endpoints - EXPECTED.keys() == set(), "new routes need a line in EXPECTED"
    assert EXPECTED.keys() - endpoints == set(), "EXPECTED names routes that no longer exist"


# --- Every route, every persona ---------------------------------------------------------

@pytest.fixture
def media_dir(app, world, tmp_path, monkeypatch):
    """A course folder with one image, for /course-media (the real courses have none)."""
    images = tmp_path / world.course.slug / "images"
    images.mkdir(parents=True)
    (images / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16)
    monkeypatch.setitem(app.config, "COURSES_DIR", str(tmp_path))


def _problem(persona, expect: Expect, allowed: bool, url: str, method: str, response, world) -> str | None:
    """What is wrong with this answer, or None."""
    status = response.status_code
    where = f"{persona} {method} {url} → {status}"
    location = response.headers.get("Location", "")
    if status >= 500:
        return where
    if allowed:
        if not 200 <= status < 400 or ("/login" in location and not url.startswith("/login")):
            return f"{where} (should be allowed) {location} {response.get_data(as_text=True)[:200]}"
    elif persona == "anonymous":
        if url.startswith("/api/"):
            if status != 401 or not response.get_json()["code"].startswith("token-"):
                return f"{where} (should be 401)"
        elif status != 302 or "/login" not in location:
            return f"{where} (should go to the login page)"
    elif expect.staff_denied == "home" and persona in STAFF:
        if status != 302 or urlsplit(location).path != "/":
            return f"{where} (should go home)"
    elif status not in (403, 404):
        return f"{where} (should be 403 or 404)"
    if not expect.shows_holder and status != 302:
        leaked = world.leaks(persona, response_text(response))
        if leaked:
            return f"{where} shows personal data out of scope: {leaked}"
    return None


@pytest.mark.parametrize(("endpoint", "rule", "methods"), RULES, ids=[r[1] for r in RULES])
def test_route_for_every_persona(app, world, media_dir, endpoint, rule, methods):
    expect = EXPECTED.get(endpoint)
    assert expect is not None, f"{rule} has no decision in EXPECTED"
    problems = []
    for persona in PERSONAS:
        with rolled_back():
            prepare(world, endpoint)
            client = persona_client(app, world, persona) if not expect.api else app.test_client()
            for target, in_scope in targets(expect, persona):
                values = url_values(world, endpoint, rule, expect, target, persona)
                allowed = persona in expect.who and in_scope
                for method in methods:
                    payload = payload_for(world, endpoint, persona, target)
                    url, response = send(client, app, world, persona, endpoint, rule, method, values, payload,
                                          expect)
                    problems.append(_problem(persona, expect, allowed, url, method, response, world))
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems)


# --- Scope of bulk actions (no object in the URL, so checked on the data) ----------------

@pytest.mark.parametrize("action", ["/certificates/mark-printed", "/certificates/mark-handed-over"])
def test_bulk_marks_touch_only_the_scope(app, world, action):
    from lms.extensions import db

    client = persona_client(app, world, "village_member")
    upto = str(max(c.id for c in world.certificates.values()))
    response = client.post(action, data={"csrf_token": page_token(client), "status": "all", "upto": upto})
    assert response.status_code == 302
    for key, certificate in world.certificates.items():
        db.session.refresh(certificate)
        assert (certificate.printed_dt is not None) == (key == "lA"), key


def test_bulk_print_contains_only_the_scope(app, world):
    client = persona_client(app, world, "team_member")
    upto = str(max(c.id for c in world.certificates.values()))
    response = client.get("/certificates/print.pdf", query_string={"status": "all", "upto": upto})
    assert response.status_code == 200
    text = response_text(response)
    assert "Phạm Thị Ánh Dương" in text and "Vũ Văn Bảo Long" in text
    assert not world.leaks("team_member", text)


def test_cards_for_learners_out_of_scope_are_refused(app, world):
    """Ticking an out-of-scope learner next to an in-scope one prints nothing."""
    from lms.extensions import db

    client = persona_client(app, world, "team_member")
    before = world.learners["lB"].user.password_hash
    response = client.post("/team/cards", data={
        "csrf_token": page_token(client), "selection": "ticked", "reissue": "y",
        "learner": [str(world.learners["lA"].id), str(world.learners["lB"].id)]})
    assert response.status_code == 403
    db.session.refresh(world.learners["lB"].user)
    assert world.learners["lB"].user.password_hash == before


def test_import_of_another_member_cannot_be_confirmed(app, world):
    from lms.extensions import db
    from lms.team.models import LearnerImport

    client = persona_client(app, world, "commune_official")
    response = client.post(f"/team/import/{world.imports['other']}/confirm",
                           data={"csrf_token": page_token(client), "consent": "y"})
    assert response.status_code == 404
    assert db.session.get(LearnerImport, world.imports["other"]).status == "pending"


def test_assisting_out_of_scope_learner_is_refused(app, world):
    client = persona_client(app, world, "village_member")
    response = client.post(f"/assist/{world.learners['lA2'].id}", data={"csrf_token": page_token(client)})
    assert response.status_code == 403
    with client.session_transaction() as session:
        assert "assisting_learner_id" not in session
