"""SQLite transactions: writers take the lock up front, page reads do not."""

import pytest

from lms.dbsetup import _begin_statement


class FakeConnection:
    def __init__(self, **options):
        self.options = options

    def get_execution_options(self):
        return self.options


@pytest.mark.parametrize(("method", "path", "expected"), [
    ("GET", "/courses", "BEGIN"),
    ("GET", "/courses/scam-safety/lessons/x", "BEGIN"),
    ("POST", "/login", "BEGIN IMMEDIATE"),
    ("GET", "/certificates/2026-000001.pdf", "BEGIN IMMEDIATE"),  # writes an audit row
    ("GET", "/certificates/print.pdf", "BEGIN IMMEDIATE"),
])
def test_begin_mode_follows_the_request(app, method, path, expected):
    with app.test_request_context(path, method=method):
        assert _begin_statement(FakeConnection()) == expected


def test_outside_requests_commands_take_the_write_lock(app):
    assert _begin_statement(FakeConnection()) == "BEGIN IMMEDIATE"
    assert _begin_statement(FakeConnection(sqlite_begin="DEFERRED")) == "BEGIN DEFERRED"


def test_postgresql_plans_no_parallel_workers_except_for_whole_table_work(app, db_session):
    """Parallel workers cost more to start than the application's short reads take; the
    recount (and only it) turns them back on for its transaction."""
    from sqlalchemy import text

    from lms.dbsetup import PARALLEL_WORKERS, allow_parallel_scans
    from lms.extensions import db

    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL setting")
    setting = "SHOW max_parallel_workers_per_gather"
    assert db.session.execute(text(setting)).scalar() == "0"
    allow_parallel_scans(connection)
    assert db.session.execute(text(setting)).scalar() == str(PARALLEL_WORKERS)
