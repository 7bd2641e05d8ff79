"""The installable web app and weak-network delivery: manifest, service worker, icons,
versioned static URLs with long caching, and gzip (lms/core/delivery.py)."""

from __future__ import annotations

import gzip
import re

import pytest

from lms.core.delivery import STATIC_MAX_AGE


def _static_url(client, name: str) -> str:
    page = client.get("/courses").get_data(as_text=True)
    match = re.search(r'(?:href|src)="(/static/' + re.escape(name) + r'\?v=[0-9a-f]{12})"', page)
    assert match, f"{name} is not linked with a version"
    return match.group(1)


@pytest.mark.parametrize(("lang", "name"), [("vi", "Bình dân học vụ số"), ("en", "Digital Literacy for All")])
def test_manifest_names_the_app_in_the_language_asked_for(client, lang, name):
    response = client.get(f"/manifest.webmanifest?lang={lang}")
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    body = response.get_json()
    assert body["name"] == name and body["lang"] == lang
    assert body["start_url"] == "/" and body["scope"] == "/" and body["display"] == "standalone"
    assert body["theme_color"] == "#0b5394"
    for icon in body["icons"]:
        image = client.get(icon["src"], buffered=True)
        assert image.status_code == 200 and image.mimetype == "image/png"
        assert image.data.startswith(b"\x89PNG")


def test_pages_link_the_manifest_the_icon_and_the_worker(client):
    page = client.get("/").get_data(as_text=True)
    assert 'rel="manifest" href="/manifest.webmanifest?lang=vi"' in page
    assert '<meta name="theme-color" content="#0b5394">' in page
    assert re.search(r'data-sw="/sw.js\?v=[0-9a-f]{12}"', page)


def test_the_service_worker_is_served_at_the_root_and_never_kept(client):
    response = client.get("/sw.js", buffered=True)
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response.headers["Cache-Control"]
    source = response.get_data(as_text=True)
    assert 'importScripts("/static/js/offline.js?v="' in source and "addEventListener(\"fetch\"" in source


def test_versioned_static_files_are_kept_a_year(client):
    url = _static_url(client, "css/site.css")
    response = client.get(url, buffered=True)
    assert response.status_code == 200
    assert response.cache_control.max_age == STATIC_MAX_AGE and response.cache_control.immutable
    old = client.get("/static/css/site.css?v=000000000000", buffered=True)
    assert old.cache_control.no_cache and not old.cache_control.max_age


def test_text_is_gzipped_for_browsers_that_accept_it(client):
    url = _static_url(client, "css/site.css")
    plain = client.get(url, buffered=True)
    packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"}, buffered=True)
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == plain.data and len(packed.data) < len(plain.data) / 2
    page = client.get("/courses", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    assert "<!doctype html>" in gzip.decompress(page.data).decode()


def test_images_are_not_gzipped(client):
    url = _static_url(client, "icons/icon-192.png")
    response = client.get(url, headers={"Accept-Encoding": "gzip"}, buffered=True)
    assert "Content-Encoding" not in response.headers


def test_the_offline_help_page_speaks_both_languages(client):
    assert "Học khi không có mạng" in client.get("/help/offline").get_data(as_text=True)
    english = client.get("/help/offline", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Learning without a connection" in english
