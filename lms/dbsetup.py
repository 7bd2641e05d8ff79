"""Engine settings that make SQLite and PostgreSQL behave alike.

SQLite gets foreign keys, WAL (readers never wait for the writer), a busy timeout, and
real transactions: Python's sqlite3 module (before 3.12) opens transactions lazily and
mishandles SAVEPOINT, so we take over BEGIN ourselves, as SQLAlchemy's docs advise.
"""

from __future__ import annotations

import sqlite3
import time

from flask import current_app, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine


def engine_options(app) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("sqlite"):
        options.setdefault("connect_args", {"timeout": 30})
    else:
        options.setdefault("pool_size", 10)
        options.setdefault("max_overflow", 10)
        # The application's queries are short index reads; PostgreSQL's parallel plans
        # cost more to start (5-7 ms launching workers) than such a query takes: a
        # dashboard's one rollup read went from 0.8 ms to 7 ms when one was chosen.
        # Whole-table work (the recount) turns them back on: `allow_parallel_scans`.
        connect_args = options.setdefault("connect_args", {})
        connect_args.setdefault("options", "-c max_parallel_workers_per_gather=0")
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


PARALLEL_WORKERS = 2  # PostgreSQL's own default


def allow_parallel_scans(connection) -> None:
    """Let PostgreSQL use parallel workers until the end of this transaction (scans of
    whole tables, as the recount does); nothing on SQLite."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL max_parallel_workers_per_gather = {PARALLEL_WORKERS}")


def install_engine_events(engine: Engine) -> None:
    if engine.dialect.name != "sqlite" or getattr(engine, "_lms_events", False):
        return
    engine._lms_events = True

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        statement = _begin_statement(connection)
        if statement == "BEGIN IMMEDIATE":
            _begin_immediate(connection.connection.dbapi_connection)
        else:
            connection.exec_driver_sql(statement)


BUSY_TIMEOUT_SECONDS = 30.0
FIRST_WAIT_SECONDS = 0.0002
LONGEST_WAIT_SECONDS = 0.004


def _begin_immediate(dbapi_connection) -> None:
    """BEGIN IMMEDIATE, waiting for the writer's lock in short steps (0.2 ms, doubling up
    to 4 ms) for at most the busy timeout. SQLite's own busy handler sleeps up to 100 ms
    a try, so when many short writes queue (a province's phones syncing) each waited long
    after the lock was free: the writes ran at a fraction of what the disk allows."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout=0")
        deadline, wait = time.monotonic() + BUSY_TIMEOUT_SECONDS, FIRST_WAIT_SECONDS
        while True:
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
            time.sleep(wait)
            wait = min(wait * 2, LONGEST_WAIT_SECONDS)
    finally:
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
        cursor.close()


def _begin_statement(connection) -> str:
    """IMMEDIATE for transactions that may write, so two writers queue on the busy
    timeout instead of one failing with "database is locked" when it upgrades its
    read snapshot; plain (deferred) BEGIN for page reads, which WAL never blocks."""
    mode = connection.get_execution_options().get("sqlite_begin")
    if mode:
        return f"BEGIN {mode}"
    if has_request_context():
        view = current_app.view_functions.get(request.endpoint)
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return "BEGIN IMMEDIATE" if getattr(view, "writes_on_get", False) else "BEGIN"
        if getattr(view, "reads_before_writing", False):
            return "BEGIN"  # its writes come in a transaction of their own (`begin_writing`)
    return "BEGIN IMMEDIATE"


def reads_before_writing(view):
    """Mark a POST view that reads first (its token, what it checks) and then writes in a
    transaction it starts with `begin_writing`: on SQLite the one writer's lock is then
    held for the write alone, not while the request authenticates and parses (a
    province's phones syncing at once queue on that lock)."""
    view.reads_before_writing = True
    return view


def begin_writing(session) -> None:
    """End the reading transaction and start the writing one (on SQLite with the
    writer's lock taken at once, so the write never has to upgrade a read snapshot that
    another writer has made stale). On PostgreSQL nothing: rows lock one by one."""
    if session.get_bind().dialect.name != "sqlite":
        return
    if session().in_transaction():
        session.commit()
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


def writes_on_get(view):
    """Mark a GET view that writes (an audit row, a first-visit record), so on SQLite
    its transaction takes the write lock up front like a POST does."""
    view.writes_on_get = True
    return view
