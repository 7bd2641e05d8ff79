from datetime import date

from flask_babel import refresh

from lms.extensions import db
from lms.i18n import local_date, number
from tests.conftest import csrf_token, post_form


def test_vietnamese_is_the_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="vi">' in page and "Đăng nhập" in page


def test_browser_language_is_followed(client):
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Log in" in page


def test_choice_is_remembered_in_session_and_on_the_account(client, make, login):
    response = post_form(client, "/language", {"language": "en", "next": "/login"}, page="/")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    user = make.learner(login="bac.hung")
    login(user)
    post_form(client, "/language", {"language": "en"}, page="/")
    db.session.refresh(user)
    assert user.locale == "en"
    # A new device: the account's choice wins over the browser's.
    from flask import current_app

    other = current_app.test_client()
    post_form(other, "/login", {"login": "bac.hung", "password": "correct horse 42"})
    assert '<html lang="en">' in other.get("/", headers={"Accept-Language": "vi"}).get_data(as_text=True)


def test_language_switch_never_redirects_off_site(client):
    response = client.post("/language", data={"language": "en", "next": "https://evil.example/",
                                              "csrf_token": csrf_token(client, "/")})
    assert response.headers["Location"] == "/"


def test_numbers_and_dates_follow_the_locale(app):
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        refresh()
        assert number(1234567) == "1.234.567"
        assert number(1234.5, 1) == "1.234,5"
        assert local_date(date(2026, 11, 22)) == "22/11/2026"
        assert local_date(date(2025, 7, 1)) == "01/07/2025"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        refresh()  # the test's app context cached the Vietnamese locale
        assert number(1234567) == "1,234,567"
        assert local_date(date(2026, 11, 22)) == "22 Nov 2026"
