"""Property-based fuzzing of every form.

Field values are drawn from nasty text (combining marks, NFD Vietnamese, right-to-left
overrides, zero-width characters, NUL, lone surrogates, 10,000-character strings) and
raw bytes that are not UTF-8, and posted as the browser would, byte for byte, with the
page's CSRF token. For every form:

- the answer is never a 500;
- a refusal (400/409/422, or a redirect with an error message) says why, in the
  language of the request, with messages that all come from our catalog;
- after a refusal nothing stored has changed (every table, village units included).

`test_every_form_is_fuzzed` lists the forms of the application from their classes, so
a new form needs a line here.
"""

from __future__ import annotations

import inspect

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lms.extensions import db
from tests.conftest import Factory, csrf_token
from tests.fuzz.conftest import (
    FUZZ,
    assert_translated_errors,
    changed_tables,
    field_value,
    nasty_text,
    post_raw,
    rolled_back,
    snapshot,
)
from tests.security.conftest import log_in

LANGUAGES = st.sampled_from(["vi", "en"])
REFUSED = (400, 409, 422)


@pytest.fixture
def people(make):
    """A commune with a village, its team member and official, and two learners."""
    from lms.learning.operations import complete_lesson
    from tests.certs.conftest import build_course

    village = make.village(name="Thôn Đông")
    course = build_course(db.session, lessons=1, questions=2)
    learner = make.learner(village=village, full_name="Bùi Thị Thu", login="bui.thi.thu", birth_year=1970, sex="female")
    other = make.learner(village=village, full_name="Bùi Văn Hải", login="bui.van.hai", birth_year=1965, sex="male")
    for user in (learner, other):
        user.locale = None  # the language comes from the request
    for lesson in course.lessons:
        complete_lesson(learner.learner, lesson)
    people = {"member": make.staff("team_member"), "official": make.staff("commune_official"),
              "learner": learner, "other": other, "village": village, "course": course}
    db.session.commit()
    return people


def submit(app, who, url: str, fields: dict, language: str, *, ignore: tuple[str, ...] = ()):
    """Post the form and check the answer; returns (response, refused)."""
    client = app.test_client()
    if who is not None:
        log_in(client, who)
    token = csrf_token(client, "/privacy")  # before the snapshot: some pages record a visit
    db.session.expire_all()
    before = snapshot(ignore=ignore)
    response = post_raw(client, url, fields, token=token, language=language)
    where = f"POST {url} {fields!r:.300}"
    assert response.status_code < 500, where
    body = response.get_data(as_text=True)
    refused = response.status_code in REFUSED
    if response.status_code == 302:
        with client.session_transaction() as state:
            flashes = list(state.get("_flashes", []))
        if any(category == "error" for category, _message in flashes):
            refused = True
            body = client.get(response.headers["Location"], headers={"Accept-Language": language}
                              ).get_data(as_text=True)
    if refused:
        if response.status_code == 409:
            assert 'class="flash flash-error"' in body, where  # the possible duplicates, listed
        else:
            assert_translated_errors(body, language, where)
        db.session.expire_all()
        after = snapshot(ignore=ignore)
        assert after == before, f"{where} was refused but changed {changed_tables(before, after)}"
    return response, refused


def text_or(valid: str):
    """A nasty value, or a valid one (so that the other fields get checked too)."""
    return st.one_of(st.just(valid), field_value)


@given(data=st.fixed_dictionaries({
    "full_name": text_or("Nguyễn Thị Mới"), "login": text_or("nguoi.moi"), "password": text_or("mat khau 123"),
    "birth_year": text_or("1980"), "sex": st.sampled_from(["", "female", "male", "x"]) | field_value,
    "village": text_or(""), "consent": st.sampled_from(["y", ""]) | field_value}), language=LANGUAGES)
@FUZZ
def test_signup(app, people, data, language):
    with rolled_back():
        submit(app, None, "/signup?province=01&commune=00070", data, language)


@given(data=st.fixed_dictionaries({"login": text_or("bui.thi.thu"), "password": text_or(Factory.password),
                                   "remember": text_or("y")}), language=LANGUAGES)
@FUZZ
def test_login(app, people, data, language):
    with rolled_back():
        submit(app, None, "/login", data, language, ignore=("login_failures",))


@given(data=st.fixed_dictionaries({"current_password": text_or(Factory.password),
                                   "new_password": text_or("mat khau moi 9")}), language=LANGUAGES)
@FUZZ
def test_password_change(app, people, data, language):
    with rolled_back():
        submit(app, people["member"], "/account", data, language)


@given(data=st.fixed_dictionaries({"new_password": text_or("mat khau moi 9"),
                                   "confirm_password": text_or("mat khau moi 9")}), language=LANGUAGES)
@FUZZ
def test_choose_password(app, people, data, language):
    """The first password after a PIN login: refused answers are translated and store nothing."""
    with rolled_back():
        user = people["other"]
        user.must_change_password = True
        db.session.flush()  # not commit: that would end the savepoint each example is undone with
        client = app.test_client()
        log_in(client, user)
        token = csrf_token(client, "/account/choose-password")
        db.session.expire_all()
        before = snapshot()
        response = post_raw(client, "/account/choose-password", data, token=token, language=language)
        assert response.status_code in (302, 422), data
        if response.status_code == 422:
            assert_translated_errors(response.get_data(as_text=True), language, f"choose {data!r:.200}")
            db.session.expire_all()
            assert snapshot() == before


@given(data=st.fixed_dictionaries({"token": text_or("1")}), language=LANGUAGES)
@FUZZ
def test_revoke_token(app, people, data, language):
    with rolled_back():
        response, _refused = submit(app, people["learner"], "/account/tokens/revoke", data, language)
        assert response.status_code == 302


@given(data=st.fixed_dictionaries({
    "full_name": text_or("Đoàn Văn Mới"), "birth_year": text_or("1975"),
    "sex": st.sampled_from(["female", "male", ""]) | field_value, "village": st.just("") | field_value,
    "phone": text_or(""), "national_id": text_or(""), "consent": st.sampled_from(["y", ""]) | field_value,
    "register_anyway": st.sampled_from(["", "y"])}), language=LANGUAGES)
@FUZZ
def test_learner_registration(app, people, data, language):
    with rolled_back():
        # An identity check is audited even when the form is refused (lms.duplicates): it must count.
        submit(app, people["member"], "/team/learners/new", data, language, ignore=("audit_events",))


@given(data=st.fixed_dictionaries({
    "full_name": text_or("Bùi Văn Hải"), "birth_year": text_or("1965"), "sex": st.sampled_from(["male", ""]) | field_value,
    "village": st.just("") | field_value, "phone": text_or(""), "national_id": text_or("001065012345"),
    "clear_national_id": st.sampled_from(["", "y"])}), language=LANGUAGES)
@FUZZ
def test_learner_edit(app, people, data, language):
    with rolled_back():
        url = f"/team/learners/{people['other'].learner.id}/edit"
        submit(app, people["member"], url, data, language, ignore=("audit_events",))


@given(data=st.fixed_dictionaries({"commune": text_or(""), "commune_code": text_or("00004")}), language=LANGUAGES)
@FUZZ
def test_learner_move(app, people, data, language):
    with rolled_back():
        submit(app, people["member"], f"/team/learners/{people['other'].learner.id}/move", data, language)


@given(data=st.fixed_dictionaries({"name": text_or("Thôn Mới"),
                                   "division_type": st.sampled_from(["thôn", "bản"]) | field_value}),
       language=LANGUAGES)
@FUZZ
def test_village_create(app, people, data, language):
    with rolled_back():
        submit(app, people["official"], "/villages", data, language)


@given(name=field_value, language=LANGUAGES)
@FUZZ
def test_village_rename(app, people, name, language):
    with rolled_back():
        village = people["village"]
        response, refused = submit(app, people["official"], f"/villages/{village.id}/rename", {"name": name},
                                   language)
        if not refused:  # accepted: stored cleaned (NFC, no invisible characters), never empty
            import unicodedata

            db.session.refresh(village)
            assert village.name and village.name == unicodedata.normalize("NFC", village.name)
            assert "\u202e" not in village.name and "\u200b" not in village.name and "\x00" not in village.name


@given(data=st.fixed_dictionaries({"adults": text_or("5000"), "due_on": text_or("2027-12-31")}), language=LANGUAGES)
@FUZZ
def test_targets(app, people, data, language):
    with rolled_back():
        unit = people["village"].commune_id
        submit(app, people["official"], f"/statistics/units/{unit}/target", data, language)


@given(data=st.fixed_dictionaries({"full_name": text_or("Bùi Thị Thu"), "birth_year": text_or("1970"),
                                   "village": st.just("") | field_value}), language=LANGUAGES)
@FUZZ
def test_my_data_correction(app, people, data, language):
    with rolled_back():
        submit(app, people["learner"], "/my-data", data, language)


@given(answers=st.dictionaries(st.sampled_from(["q1", "q2"]) | nasty_text,
                               st.lists(st.sampled_from(["0", "1", "2", "-1"]) | field_value, max_size=3),
                               max_size=3), language=LANGUAGES)
@FUZZ
def test_quiz_submit(app, people, answers, language):
    with rolled_back():
        url = f"/courses/{people['course'].slug}/quiz"
        submit(app, people["learner"], url, dict(answers), language)


@given(reason=field_value, language=LANGUAGES)
@FUZZ
def test_revocation_reason(app, people, reason, language):
    from lms.certs.queries import certificates_of
    from tests.certs.conftest import complete_course

    with rolled_back():
        complete_course(people["other"].learner, people["course"])
        (certificate,) = certificates_of(people["other"].learner)
        db.session.flush()
        page = f"/certificates/manage/{certificate.serial}"
        submit(app, people["official"], page + "/revoke", {"reason": reason}, language)


@given(data=st.fixed_dictionaries({"match": text_or("not-a-signed-match"), "full_name": text_or("Bùi Văn Hải"),
                                   "note": text_or("")}), language=LANGUAGES)
@FUZZ
def test_duplicate_request(app, people, data, language):
    with rolled_back():
        submit(app, people["member"], "/duplicates", data, language)


@given(data=st.fixed_dictionaries({"outcome": st.sampled_from(["dismissed", "moved", ""]) | field_value,
                                   "resolution_note": text_or("")}), language=LANGUAGES)
@FUZZ
def test_duplicate_resolution(app, people, data, language):
    from lms.duplicates.models import DuplicateRequest

    with rolled_back():
        member, other = people["member"], people["other"].learner
        request = DuplicateRequest(commune_id=member.scope_unit_id, filed_by_id=member.id, kind="national_id",
                                   existing_learner_id=other.id, full_name="Bùi Văn Hải", status="open")
        db.session.add(request)
        db.session.flush()
        # A refusal leads back to the list, which audits the official's view of the existing record.
        submit(app, people["official"], f"/duplicates/{request.id}/resolve", data, language,
               ignore=("audit_events",))


@given(code=field_value, language=LANGUAGES)
@FUZZ
def test_verify_form(app, people, code, language):
    """A GET form: the code travels in the address (bytes percent-encoded as they come)."""
    from urllib.parse import quote_from_bytes

    raw = code if isinstance(code, bytes) else code.encode("utf-8", "surrogatepass")
    client = app.test_client()
    for url in (f"/verify?code={quote_from_bytes(raw)}", f"/verify/{quote_from_bytes(raw, safe='')}"):
        response = client.get(url, headers={"Accept-Language": language})
        assert response.status_code < 500, url
        if response.status_code in (400, 422):
            assert_translated_errors(response.get_data(as_text=True), language, url)


@given(q=field_value, language=LANGUAGES)
@FUZZ
def test_learner_search(app, people, q, language):
    from urllib.parse import quote_from_bytes

    raw = q if isinstance(q, bytes) else q.encode("utf-8", "surrogatepass")
    client = app.test_client()
    log_in(client, people["member"])
    for url in (f"/team/learners?q={quote_from_bytes(raw)}", f"/team/learners/export.csv?q={quote_from_bytes(raw)}",
                f"/certificates/issued?date_from={quote_from_bytes(raw)}"):
        response = client.get(url, headers={"Accept-Language": language})
        assert response.status_code < 500, url


@given(language_field=field_value, next_field=field_value, language=LANGUAGES)
@FUZZ
def test_language_and_text_size(app, people, language_field, next_field, language):
    client = app.test_client()
    for url in ("/language", "/text-size"):
        response = post_raw(client, url, {"language": language_field, "next": next_field}, language=language)
        assert response.status_code == 302, url
        location = response.headers["Location"]
        assert location.startswith("/") and not location.startswith("//"), location  # never off-site


FUZZED_FORMS = {
    "LoginForm", "SignupForm", "ChangePasswordForm", "RegisterForm", "EditForm", "MoveForm", "VillageForm",
    "RenameVillageForm", "SelfCorrectForm", "ReasonForm", "VerifyForm", "SearchForm", "LanguageForm",
    "FileRequestForm", "ResolveForm",
    "ChoosePasswordForm", "RevokeTokenForm",
    # Covered elsewhere: the import upload and its confirmation (tests/fuzz/test_import.py); check boxes
    # only (a confirmation tick, the card reissue choice); the certificate filters (test_learner_search).
    "UploadForm", "ConfirmImportForm", "ConfirmForm", "CardsForm", "CertificateFilterForm",
    # Base classes, not forms of their own.
    "BaseForm", "LearnerForm",
}


def test_every_form_is_fuzzed():
    import importlib
    import pkgutil

    import lms
    from lms.forms import BaseForm

    forms = set()
    for module_info in pkgutil.walk_packages(lms.__path__, "lms."):
        if module_info.name.endswith(".forms"):
            module = importlib.import_module(module_info.name)
            forms |= {name for name, value in inspect.getmembers(module, inspect.isclass)
                      if issubclass(value, BaseForm) and value.__module__ == module.__name__}
    assert forms - FUZZED_FORMS == set(), "new forms need a fuzz test"
