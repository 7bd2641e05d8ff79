"""The routes of the application, who may use each, and how to call each one so that it
succeeds when allowed. Shared by the route matrix and the CSRF tests.

`EXPECTED` is the explicit table of decisions: a route missing from it fails
tests/security/test_route_matrix.py::test_every_route_has_a_decision.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from flask import url_for

from lms import create_app
from lms.config import TestConfig
from tests.conftest import rolled_back  # noqa: F401 - used by the security tests
from tests.security.conftest import LEARNER_SCOPE, PASSWORD, PERSONAS, UNIT_SCOPE, page_token

STAFF = frozenset({"team_member", "village_member", "commune_official", "province_official", "national_admin"})
LEARNER = frozenset({"learner"})
WRITE = frozenset({"team_member", "village_member", "commune_official"})  # write/assist/print (lms.access)
MANAGE_VILLAGES = frozenset({"team_member", "commune_official"})  # a village-limited member may not
OFFICIALS = frozenset({"commune_official", "province_official", "national_admin"})  # revoke, targets, audit
EVERYONE = frozenset(PERSONAS)
LOGGED_IN = EVERYONE - {"anonymous"}


@dataclass(frozen=True)
class Expect:
    """Who may use a route. `objects` names the family of the URL's object (scope applies);
    `api` means bearer-token authentication; `staff_denied` how staff are refused on a
    learner-only page ("forbidden": 403/404, "home": a redirect to the home page)."""

    who: frozenset
    objects: str | None = None
    api: bool = False
    staff_denied: str = "forbidden"
    shows_holder: bool = False  # public verification: shows the certificate holder by design


REVIEWERS = frozenset({"commune_official", "province_official", "national_admin"})  # data-quality flags
PUBLIC = Expect(EVERYONE)
LOGIN = Expect(LOGGED_IN)

EXPECTED: dict[str, Expect] = {
    # Public pages and forms
    "core.home": PUBLIC, "privacy.notice": PUBLIC, "core.healthz": PUBLIC, "core.choose_language": PUBLIC,
    "core.toggle_text_size": PUBLIC, "static": PUBLIC, "team.static": PUBLIC,
    "accounts.login": PUBLIC, "accounts.logout": PUBLIC, "accounts.signup": PUBLIC,
    "learning.catalogue": PUBLIC, "learning.course": PUBLIC, "learning.lesson": PUBLIC,
    "learning.course_media": PUBLIC,
    # The installable web app and offline learning: public files, and a session answer that
    # names no one but the asker (docs/offline.md)
    "core.web_manifest": PUBLIC, "core.service_worker": PUBLIC, "core.offline_help": PUBLIC,
    "learning.offline_manifest": PUBLIC, "learning.offline_session": PUBLIC,
    "certs.verify_form": PUBLIC, "certs.verify_certificate": Expect(EVERYONE, shows_holder=True),
    "api.show_certificate": Expect(EVERYONE, shows_holder=True),
    "statistics.open_data_page": PUBLIC, "statistics.open_data_json": PUBLIC,
    # Any account
    "accounts.account": LOGIN, "accounts.logout_everywhere": LOGIN, "accounts.revoke_token": LOGIN,
    "accounts.choose_password": LOGIN,  # sends an account without a PIN to pend on to /account
    "learning.my_learning": LOGIN, "learning.stop_assist": LOGIN,
    "certs.my_certificates": LOGIN,  # staff are sent on to the staff list
    # The learner's own pages (staff follow courses only by helping a learner)
    "learning.enroll": Expect(LEARNER, staff_denied="home"),
    "learning.complete_lesson": Expect(LEARNER, staff_denied="home"),
    "learning.quiz": Expect(LEARNER, staff_denied="home"),
    "privacy.my_data": Expect(LEARNER), "privacy.my_data_download": Expect(LEARNER),
    "privacy.my_data_withdraw": Expect(LEARNER), "privacy.my_data_delete": Expect(LEARNER),
    "certs.download_certificate": Expect(LEARNER | STAFF, objects="certificate"),
    # Team workspace
    "team.learners": Expect(STAFF), "team.export_learners": Expect(STAFF),
    "team.learner": Expect(STAFF, objects="learner"),
    "team.edit_learner": Expect(WRITE, objects="learner"),
    "team.move_learner": Expect(WRITE, objects="learner"),
    "team.reset_card": Expect(WRITE, objects="learner"),
    "team.print_cards": Expect(WRITE, objects="learner"),
    "learning.start_assist": Expect(WRITE, objects="learner"),
    "team.register_learner": Expect(WRITE),
    "team.import_upload": Expect(WRITE), "team.import_template": Expect(WRITE),
    "team.import_preview": Expect(WRITE, objects="import"), "team.import_cards": Expect(WRITE, objects="import"),
    "team.import_confirm": Expect(WRITE, objects="import"), "team.import_discard": Expect(WRITE, objects="import"),
    "audit.audit_log": Expect(OFFICIALS),
    "duplicates.requests": Expect(WRITE), "duplicates.file_request": Expect(WRITE),
    "duplicates.resolve": Expect(frozenset({"commune_official"}), objects="duplicate"),
    "units.villages": Expect(MANAGE_VILLAGES),
    "units.rename_village": Expect(MANAGE_VILLAGES, objects="village"),
    "units.retire_village": Expect(MANAGE_VILLAGES, objects="village"),
    # Certificates, staff side
    "certs.issued": Expect(STAFF),
    "certs.print_certificates": Expect(WRITE), "certs.mark_printed": Expect(WRITE),
    "certs.mark_handed_over": Expect(WRITE),
    "certs.manage": Expect(STAFF, objects="certificate"),
    "certs.revoke": Expect(OFFICIALS, objects="certificate"),
    "certs.reinstate": Expect(OFFICIALS, objects="certificate"),
    # Statistics
    "statistics.dashboard": Expect(STAFF),
    "statistics.show_unit": Expect(STAFF, objects="unit"),
    "statistics.export_table": Expect(STAFF, objects="unit"),
    "statistics.export_report": Expect(STAFF, objects="unit"),
    "statistics.set_target": Expect(OFFICIALS, objects="unit"),
    "api.show_unit_statistics": Expect(STAFF, objects="unit", api=True),
    "statistics.check_page": Expect(frozenset({"national_admin"})),
    "quality.flags": Expect(REVIEWERS),
    "quality.review": Expect(REVIEWERS, objects="flag"),
    # API (bearer tokens)
    "api.show_openapi": Expect(EVERYONE, api=True), "api.create_token": Expect(EVERYONE, api=True),
    "api.revoke_current_token": Expect(LOGGED_IN, api=True),
    "api.list_courses": Expect(LOGGED_IN, api=True), "api.show_course": Expect(LOGGED_IN, api=True),
    "api.show_lesson": Expect(LOGGED_IN, api=True), "api.show_quiz": Expect(LOGGED_IN, api=True),
    "api.enroll": Expect(LEARNER, api=True), "api.record_progress": Expect(LEARNER, api=True),
    "api.submit_quiz": Expect(LEARNER, api=True), "api.show_my_progress": Expect(LEARNER, api=True),
}

# Objects of each family, and which of them each persona's scope covers.
FAMILIES = {
    "learner": (("lA", "lA2", "lB", "lC"), lambda persona: LEARNER_SCOPE[persona]),
    "certificate": (("lA", "lA2", "lB", "lC"), lambda persona: LEARNER_SCOPE[persona]),
    "unit": (("nation", "p1", "p2", "cA", "vA", "vA2", "cB", "vB", "cC", "vC"), lambda persona: UNIT_SCOPE[persona]),
    "village": (("vA", "vA2", "vB", "vC"),
                lambda persona: {"vA", "vA2"} if persona in MANAGE_VILLAGES else set()),
    "import": (("own", "other"), lambda persona: {"own"} if persona in WRITE else set()),
    "duplicate": (("own", "other"), lambda persona: {"own"} if persona == "commune_official" else set()),
    "flag": (("lA", "lB", "lC"), lambda persona: LEARNER_SCOPE[persona] if persona in REVIEWERS else set()),
}


def url_rules():
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://")
    return sorted(((rule.endpoint, rule.rule, tuple(sorted(rule.methods - {"HEAD", "OPTIONS"})))
                   for rule in app.url_map.iter_rules()), key=lambda r: r[1])


RULES = url_rules()


def object_values(world, endpoint: str, family: str | None, target: str | None, persona: str) -> dict:
    if family == "learner":
        return {"learner_id": world.learners[target].id}
    if family == "certificate":
        return {"serial": world.certificates[target].serial}
    if family in ("unit", "village"):
        key = "village_id" if family == "village" else "unit_id"
        return {key: world.units[target].id}
    if family == "import":
        own = world.imports.get(persona, world.imports["team_member"])
        return {"import_id": own if target == "own" else world.imports["other"]}
    if family == "duplicate":
        return {"request_id": world.duplicates[target]}
    if family == "flag":
        return {"flag_id": world.flags[target]}
    return {}


def path_values(world, endpoint: str, rule: str) -> dict:
    course = world.course
    values = {"slug": course.slug, "lesson_slug": course.lessons[0].slug, "code": world.certificates["lA"].verification_code}
    if "<fmt>" in rule:
        values["fmt"] = "xlsx" if endpoint == "statistics.export_table" else "csv"
    if "<table>" in rule:
        values["table"] = "months"
    if endpoint == "static":
        values["filename"] = "css/site.css"
    if endpoint == "team.static":
        values["filename"] = "cards.css"
    if endpoint == "learning.course_media":
        values["name"] = "picture.png"
    return {key: value for key, value in values.items() if f"{key}>" in rule}


def url_values(world, endpoint: str, rule: str, expect: Expect, target: str | None, persona: str) -> dict:
    """Every argument of the rule's URL, with the object `target` where the rule has one."""
    return {**path_values(world, endpoint, rule), **object_values(world, endpoint, expect.objects, target, persona)}


def payload_for(world, endpoint: str, persona: str, target: str | None) -> dict:
    """Form fields, query string or JSON body for a request that should succeed if allowed."""
    from lms.learning.operations import active_questions

    learner = world.learners[target] if target in world.learners else world.learners["lA"]
    questions = active_questions(world.course)
    first_lesson = world.course.lessons[0]
    own_village = world.units["vA"]
    upto = str(max(c.id for c in world.certificates.values()))  # the certificates the list showed
    import_file = "Họ và tên,Năm sinh,Giới tính\nLê Văn Quang,1960,Nam\n".encode()
    payloads = {
        "accounts.login": {"data": {"login": world.users["learner"].login_name, "password": PASSWORD}},
        "accounts.signup": {"query": {"province": "01", "commune": "00070"},
                            "data": {"full_name": "Mạc Thị Nụ", "login": "mac.thi.nu", "password": "an9 new pass",
                                     "consent": "y"}},
        "accounts.account": {"data": {"current_password": PASSWORD, "new_password": "a new pass 77"}},
        "core.choose_language": {"data": {"language": "en"}},
        "learning.quiz": {"data": {q.key: [str(i) for i in sorted(q.correct_indexes)]
                                   for q in questions}},
        "privacy.my_data": {"data": {"full_name": "Phạm Thị Ánh Dương", "birth_year": "1970", "village": ""}},
        "privacy.my_data_withdraw": {"data": {"confirm": "y"}},
        "privacy.my_data_delete": {"data": {"confirm": "y"}},
        "team.edit_learner": {"data": {"full_name": learner.full_name, "birth_year": "1970", "sex": "female",
                                       "village": str(learner.village_id or "")}},
        "team.move_learner": {"data": {"commune_code": world.units["cC"].code}},
        "team.reset_card": {"data": {"confirm": "y"}},
        "team.print_cards": {"data": {"selection": "ticked", "learner": str(learner.id), "reissue": "y"}},
        "team.register_learner": {"data": {"full_name": "Mạc Văn Phong", "birth_year": "1980", "sex": "male",
                                           "village": str(own_village.id), "consent": "y"}},
        "team.import_upload": {"data": {"file": (import_file, "list.csv")}},
        "team.import_confirm": {"data": {"consent": "y"}},
        "duplicates.resolve": {"data": {"outcome": "dismissed"}},
        "quality.review": {"data": {"status": "genuine"}},
        "units.villages": {"data": {"name": "Thôn Mới", "division_type": "thôn"}},
        "units.rename_village": {"data": {"name": "Thôn Đổi Tên"}},
        "certs.revoke": {"data": {"reason": "Cấp nhầm"}},
        "certs.reinstate": {"data": {"reason": "Đã kiểm tra lại"}},
        "certs.print_certificates": {"query": {"status": "all", "upto": upto}},
        "certs.mark_printed": {"data": {"status": "all", "upto": upto}},
        "certs.mark_handed_over": {"data": {"status": "all", "upto": upto}},
        "statistics.set_target": {"data": {"adults": "1000", "due_on": f"{date.today().year + 1}-12-31"}},
        "api.create_token": {"json": {"login": (world.users.get(persona) or world.users["learner"]).login_name,
                                      "password": PASSWORD, "name": "matrix"}},
        "api.record_progress": {"json": {"events": [{"id": "event-0001", "lesson_id": first_lesson.id, "kind": "view"}]}},
        "api.submit_quiz": {"json": {"id": "attempt-0001", "answers": {q.key: sorted(q.correct_indexes)
                                                                    for q in questions}}},
    }
    return payloads.get(endpoint, {})


def prepare(world, endpoint: str) -> None:
    """State some routes need before they can succeed."""
    from lms.certs.operations import revoke_certificate
    from lms.extensions import db

    if endpoint == "certs.reinstate":
        for certificate in world.certificates.values():
            revoke_certificate(certificate, "Kiểm tra", actor=world.users["national_admin"])
        db.session.flush()  # not commit: that would end the persona's savepoint


def send(client, app, world, persona, endpoint, rule, method, values, payload, expect, *,
         token=None, language: str = "vi", bearer: bool = True):
    """Call the route as a browser (form with the page's CSRF token) or an API client.

    `token(client)` replaces the CSRF token sent ("" sends none); `bearer=False` leaves
    the API token out.
    """
    with app.test_request_context():
        url = url_for(endpoint, **values)
    headers = {"Accept-Language": language}
    if expect.api and persona != "anonymous" and bearer:
        headers["Authorization"] = f"Bearer {world.tokens[persona]}"
    kwargs = {"headers": headers, "query_string": payload.get("query")}
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        if "json" in payload:
            kwargs["json"] = payload["json"]
        elif not rule.startswith("/api/"):
            data = dict(payload.get("data") or {})
            if "file" in data:
                content, name = data["file"]
                data["file"] = (io.BytesIO(content), name)
            csrf = (token or page_token)(client)
            if csrf:
                data["csrf_token"] = csrf
            kwargs["data"] = data
    return url, client.open(url, method=method, buffered=True, **kwargs)


def targets(expect: Expect, persona: str):
    """(target, in scope?) pairs: outside the scope first, so writes inside happen last."""
    if expect.objects is None:
        return [(None, True)]
    targets, scope = FAMILIES[expect.objects]
    covered = scope(persona)
    return [(t, False) for t in targets if t not in covered] + [(t, True) for t in targets if t in covered]




