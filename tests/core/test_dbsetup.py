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
    ("POST", "/api/v1/progress", "BEGIN"),  # reads its token first; the batch is stored in a writing one
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


def test_begin_immediate_waits_in_short_steps_for_the_writer_and_gives_up_after_the_timeout(tmp_path, monkeypatch):
    """Another connection holds SQLite's writer lock: our BEGIN IMMEDIATE waits and gets
    it within milliseconds of its release (SQLite's own busy handler could sleep 100 ms a
    try), and gives up with "database is locked" once the busy timeout has passed."""
    import sqlite3
    import threading
    import time

    from lms import dbsetup

    path = tmp_path / "lock.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE t (x)")
    ours = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    released = []

    def release():
        time.sleep(0.15)
        released.append(time.monotonic())
        holder.execute("COMMIT")

    threading.Thread(target=release).start()
    dbsetup._begin_immediate(ours)
    waited_after_release = time.monotonic() - released[0]
    ours.execute("INSERT INTO t VALUES (1)")
    ours.execute("COMMIT")
    assert waited_after_release < 0.05
    assert ours.execute("PRAGMA busy_timeout").fetchone()[0] == 30000  # put back for every other statement

    holder.execute("BEGIN IMMEDIATE")
    monkeypatch.setattr(dbsetup, "BUSY_TIMEOUT_SECONDS", 0.05)
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        dbsetup._begin_immediate(ours)
    assert 0.05 <= time.monotonic() - started < 1
    holder.execute("ROLLBACK")
