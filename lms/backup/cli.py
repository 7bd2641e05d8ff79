"""`flask backup create PATH` and `flask backup restore PATH --yes`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from lms.backup.operations import BackupError, create_backup, manifest_path, restore_backup

backup_cli = AppGroup("backup", help="Back up and restore the whole database.")


@backup_cli.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing backup at PATH.")
def create_command(path: Path, force: bool) -> None:
    """Back up the database to PATH, with its manifest in PATH.manifest.json.

    Safe while the site runs: the copy is one consistent snapshot."""
    try:
        manifest = create_backup(path, overwrite=force)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"backup written: {path} ({manifest.size:,} bytes, {manifest.engine}, schema {manifest.alembic_revision}, "
               f"{sum(manifest.row_counts.values()):,} rows in {len(manifest.row_counts)} tables)")
    click.echo(f"manifest: {manifest_path(path)}")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Really replace every row of the configured database.")
def restore_command(path: Path, yes: bool) -> None:
    """Replace the whole database by the backup at PATH (stop the web server first)."""
    if not yes:
        raise click.ClickException("restoring replaces every row of the configured database; "
                                   "stop the web server, then run again with --yes")
    try:
        report = restore_backup(path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    for table, (expected, found) in report.differences.items():
        click.echo(f"{table}: {expected} rows in the backup, {found} after the restore", err=True)
    if report.differences:
        raise click.ClickException(f"{len(report.differences)} tables differ from the backup's manifest")
    click.echo(f"restored {path} (made {report.manifest.created_at}, schema {report.manifest.alembic_revision}): "
               f"{sum(report.row_counts.values()):,} rows in {len(report.row_counts)} tables, as in the manifest")


def init_app(app) -> None:
    app.cli.add_command(backup_cli)
