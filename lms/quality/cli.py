"""`flask quality scan`: run every data-quality check over what is already stored."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from lms.extensions import db

quality_cli = AppGroup("quality", help="Data-quality flags.")


@quality_cli.command("scan")
def scan_command() -> None:
    """Flag what the checks on write would have flagged (data from before, or from a path
    without a signal); findings already stored, reviewed or not, are left as they are."""
    from lms.quality.operations import scan
    from lms.quality.reasons import kind_label
    from lms.team.models import IMPORTED, LearnerImport

    imports = [(row.id, list((row.payload or {}).get("learner_ids", [])))
               for row in db.session.scalars(select(LearnerImport).where(LearnerImport.status == IMPORTED))]
    found = scan(imports)
    db.session.commit()
    for kind, count in found.items():
        click.echo(f"{kind} ({kind_label(kind)}): {count} new")


def init_app(app) -> None:
    app.cli.add_command(quality_cli)
