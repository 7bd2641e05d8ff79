"""Create and restore backups (see the package docstring). Messages are for the operator
at the command line, in English like the rest of the CLI."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess  # nosec B404: runs pg_dump and pg_restore
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.pool import NullPool

from lms.extensions import db

FORMAT = "lms-backup"
FORMAT_VERSION = 1
SQLITE, POSTGRESQL = "sqlite", "postgresql"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass
class Manifest:
    engine: str
    alembic_revision: str
    row_counts: dict[str, int]
    sha256: str = ""
    size: int = 0
    file: str = ""
    tool: str = ""
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def write(self, path: Path) -> None:
        _write_atomically(path, json.dumps(asdict(self), indent=2, sort_keys=True).encode())

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise BackupError(f"{path} not found: a backup is the data file and its manifest, "
                              "made by `flask backup create`") from None
        except ValueError as error:
            raise BackupError(f"{path} is not a backup manifest ({error})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupError(f"{path} is not a backup manifest")
        if data.get("format_version") != FORMAT_VERSION:
            raise BackupError(f"{path} has manifest version {data.get('format_version')}; "
                              f"this code reads version {FORMAT_VERSION}")
        known = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in data.items() if key in known})


@dataclass
class RestoreReport:
    manifest: Manifest
    row_counts: dict[str, int]

    @property
    def differences(self) -> dict[str, tuple[int, int | None]]:
        """{table: (rows in the manifest, rows after the restore)} where they differ."""
        return {table: (count, self.row_counts.get(table)) for table, count in self.manifest.row_counts.items()
                if self.row_counts.get(table) != count}


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".manifest.json")


# --- Shared pieces ----------------------------------------------------------------------

def schema_head() -> str:
    """The schema revision this code expects (the head of migrations/)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", current_app.extensions["migrate"].directory)
    heads = ScriptDirectory.from_config(config).get_heads()
    if len(heads) != 1:
        raise BackupError(f"the migrations have {len(heads)} heads; expected one")
    return heads[0]


def stored_revision(connection: Connection) -> str:
    try:
        revisions = list(connection.scalars(text("SELECT version_num FROM alembic_version")))
    except Exception as error:  # noqa: BLE001 - any failure means "not a migrated database"
        raise BackupError(f"the database has no schema revision (run `flask db upgrade`): {error}") from None
    if len(revisions) != 1:
        raise BackupError(f"the database has {len(revisions)} schema revisions; expected one")
    return revisions[0]


def count_rows(connection: Connection) -> dict[str, int]:
    """Rows in every table of the schema."""
    return {table.name: connection.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)


def _finish(partial: Path, path: Path, manifest: Manifest) -> Manifest:
    """Move the finished data file into place and write its manifest beside it."""
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    manifest.sha256, manifest.size, manifest.file = _sha256(partial), partial.stat().st_size, path.name
    partial.replace(path)
    manifest.write(manifest_path(path))
    return manifest


def engine_name() -> str:
    name = db.engine.dialect.name
    if name not in (SQLITE, POSTGRESQL):
        raise BackupError(f"backups of {name} databases are not supported")
    return name


# --- Create -------------------------------------------------------------------------------

def create_backup(path: Path, *, overwrite: bool = False) -> Manifest:
    """Back up the whole database to `path` (and `path`.manifest.json); safe while the site runs."""
    path = Path(path).resolve()
    for target in (path, manifest_path(path)):
        if target.exists() and not overwrite:
            raise BackupError(f"{target} already exists (use --force to replace it)")
    if not path.parent.is_dir():
        raise BackupError(f"folder {path.parent} does not exist")
    partial = path.with_name(path.name + ".partial")
    try:
        manifest = _create_sqlite(partial) if engine_name() == SQLITE else _create_postgresql(partial)
        return _finish(partial, path, manifest)
    finally:
        partial.unlink(missing_ok=True)


def sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(f"cannot back up the SQLite database {url.database!r}: it is not a plain file")
    return Path(url.database).resolve()


def _create_sqlite(partial: Path) -> Manifest:
    source = sqlite3.connect(sqlite_file(db.engine.url), timeout=30)
    target = sqlite3.connect(partial)
    try:
        # One step (pages=-1): a single read transaction, so the copy is one consistent
        # snapshot; in WAL mode the site's writers are not blocked meanwhile.
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        problem = target.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        target.close()
        source.close()
    if problem != "ok":
        raise BackupError(f"the copy failed SQLite's check: {problem}")
    engine = create_engine(f"sqlite:///{partial}", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            revision, counts = stored_revision(connection), count_rows(connection)
    finally:
        engine.dispose()
    return Manifest(engine=SQLITE, alembic_revision=revision, row_counts=counts,
                    tool=f"sqlite3 online backup API (SQLite {sqlite3.sqlite_version})")


def _tool(name: str) -> tuple[str, int, str]:
    """(path, major version, version text) of a PostgreSQL client program on PATH."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not on PATH: install the PostgreSQL client programs "
                          f"(Debian: apt-get install postgresql-client) of the server's version or newer")
    version = subprocess.run([found, "--version"], check=True, capture_output=True,  # noqa: S603  # nosec B603: a PostgreSQL tool found on PATH, fixed arguments
                             text=True).stdout.strip()
    match = re.search(r"(\d+)(?:\.\d+)?", version)
    if match is None:
        raise BackupError(f"cannot read the version of {found}: {version!r}")
    return found, int(match.group(1)), version


def _check_tool(name: str, connection: Connection) -> tuple[str, str]:
    found, major, version = _tool(name)
    server = int(connection.scalar(text("SHOW server_version_num"))) // 10000
    if major < server:
        raise BackupError(f"{found} is version {major} but the server is version {server}: {name} must be "
                          f"the server's version or newer (put its folder first on PATH, e.g. "
                          f"/usr/lib/postgresql/{server}/bin)")
    return found, version


def libpq_target(url: URL) -> tuple[str, dict]:
    """A libpq connection URI for `url` and the environment to run a client program in;
    the password goes in PGPASSWORD, never on the command line."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    bare = URL.create("postgresql", username=url.username, host=url.host, port=url.port, database=url.database,
                      query=url.query)
    return bare.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict, what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603  # nosec B603: our own argument lists, no shell
    if done.returncode:
        raise BackupError(f"{what} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")


def _create_postgresql(partial: Path) -> Manifest:
    target, env = libpq_target(db.engine.url)
    with db.engine.connect() as connection:
        pg_dump, version = _check_tool("pg_dump", connection)
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection, connection.begin():
        # pg_dump reads the snapshot of this transaction, so the counts taken here are
        # those of the dump even while the site keeps writing.
        snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
        revision, counts = stored_revision(connection), count_rows(connection)
        _run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={partial}", f"--dbname={target}"],
             env, "pg_dump")
    return Manifest(engine=POSTGRESQL, alembic_revision=revision, row_counts=counts, tool=version)


# --- Restore ------------------------------------------------------------------------------

def check_backup(path: Path) -> Manifest:
    """The backup's manifest, once it is known to fit this database and this code."""
    path = Path(path).resolve()
    manifest = Manifest.read(manifest_path(path))
    if not path.is_file():
        raise BackupError(f"{path} not found (the manifest is there, the data file is not)")
    engine = engine_name()
    if manifest.engine != engine:
        raise BackupError(f"this is a backup of a {manifest.engine} database; the configured database is {engine}")
    head = schema_head()
    if manifest.alembic_revision != head:
        raise BackupError(f"the backup has schema revision {manifest.alembic_revision}, this code expects {head}: "
                          "restore it with the release that made it, then upgrade")
    if manifest.sha256 != _sha256(path):
        raise BackupError(f"{path} does not match its manifest (SHA-256 differs): damaged or replaced")
    return manifest


def restore_backup(path: Path) -> RestoreReport:
    """Replace the whole database by the backup at `path`, then count the rows again."""
    path = Path(path).resolve()
    manifest = check_backup(path)
    db.session.remove()
    db.engine.dispose()  # no pooled connection of ours keeps old state or holds a lock
    if manifest.engine == SQLITE:
        _restore_sqlite(path, manifest)
    else:
        _restore_postgresql(path, manifest)
    db.engine.dispose()
    with db.engine.connect() as connection:
        revision, counts = stored_revision(connection), count_rows(connection)
    if revision != manifest.alembic_revision:
        raise BackupError(f"after the restore the schema revision is {revision}, not {manifest.alembic_revision}")
    return RestoreReport(manifest=manifest, row_counts=counts)


def _restore_sqlite(path: Path, manifest: Manifest) -> None:
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        inside = source.execute("SELECT version_num FROM alembic_version").fetchall()
        if inside != [(manifest.alembic_revision,)]:
            raise BackupError(f"{path} holds schema revision {inside}, its manifest says {manifest.alembic_revision}")
        target = sqlite3.connect(sqlite_file(db.engine.url), timeout=30)
        try:
            # Page by page into the live file, under its own locks: another process sees
            # the old database or the new one, never a mix.
            source.backup(target)
            target.execute("PRAGMA journal_mode=WAL")
        finally:
            target.close()
    finally:
        source.close()


def _restore_postgresql(path: Path, manifest: Manifest) -> None:
    target, env = libpq_target(db.engine.url)
    with db.engine.connect() as connection:
        pg_restore, _version = _check_tool("pg_restore", connection)
    listing = subprocess.run([pg_restore, "--data-only", "--table=alembic_version", "--file=-",  # noqa: S603  # nosec B603: fixed arguments, no shell
                              str(path)], env=env, capture_output=True, text=True)
    if listing.returncode or manifest.alembic_revision not in listing.stdout:
        raise BackupError(f"{path} does not hold schema revision {manifest.alembic_revision}: "
                          f"{listing.stderr.strip()[-500:]}")
    db.engine.dispose()
    _run([pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
          f"--dbname={target}", str(path)], env, "pg_restore")
    # Every row came back without an UPDATE, so the session-state trigger did not fire:
    # tell every server process to forget what it kept (lms.accounts.session_states).
    from lms.accounts.session_states import CHANNEL, FORGET_ALL

    with db.engine.begin() as connection:
        connection.exec_driver_sql(f"NOTIFY {CHANNEL}, '{FORGET_ALL}'")
