"""Public verification: misses are limited per address (HTML and API alike), hits never are."""

from __future__ import annotations

import pytest
from markupsafe import escape

from certificates import make_verification_code
from lms.certs.models import VerificationMiss
from lms.certs.verification import limit_message
from lms.extensions import db

LANGS = ["vi", "en"]
PROBE, OTHER = "203.0.113.7", "198.51.100.20"


def unknown_code(n: int) -> str:
    """A well-formed code (its check character right) that no certificate has."""
    return make_verification_code(b"a key that is not ours", f"2026-{n:06d}")


def get(client, url: str, address: str, lang: str = "vi"):
    return client.get(url, headers={"Accept-Language": lang}, environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def limit(app):
    return app.config["VERIFY_MAX_MISSES_PER_ADDRESS"]


@pytest.fixture
def certificate(graduate):
    _user, certificate = graduate(full_name="Trần Văn Bảy")
    return certificate


@pytest.mark.parametrize("lang", LANGS)
def test_misses_are_limited_with_a_clear_page(app, client, certificate, limit, lang):
    for n in range(limit):
        assert get(client, f"/verify/{unknown_code(n)}", PROBE, lang).status_code == 404
    response = get(client, f"/verify/{unknown_code(limit)}", PROBE, lang)
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html and 'data-status="limited"' in html
    with app.test_request_context(headers={"Accept-Language": lang}):
        assert str(escape(str(limit_message()))) in html
    assert int(response.headers["Retry-After"]) == app.config["VERIFY_MISS_WINDOW_SECONDS"]
    # Once limited, a hit is refused too: answering it would tell hits from misses.
    assert get(client, f"/verify/{certificate.verification_code}", PROBE, lang).status_code == 429
    # Another address is not stopped by the first one's misses.
    hit = get(client, f"/verify/{certificate.verification_code}", OTHER, lang)
    assert hit.status_code == 200 and "Trần Văn Bảy" in hit.get_data(as_text=True)


def test_hits_never_count(client, certificate, limit):
    for _ in range(limit + 5):
        assert get(client, f"/verify/{certificate.verification_code}", PROBE).status_code == 200
    assert get(client, f"/verify/{unknown_code(1)}", PROBE).status_code == 404


def test_api_shares_the_limit(client, certificate, limit):
    """Misses through the page and the API add up, and the API answers 429 in JSON."""
    for n in range(limit // 2):
        assert get(client, f"/verify/{unknown_code(n)}", PROBE).status_code == 404
    for n in range(limit // 2, limit):
        assert get(client, f"/api/v1/certificates/{unknown_code(n)}", PROBE).status_code == 404
    response = get(client, f"/api/v1/certificates/{certificate.verification_code}", PROBE, "en")
    assert response.status_code == 429
    assert response.get_json()["code"] == "verify-limited" and response.content_type == "application/problem+json"
    assert "Retry-After" in response.headers
    assert get(client, f"/api/v1/certificates/{certificate.verification_code}", OTHER).status_code == 200


def test_mistyped_codes_do_not_count(client, certificate, limit):
    mistyped = "A" * 11  # fails the check character before any lookup
    for _ in range(limit + 5):
        assert get(client, f"/verify/{mistyped}", PROBE).status_code == 400
    assert get(client, f"/verify/{certificate.verification_code}", PROBE).status_code == 200


def test_old_misses_leave_the_window(app, client, certificate, limit, monkeypatch):
    for n in range(limit):
        get(client, f"/verify/{unknown_code(n)}", PROBE)
    assert get(client, f"/verify/{certificate.verification_code}", PROBE).status_code == 429
    monkeypatch.setitem(app.config, "VERIFY_MISS_WINDOW_SECONDS", 0)  # every miss so far is now older
    assert get(client, f"/verify/{certificate.verification_code}", PROBE).status_code == 200
    get(client, f"/verify/{unknown_code(999)}", PROBE)  # a new miss deletes the expired ones
    assert db.session.scalar(db.select(db.func.count()).select_from(VerificationMiss)) <= 1


def test_no_address_is_stored(client, db_session):
    get(client, f"/verify/{unknown_code(5)}", PROBE)
    keys = list(db.session.scalars(db.select(VerificationMiss.address_key)))
    assert keys and all(PROBE not in key for key in keys)
