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
@click.option("--pace", default=0.5, show_default=True, type=float,
              help="Share of the time the check works (it rests between units, so pages stay fast).")
@click.option("--nice/--no-nice", "be_nice", default=True, show_default=True,
              help="Run at a lower CPU priority than the web workers.")
def check_command(seconds: float, repair: bool, show: int, pace: float, be_nice: bool) -> None:
    """Check units against the raw rows, newest changes first; store and report what differs.

    Meant to run every few minutes beside the web workers: by default it lowers its own
    CPU priority and works half of the time, resting between units."""
    import os

    from lms.statistics.check import check_communes, run_differences

    if seconds <= 0:
        raise click.BadParameter("give a number of seconds above zero", param_hint="--seconds")
    if not 0 < pace <= 1:
        raise click.BadParameter("give a share of the time above 0 and at most 1", param_hint="--pace")
    if be_nice and hasattr(os, "nice"):
        os.nice(10)
    run = check_communes(seconds, repair=repair, isolated=True, pace=pace)
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
