"""No national ID number or password in clear, in the database or in the logs.

Learners are registered with national ID numbers and passwords through every way in:
self sign-up, the team's registration and correction forms, the import, the password
change, the login form and the API's token request (the API registers nobody; it
takes passwords only there). A first PIN printed on a login card is included. Then:

- every string (and every string inside JSON) of every column of every table, read
  from the reflected schema, is searched for the 12-digit numbers, their longer
  suffixes and the passwords; the last four digits appear only where they are meant
  to be (`learners.national_id_last4`);
- every log record (captured at DEBUG) and an access-log line per request, as
  gunicorn would write it ("METHOD /path?query" status), are searched too, so an ID
  or a password sent in a URL would be caught.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re

import pytest
from flask import request_finished
from sqlalchemy import MetaData, select

from lms.extensions import db
from tests.conftest import post_form
from tests.security.conftest import log_in

SIGNUP_PASSWORD = "Mật khẩu bí mật 7391"
NEW_PASSWORD = "đổi mật khẩu 8462"
WRONG_PASSWORD = "sai mật khẩu 5173"
IDS = {  # how it reaches us → (12 digits, birth year, sex); last-4 digits above 9000 never look like a year
    "register": ("001080129357", 1980, "male"),
    "edit": ("001175239468", 1975, "female"),
    "import": ("001090349579", 1990, "male"),
    "rejected": ("001099459681", 1980, "male"),  # says born 1999: refused, never stored
}
LAST4_COLUMNS = {("learners", "national_id_last4")}


def strings(value):
    """Every string in a value (JSON included: keys and leaves)."""
    if isinstance(value, str):
        try:
            decoded = json.loads(value) if value[:1] in "[{" else None
        except ValueError:
            decoded = None
        yield value
        if decoded is not None:
            yield from strings(decoded)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item)


def database_strings():
    """(table, column, string) for every string stored, from the schema as it really is."""
    connection = db.session.connection()
    metadata = MetaData()
    metadata.reflect(bind=connection)
    for table in metadata.sorted_tables:
        for row in connection.execute(select(table)).mappings():
            for column, value in row.items():
                for text in strings(value):
                    yield table.name, column, text


def _spaced(number: str) -> list[str]:
    return [number, f"{number[:3]} {number[3:6]} {number[6:9]} {number[9:]}", f"{number[:6]}.{number[6:]}"]


def _forbidden_in(text: str, secrets: list[str]) -> list[str]:
    return [secret for secret in secrets if secret in text]


def _last4(number: str) -> re.Pattern:
    return re.compile(rf"(?<![0-9A-Fa-f]){number[-4:]}(?![0-9A-Fa-f])")


@pytest.fixture
def access_log(app):
    """One line per request, as gunicorn's access log writes it (the URL with its query)."""
    lines: list[str] = []

    def record(sender, response, **extra):
        from flask import request

        lines.append(f'{request.remote_addr} "{request.method} {request.full_path} HTTP/1.1" {response.status_code}')

    request_finished.connect(record, app)
    yield lines
    request_finished.disconnect(record, app)


@pytest.fixture
def registered(app, make, caplog, access_log):
    """Every way a national ID number or a password reaches the application."""
    caplog.set_level(logging.DEBUG)
    secrets_seen: list[str] = [SIGNUP_PASSWORD, NEW_PASSWORD, WRONG_PASSWORD]
    make.village(name="Thôn Đông")
    member = make.staff("team_member", username="secret.member")
    db.session.commit()

    # Self sign-up with a password, then a password change and failed logins.
    own = app.test_client()
    response = post_form(own, "/signup?province=01&commune=00070", {
        "full_name": "Đinh Thị Bí", "login": "0987000111", "password": SIGNUP_PASSWORD, "consent": "y",
        "birth_year": "1975", "sex": "female"})
    assert response.status_code == 302
    assert post_form(own, "/account", {"current_password": WRONG_PASSWORD, "new_password": NEW_PASSWORD}
                     ).status_code == 422
    assert post_form(own, "/account", {"current_password": SIGNUP_PASSWORD, "new_password": NEW_PASSWORD}
                     ).status_code == 302
    assert post_form(app.test_client(), "/login", {"login": "0987000111", "password": WRONG_PASSWORD}
                     ).status_code == 422
    api = app.test_client()
    assert api.post("/api/v1/tokens", json={"login": "0987000111", "password": WRONG_PASSWORD, "name": "app"}
                    ).status_code == 401
    assert api.post("/api/v1/tokens", json={"login": "0987000111", "password": NEW_PASSWORD, "name": "app"}
                    ).status_code == 201

    # The team: registration with an ID (and a refused one), then a correction with another ID.
    team = app.test_client()
    log_in(team, member)
    number, year, sex = IDS["register"]
    response = post_form(team, "/team/learners/new", {"full_name": "Đinh Văn Số", "birth_year": str(year), "sex": sex,
                                                      "national_id": _spaced(number)[1], "consent": "y"})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    pin = re.search(r"<strong>(\d{8})</strong>", response.get_data(as_text=True)).group(1)
    secrets_seen.append(pin)
    number, year, sex = IDS["rejected"]
    response = post_form(team, "/team/learners/new", {"full_name": "Đinh Văn Sai", "birth_year": str(year),
                                                      "sex": sex, "national_id": number, "consent": "y"})
    assert response.status_code == 422
    edited = make.learner(full_name="Đinh Thị Sửa", birth_year=1975, sex="female", login="dinh.thi.sua")
    number, year, sex = IDS["edit"]
    response = post_form(team, f"/team/learners/{edited.learner.id}/edit", {
        "full_name": "Đinh Thị Sửa", "birth_year": "1975", "sex": "female", "national_id": number})
    assert response.status_code == 302

    # The import, confirmed: the staged rows are gone, the learner is created.
    number, year, sex = IDS["import"]
    rejected = IDS["rejected"][0]
    data = (f"Họ và tên,Năm sinh,Giới tính,Số CCCD\nĐinh Văn Nhập,{year},Nam,{number}\n"
            f"Đinh Văn Hỏng,1980,Nam,{rejected}\n").encode()
    response = post_form(team, "/team/import", {"file": (io.BytesIO(data), "list.csv")},
                         content_type="multipart/form-data")
    assert response.status_code == 302
    preview = response.headers["Location"]
    assert post_form(team, preview + "/confirm", {"consent": "y"}, page=preview).status_code == 302
    db.session.expire_all()
    return secrets_seen, caplog, access_log


def test_no_id_number_or_password_in_the_database(registered):
    from lms.learners.models import Learner

    passwords, _caplog, _access = registered
    numbers = [form for number, _y, _s in IDS.values() for form in _spaced(number)]
    suffixes = [number[-k:] for number, _y, _s in IDS.values() for k in range(5, 12)]
    last4 = {key: _last4(number) for key, (number, _y, _s) in IDS.items()}
    found, seen_last4 = [], set()
    for table, column, text in database_strings():
        for secret in _forbidden_in(text, numbers + suffixes + passwords):
            found.append(f"{table}.{column} holds {secret!r}")
        for key, pattern in last4.items():
            if pattern.search(text):
                if (table, column) in LAST4_COLUMNS and key != "rejected":
                    seen_last4.add(key)
                else:
                    found.append(f"{table}.{column} holds the last digits of the {key} ID: {text[:80]!r}")
    assert not found, "\n".join(found)
    assert seen_last4 == {"register", "edit", "import"}, "the last four digits are kept for display"
    # What is kept instead: a keyed hash, never a plain hash of the number.
    hashes = set(db.session.scalars(select(Learner.national_id_hash).where(Learner.national_id_hash.is_not(None))))
    assert len(hashes) >= 3
    for number, _y, _s in IDS.values():
        assert hashlib.sha256(number.encode()).hexdigest() not in hashes


def test_no_id_number_or_password_in_the_logs(registered):
    passwords, caplog, access = registered
    numbers = [form for number, _y, _s in IDS.values() for form in _spaced(number)]
    assert access, "requests were logged"
    lines = [record.getMessage() for record in caplog.records] + [str(record.args) for record in caplog.records]
    lines += [record.exc_text or "" for record in caplog.records] + access
    for line in lines:
        assert not _forbidden_in(line, numbers + passwords), line


def test_password_hashes_are_salted_and_slow(registered):
    from lms.accounts.models import User

    hashes = list(db.session.scalars(select(User.password_hash).where(User.password_hash != "")))
    assert hashes and all(h.startswith("scrypt:") and h.count("$") == 2 for h in hashes)
    assert len(set(hashes)) == len(hashes)


def test_identity_key_is_not_the_session_key(app):
    assert app.config["IDENTITY_HASH_KEY"] and app.config["IDENTITY_HASH_KEY"] != app.config["SECRET_KEY"]
