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
