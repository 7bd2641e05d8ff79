"""`flask statistics recount [--fix]`: check (and rebuild) the counters and the dashboard rollup
from the raw rows, all at once; `flask statistics check [--seconds N] [--repair]`: the same,
unit by unit, newest changes first, within a time budget (see `check.py`)."""

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


@statistics_cli.command("check")
@click.option("--seconds", default=60.0, show_default=True, help="Stop after about this many seconds.")
@click.option("--repair", is_flag=True, help="Rewrite the rows of the units that differ (only those).")
@click.option("--show", default=20, help="How many differences to list.")
def check_command(seconds: float, repair: bool, show: int) -> None:
    """Check units against the raw rows, newest changes first; store and report what differs."""
    from lms.statistics.check import check_communes, run_differences

    if seconds <= 0:
        raise click.BadParameter("give a number of seconds above zero", param_hint="--seconds")
    run = check_communes(seconds, repair=repair, isolated=True)
    for difference in run_differences(run, show):
        click.echo(f"unit {difference.unit_id} {difference.table_name}: {difference.key}: "
                   f"stored {difference.stored}, expected {difference.expected}")
    click.echo(f"checked {run.units_checked} of {run.units_total} units in "
               f"{(run.finished_dt - run.started_dt).total_seconds():.1f} s (longest unit "
               f"{run.longest_unit_ms:.0f} ms): {run.differences} rows differ in {run.units_differing} units"
               + (", repaired" if repair and run.differences else ""))
    if run.differences and not repair:
        raise SystemExit(1)


def init_app(app) -> None:
    app.cli.add_command(statistics_cli)
