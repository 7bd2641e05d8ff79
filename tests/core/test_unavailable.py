"""While the database is unreachable (a PostgreSQL restart, a dropped connection) the
site answers 503 with Retry-After, a translated page or a JSON error: never a 500
traceback, and the next request after the outage works again."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from lms.extensions import db

BUSY_VI = "Hệ thống đang bận"


def _server_gone(*args, **kwargs):
    """What psycopg raises, wrapped by SQLAlchemy, when PostgreSQL is restarted under a query."""
    raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


def _dead_connection(*args, **kwargs):
    """A real driver error: run a statement on a connection whose DBAPI connection was closed
    under it (a separate pool connection, so the test's own transaction is not touched)."""
    connection = db.engine.connect()
    try:
        connection.connection.dbapi_connection.close()
        connection.execute(text("SELECT 1"))
    finally:
        connection.close()


def _token(make) -> str:
    from lms.api.auth import issue_token

    user = make.learner()
    token = issue_token(user, "test device")
    db.session.commit()  # inside the test's transaction; survives the 503's rollback
    return token


def _assert_unavailable(response) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "Traceback" not in response.get_data(as_text=True)


def test_page_during_an_outage_is_a_translated_503(client, monkeypatch):
    monkeypatch.setattr("lms.learning.queries.published_courses", _server_gone)
    response = client.get("/courses")
    _assert_unavailable(response)
    assert response.mimetype == "text/html"
    assert BUSY_VI in response.get_data(as_text=True)


def test_page_in_english_says_so_too(client, monkeypatch):
    monkeypatch.setattr("lms.learning.queries.published_courses", _server_gone)
    response = client.get("/courses", headers={"Accept-Language": "en"})
    _assert_unavailable(response)
    assert "The service is busy" in response.get_data(as_text=True)


def test_outage_while_loading_the_account_is_503(client, make, login, monkeypatch):
    """The first query of a request is often Flask-Login loading the user: the error page
    must then not try to load it again."""
    login(make.learner())
    monkeypatch.setattr(db.session, "get", _server_gone)  # the account loader's first query
    response = client.get("/my-learning")
    _assert_unavailable(response)
    assert BUSY_VI in response.get_data(as_text=True)


def test_api_during_an_outage_is_json_503(client, monkeypatch):
    monkeypatch.setattr("lms.api.auth.find_token", _server_gone)
    response = client.get("/api/v1/courses", headers={"Authorization": "Bearer some-token"})
    _assert_unavailable(response)
    assert response.get_json()["code"] == "service-unavailable"


def test_commit_failing_after_the_view_is_503(app, client, make, monkeypatch):
    """The API commits a token's last use in after_request; Flask hands an error there to
    the error handlers wrapped in a 500, which must still become a 503."""
    token = _token(make)
    # Under TESTING Flask re-raises errors from after_request instead of handling them.
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setattr("lms.api.views._commit", _server_gone)
    response = client.get("/api/v1/courses", headers={"Authorization": f"Bearer {token}"})
    _assert_unavailable(response)
    assert response.get_json()["code"] == "service-unavailable"


def test_dead_connection_is_503_and_the_next_request_works(client, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr("lms.learning.queries.published_courses", _dead_connection)
        _assert_unavailable(client.get("/courses"))
    assert client.get("/courses").status_code == 200


def test_other_database_errors_stay_500(client, monkeypatch):
    def broken(*args, **kwargs):
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    monkeypatch.setattr("lms.learning.queries.published_courses", broken)
    response = client.get("/courses")
    assert response.status_code == 500
    assert "Retry-After" not in response.headers


@pytest.mark.parametrize("error", [
    OperationalError("SELECT 1", {}, Exception("database is locked")),
])
def test_unavailable_errors_are_recognised(error):
    from lms.core.errors import is_database_unavailable

    assert is_database_unavailable(error)
    assert not is_database_unavailable(ValueError("no"))
    assert not is_database_unavailable(None)


def test_database_gone_after_the_answer_keeps_the_answer(client, monkeypatch):
    """PostgreSQL restarted between the view's work and the end of the request: the
    session's closing ROLLBACK fails, and the finished answer must still go out."""
    real_remove = db.session.remove
    calls = []

    def remove():
        calls.append("remove")
        if len(calls) == 1:
            raise OperationalError("ROLLBACK", {}, Exception("server closed the connection unexpectedly"))
        real_remove()

    monkeypatch.setattr(db.session, "remove", remove)
    response = client.get("/courses")
    assert response.status_code == 200
    assert calls
