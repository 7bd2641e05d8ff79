import re

import pytest

PUBLIC_PAGES = ["/", "/login", "/signup", "/privacy"]


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": True}


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_security_headers(client, url):
    response = client.get(url)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_pages_load_nothing_from_outside(client, url):
    page = client.get(url).get_data(as_text=True)
    for attr in re.findall(r'(?:src|href|action)="([^"]*)"', page):
        assert not re.match(r"^(https?:)?//", attr), f"{url} loads {attr}"


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_pages_have_language_and_labels(client, url):
    page = client.get(url).get_data(as_text=True)
    assert '<html lang="vi">' in page
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", page):
        field_id = re.search(r'\bid="([^"]+)"', tag)
        if 'type="hidden"' in tag or field_id is None:
            continue
        field_id = field_id.group(1)
        assert f'for="{field_id}"' in page, f"{url}: #{field_id} has no label"


def test_unknown_page_is_translated_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Trang này không tồn tại" in response.get_data(as_text=True)


def test_session_cookie_flags(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    from lms.config import Config

    assert Config.SESSION_COOKIE_SECURE is True or __import__("os").environ.get("SESSION_COOKIE_SECURE")
