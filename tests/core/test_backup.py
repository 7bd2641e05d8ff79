"""`flask backup create|restore`, run as the operator runs them (a subprocess), on a
database of their own: a temporary SQLite file, and on PostgreSQL (when TEST_DATABASE_URL
is set and pg_dump is installed) a throw-away database on the same server. Never the
shared test database.

The round trip: rows changed, deleted and added after a backup are back, equal, once
it is restored; a restore without --yes, of another schema revision, or of a damaged
file changes nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from lms.backup import operations

ROOT = Path(__file__).resolve().parents[2]
SEED = """
from lms import create_app
runner = create_app().test_cli_runner()
for args in (["db", "upgrade"], ["units", "load"], ["courses", "load"], ["demo", "load"]):
    result = runner.invoke(args=args)
    assert result.exit_code == 0, (args, result.output, result.exception)
"""
ENGINES = ["sqlite", "postgresql"]


def _postgres_server() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


@pytest.fixture(scope="module", params=ENGINES)
def instance(request, tmp_path_factory):
    """The environment of an instance with its own seeded database (demo data: learners,
    progress, quiz attempts, certificates, counters)."""
    folder = tmp_path_factory.mktemp(f"backup-{request.param}")
    drop = None
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'lms.sqlite3'}"
    else:
        server = _postgres_server()
        if server is None or shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
            pytest.skip("needs TEST_DATABASE_URL (PostgreSQL) and pg_dump/pg_restore on PATH")
        name = f"{make_url(server).database}_backup_test{os.environ.get('PYTEST_XDIST_WORKER', '')}"
        admin = create_engine(server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(server).set(database=name).render_as_string(hide_password=False)

        def drop():
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FLASK_APP": "wsgi.py", "LMS_INSTANCE_DIR": str(folder / "instance"),
           "DATABASE_URL": url, "PASSWORD_HASH_METHOD": "scrypt:1024:8:1", "LMS_NEW_PASSWORD": "correct horse 42"}
    try:
        done = subprocess.run([sys.executable, "-c", SEED], cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
        yield {"env": env, "url": url, "folder": folder}
    finally:
        if drop:
            drop()


def flask(instance, *args):
    return subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=instance["env"],
                          capture_output=True, text=True)


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table (alembic_version included), in a stable order."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return {name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
                    for name, table in metadata.tables.items()}
    finally:
        engine.dispose()


def change_everything(instance) -> None:
    """What happens after a backup: an account added through the CLI; rows changed and deleted."""
    done = flask(instance, "accounts", "create-staff", "--role", "national_admin", "--username", "after-backup")
    assert done.returncode == 0, done.stderr
    engine = create_engine(instance["url"], poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE learners SET full_name = 'Tên Đã Đổi'"))
            connection.execute(text("UPDATE certificates SET is_revoked = TRUE"))
            connection.execute(text("DELETE FROM quiz_attempts"))
            connection.execute(text("DELETE FROM stat_rollups"))
    finally:
        engine.dispose()


def backup(instance, name: str) -> Path:
    path = instance["folder"] / name
    done = flask(instance, "backup", "create", str(path))
    assert done.returncode == 0, done.stderr
    return path


@pytest.mark.slow
def test_backup_then_restore_brings_every_row_back(instance):
    before = snapshot(instance["url"])
    assert before["certificates"] and before["quiz_attempts"] and before["learners"]
    path = backup(instance, "round-trip.backup")

    manifest = json.loads(operations.manifest_path(path).read_text())
    assert manifest["engine"] == make_url(instance["url"]).get_backend_name()
    assert [manifest["alembic_revision"]] == [row[0] for row in before["alembic_version"]]
    assert manifest["row_counts"]["certificates"] == len(before["certificates"])
    assert manifest["row_counts"]["units"] == len(before["units"])

    change_everything(instance)
    changed = snapshot(instance["url"])
    assert changed != before and not changed["quiz_attempts"]

    refused = flask(instance, "backup", "restore", str(path))
    assert refused.returncode != 0 and "--yes" in refused.stderr
    assert snapshot(instance["url"]) == changed

    done = flask(instance, "backup", "restore", str(path), "--yes")
    assert done.returncode == 0, done.stderr
    assert "as in the manifest" in done.stdout
    assert snapshot(instance["url"]) == before
    # The snapshot carries its counters: the figures equal a recount of the restored rows
    # (demo load, through the writer, made them; the changes after the backup are gone).
    recount = flask(instance, "statistics", "recount")
    assert recount.returncode == 0 and "0 counters differ" in recount.stdout, recount.stdout + recount.stderr
    check = flask(instance, "statistics", "check", "--seconds", "600", "--pace", "1")
    assert check.returncode == 0 and ": 0 rows differ" in check.stdout, check.stdout + check.stderr


@pytest.mark.slow
def test_restore_refuses_another_schema_revision(instance):
    path = backup(instance, "other-revision.backup")
    manifest_file = operations.manifest_path(path)
    manifest = json.loads(manifest_file.read_text())
    manifest["alembic_revision"] = "0123456789ab"
    manifest_file.write_text(json.dumps(manifest))
    before = snapshot(instance["url"])
    done = flask(instance, "backup", "restore", str(path), "--yes")
    assert done.returncode != 0
    assert "schema revision 0123456789ab" in done.stderr
    assert snapshot(instance["url"]) == before


@pytest.mark.slow
def test_restore_refuses_a_damaged_file(instance):
    path = backup(instance, "damaged.backup")
    with path.open("r+b") as handle:
        handle.seek(path.stat().st_size // 2)
        handle.write(b"\x00damage\x00")
    done = flask(instance, "backup", "restore", str(path), "--yes")
    assert done.returncode != 0
    assert "does not match its manifest" in done.stderr


@pytest.mark.slow
def test_create_does_not_overwrite_without_force(instance):
    path = backup(instance, "twice.backup")
    again = flask(instance, "backup", "create", str(path))
    assert again.returncode != 0 and "already exists" in again.stderr
    forced = flask(instance, "backup", "create", str(path), "--force")
    assert forced.returncode == 0, forced.stderr


def test_restore_without_manifest_says_what_is_missing(tmp_path, app):
    lonely = tmp_path / "lonely.backup"
    lonely.write_bytes(b"data")
    with app.app_context(), pytest.raises(operations.BackupError, match="manifest"):
        operations.check_backup(lonely)


# --- PostgreSQL client programs (no server needed) ----------------------------------------

class FakeConnection:
    def __init__(self, server_version_num: str):
        self.version = server_version_num

    def scalar(self, statement):
        return self.version


def test_missing_pg_dump_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(operations.BackupError, match="pg_dump is not on PATH"):
        operations._tool("pg_dump")


def test_pg_dump_older_than_the_server_is_refused(monkeypatch):
    monkeypatch.setattr(operations, "_tool", lambda name: ("/usr/bin/pg_dump", 14, "pg_dump (PostgreSQL) 14.9"))
    with pytest.raises(operations.BackupError, match="version 14 but the server is version 16"):
        operations._check_tool("pg_dump", FakeConnection("160002"))
    assert operations._check_tool("pg_dump", FakeConnection("140011"))[0] == "/usr/bin/pg_dump"


def test_password_goes_to_the_environment_not_the_command_line():
    target, env = operations.libpq_target(make_url("postgresql+psycopg://lms:s3cret@127.0.0.1:5432/lms"))
    assert target == "postgresql://lms@127.0.0.1:5432/lms"
    assert env["PGPASSWORD"] == "s3cret"
