"""`flask courses check` and `flask courses load`: course content from `courses/`;
`flask progress apply`: the stored progress events still waiting (lms.learning.progress_log).

`load` validates every course first and writes nothing if any has a problem; otherwise
it syncs and commits once.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from lms.extensions import db

courses_cli = AppGroup("courses", help="Course content in the courses/ folder.")

courses_dir_option = click.option(
    "--courses-dir", type=click.Path(file_okay=False), default=None,
    help="Folder of courses; defaults to the COURSES_DIR setting.")


def _echo_problems(problems: list[str]) -> None:
    for problem in problems:
        click.echo(problem, err=True)
    click.echo(f"{len(problems)} problem(s) found", err=True)


@courses_cli.command("check")
@courses_dir_option
def check_command(courses_dir: str | None) -> None:
    """Validate every course and print each problem with its file and line."""
    from lms.learning.content import check_courses

    problems = check_courses(courses_dir or current_app.config["COURSES_DIR"])
    if problems:
        _echo_problems(problems)
        raise SystemExit(1)
    click.echo("courses: no problems found")


@courses_cli.command("load")
@courses_dir_option
def load_command(courses_dir: str | None) -> None:
    """Validate, then sync every course into the database (idempotent; keeps learners' progress)."""
    from lms.learning.content import ContentError, sync_courses

    try:
        report = sync_courses(courses_dir or current_app.config["COURSES_DIR"])
    except ContentError as error:
        db.session.rollback()
        _echo_problems(error.problems)
        raise SystemExit(1) from error
    db.session.commit()
    click.echo(str(report))


progress_cli = AppGroup("progress", help="Learners' stored progress events.")


@progress_cli.command("apply")
def apply_command() -> None:
    """Apply every stored progress event still waiting (the workers' appliers do this by
    themselves; for a server stopped with events waiting, or a script that must see them)."""
    from lms.learning.applier import drain

    click.echo(f"progress events applied: {drain()}")


def init_app(app) -> None:
    app.cli.add_command(courses_cli)
    app.cli.add_command(progress_cli)
