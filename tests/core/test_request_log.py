"""One log line per request with a request id, and nothing in the log that names a person."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lms import create_app
from lms.config import TestConfig, UnsafeProductionConfigError

ROOT = Path(__file__).resolve().parents[2]
NAME = "Nguyễn Văn Bình"
NATIONAL_ID = "001203004567"


def test_every_response_carries_a_request_id(client):
    first = client.get("/courses").headers["X-Request-ID"]
    second = client.get("/courses").headers["X-Request-ID"]
    assert len(first) == 16 and first != second


def test_a_plain_incoming_request_id_is_kept_and_a_strange_one_replaced(client):
    assert client.get("/courses", headers={"X-Request-ID": "proxy-1234abcd"}).headers["X-Request-ID"] == "proxy-1234abcd"
    strange = client.get("/courses", headers={"X-Request-ID": "x" * 65}).headers["X-Request-ID"]
    assert strange != "x" * 65 and len(strange) == 16
    injected = client.get("/courses", headers={"X-Request-ID": "abc def; rm"}).headers["X-Request-ID"]
    assert " " not in injected


def test_one_line_per_request_without_the_query_string(client, caplog):
    caplog.set_level(logging.INFO, logger="lms.request")
    response = client.get("/courses", query_string={"q": NAME, "id": NATIONAL_ID})
    lines = [record for record in caplog.records if record.name == "lms.request"]
    assert len(lines) == 1
    message = lines[0].getMessage()
    assert message.startswith("GET /courses ") and f" {response.status_code} " in message
    assert lines[0].request_id == response.headers["X-Request-ID"]
    assert "Nguy" not in message and NATIONAL_ID not in message


def _app_with_failing_route(**overrides):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://", **overrides)

    @app.get("/boom")
    def boom():
        raise ValueError(f"cannot draw {NAME} {NATIONAL_ID}")

    return app


def test_an_unhandled_error_is_logged_by_type_and_place_without_its_message(capsys):
    app = _app_with_failing_route()
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    err = capsys.readouterr().err
    assert "ValueError: (message withheld" in err and "in boom" in err
    assert "Nguy" not in err and NATIONAL_ID not in err
    assert f"[{response.headers['X-Request-ID']}]" in err


def test_an_exception_passed_as_an_argument_is_reduced_to_its_type(app, capsys):
    with app.test_request_context("/"):
        app.logger.warning("database unavailable: %s", RuntimeError(f"INSERT ... ('{NAME}')"))
    err = capsys.readouterr().err
    assert "database unavailable: builtins.RuntimeError" in err and "Nguy" not in err


def test_messages_can_be_shown_for_local_debugging(capsys):
    app = _app_with_failing_route(LOG_EXCEPTION_MESSAGES=True)
    app.test_client().get("/boom")
    assert NAME in capsys.readouterr().err
    _app_with_failing_route()  # the process-wide handler back to withholding, for later tests


PRODUCTION_SECRETS = {"SECRET_KEY": "s" * 40, "IDENTITY_HASH_KEY": "i" * 40, "CERTIFICATE_KEY": "c" * 40}


@pytest.mark.parametrize("missing", ["SECRET_KEY", "IDENTITY_HASH_KEY", "CERTIFICATE_KEY"])
def test_production_refuses_a_missing_or_short_secret(missing):
    settings = dict(PRODUCTION_SECRETS, LMS_ENV="production", SESSION_COOKIE_SECURE=True,
                    SQLALCHEMY_DATABASE_URI="sqlite://")
    settings[missing] = None
    with pytest.raises(UnsafeProductionConfigError, match=missing):
        create_app(TestConfig, **settings)
    settings[missing] = "short"
    with pytest.raises(UnsafeProductionConfigError, match=missing):
        create_app(TestConfig, **settings)


def test_production_refuses_insecure_cookies_and_starts_when_all_is_set():
    settings = dict(PRODUCTION_SECRETS, LMS_ENV="production", SQLALCHEMY_DATABASE_URI="sqlite://")
    with pytest.raises(UnsafeProductionConfigError, match="SESSION_COOKIE_SECURE"):
        create_app(TestConfig, SESSION_COOKIE_SECURE=False, **settings)
    app = create_app(TestConfig, SESSION_COOKIE_SECURE=True, **settings)
    assert app.config["SECRET_KEY"] == "s" * 40


def test_a_production_server_process_does_not_start_on_generated_secrets(tmp_path):
    env = {key: value for key, value in os.environ.items()
           if key not in {"SECRET_KEY", "IDENTITY_HASH_KEY", "CERTIFICATE_KEY"}}
    env.update(LMS_ENV="production", LMS_INSTANCE_DIR=str(tmp_path), PYTHONPATH=str(ROOT),
               DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "LMS_ENV=production refuses to start" in result.stderr
    assert not list(tmp_path.glob("*_key"))  # and no secret was generated on the way
