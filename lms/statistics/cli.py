"""`flask statistics recount [--fix]`: check (and rebuild) the counters and the dashboard rollup
from the raw rows."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lms.extensions import db

statistics_cli = AppGroup("statistics", help="Statistics counters.")


@statistics_cli.command("recount")
@click.option("--fix", is_flag=True, help="Rewrite the counters and the rollup from the raw rows.")
@click.option("--show", default=20, help="How many differences to list.")
def recount_command(fix: bool, show: int) -> None:
    """Recount every figure from the raw rows and report counters that differ."""
    from lms.statistics.recount import compare, rebuild

    differences = compare()
    for difference in differences[:show]:
        click.echo(difference.describe())
    click.echo(f"{len(differences)} counters differ from the recount")
    if fix:
        written = rebuild()
        db.session.commit()
        click.echo(f"counters rebuilt: {written} rows")
    elif differences:
        raise SystemExit(1)


def init_app(app) -> None:
    app.cli.add_command(statistics_cli)
