"""Command-line tasks: `flask units load`, `flask accounts …`, `flask demo load`.

Each command is one transaction: it commits once at the end, or not at all.
"""

from __future__ import annotations

import secrets

import click
from flask.cli import AppGroup
from sqlalchemy import select

from lms.errors import DomainError
from lms.extensions import db

units_cli = AppGroup("units", help="Administrative units.")
accounts_cli = AppGroup("accounts", help="Staff accounts.")
demo_cli = AppGroup("demo", help="Demo data for trying the site.")


@units_cli.command("load")
@click.option("--retire-missing", is_flag=True, help="Retire provinces/communes no longer in the official list.")
def load_units(retire_missing: bool) -> None:
    """Load or update provinces and communes from the vietnam-provinces package."""
    from lms.units.operations import load_official_units

    report = load_official_units(retire_missing=retire_missing)
    db.session.commit()
    click.echo(f"units: {report.created} created, {report.renamed} changed, "
               f"{report.unchanged} unchanged, {report.retired} retired")


def _unit_for(role: str, code: str | None):
    from lms.accounts.models import ROLE_UNIT_LEVEL
    from lms.units.operations import NATION_CODE
    from lms.units.queries import unit_by_code

    level = ROLE_UNIT_LEVEL[role]
    return unit_by_code(level, NATION_CODE if level == "nation" else (code or ""))


@accounts_cli.command("create-staff")
@click.option("--role", type=click.Choice(["team_member", "commune_official", "province_official", "national_admin"]), required=True)
@click.option("--unit", "unit_code", help="Commune (5 digits) or province (2 digits) code; not needed for national_admin.")
@click.option("--username", required=True)
@click.option("--name", "display_name", default="")
@click.option("--password", envvar="LMS_NEW_PASSWORD", help="Defaults to a generated one, printed once.")
def create_staff_command(role, unit_code, username, display_name, password) -> None:
    """Create a staff account attached to a unit."""
    from lms.accounts.operations import create_staff

    password = password or secrets.token_urlsafe(9)
    unit = _unit_for(role, unit_code)
    try:
        user = create_staff(role=role, unit=unit, username=username, password=password,
                            display_name=display_name or username)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"created {user.role} {user.username} password: {password}")


@accounts_cli.command("set-password")
@click.argument("login")
@click.option("--password", envvar="LMS_NEW_PASSWORD")
def set_password_command(login, password) -> None:
    """Set a new password for an account (printed once if generated)."""
    from lms.accounts.operations import find_by_login, set_password

    user = find_by_login(login)
    if user is None:
        raise click.ClickException(f"no account {login!r}")
    generated = not password
    password = password or secrets.token_urlsafe(9)
    set_password(user, password)
    db.session.commit()
    click.echo(f"password set{': ' + password if generated else ''}")


DEMO_COMMUNE, DEMO_PROVINCE = "00070", "01"  # Phường Hoàn Kiếm, Thành phố Hà Nội
DEMO_VILLAGES = ("Tổ dân phố số 1", "Tổ dân phố số 2", "Tổ dân phố Hàng Bạc")


@demo_cli.command("load")
def load_demo() -> None:
    """Create one demo account per role (passwords printed once, on creation only)."""
    from lms.accounts.models import User
    from lms.accounts.operations import create_staff, sign_up_learner
    from lms.units.operations import create_village
    from lms.units.queries import unit_by_code, villages_of

    commune = unit_by_code("commune", DEMO_COMMUNE)
    if commune is None:
        raise click.ClickException("load the units first: flask units load")
    if not villages_of(commune.id):
        for name in DEMO_VILLAGES:
            create_village(commune, name, "tổ dân phố")
    village = villages_of(commune.id)[0]
    created = []
    staff = [
        ("demo-team", "team_member", DEMO_COMMUNE, "Nguyễn Thị Hồng Nhung"),
        ("demo-commune", "commune_official", DEMO_COMMUNE, "Trần Văn Bình"),
        ("demo-province", "province_official", DEMO_PROVINCE, "Lê Thị Thu Hà"),
        ("demo-admin", "national_admin", None, "Phạm Quốc Đạt"),
    ]
    for username, role, code, name in staff:
        if db.session.scalar(select(User.id).where(User.username == username)):
            continue
        password = secrets.token_urlsafe(9)
        create_staff(role=role, unit=_unit_for(role, code), username=username, password=password,
                     display_name=name)
        created.append((role, username, password))
    if not db.session.scalar(select(User.id).where(User.username == "demo-learner")):
        password = secrets.token_urlsafe(9)
        sign_up_learner(full_name="Hoàng Thị Hoà", login="demo-learner", password=password, commune=commune,
                        village=village, consent_given=True, locale="vi", birth_year=1958, sex="female")
        created.append(("learner", "demo-learner", password))
        _demo_activity(commune, villages_of(commune.id))
    db.session.commit()
    if created:
        click.echo("Demo accounts (shown only this once; reset with `flask accounts set-password LOGIN`):")
        for role, username, password in created:
            click.echo(f"  {role:18} {username:15} {password}")
    else:
        click.echo("demo accounts already exist (reset a password with `flask accounts set-password LOGIN`)")


DEMO_LEARNERS = [  # (name, birth year, sex, lessons done in the first course, passes its quiz)
    ("Nguyễn Văn An", 1952, "male", 6, True), ("Trần Thị Bích", 1961, "female", 6, True),
    ("Lê Văn Cường", 1975, "male", 6, False), ("Phạm Thị Dung", 1948, "female", 3, False),
    ("H'Hen Niê", 1990, "female", 6, True), ("Đặng Văn Ơn", 1957, "male", 1, False),
    ("Vũ Thị Hồng Nhung", 2007, "female", 0, False), ("Bùi Quang Huy", 1969, "male", 6, True),
]


def _demo_activity(commune, villages) -> None:
    """A few learners with progress, completions and certificates, so the team and
    statistics pages of the demo accounts have something to show."""
    from lms.accounts.operations import sign_up_learner
    from lms.learning.operations import complete_lesson, enroll, submit_quiz
    from lms.learning.queries import published_courses

    course = published_courses()[0] if published_courses() else None
    for index, (name, year, sex, lessons, passes) in enumerate(DEMO_LEARNERS):
        user = sign_up_learner(full_name=name, login=f"demo-hoc-vien-{index + 1}", password=secrets.token_urlsafe(12),
                               commune=commune, village=villages[index % len(villages)], consent_given=True,
                               locale="vi", birth_year=year, sex=sex)
        if course is None or lessons == 0:
            continue
        enroll(user.learner, course)
        for lesson in course.lessons[:lessons]:
            complete_lesson(user.learner, lesson)
        if passes:
            answers = {q.key: sorted(q.correct_indexes) for q in _questions(course)}
            submit_quiz(user.learner, course, answers)


def _questions(course):
    from lms.learning.operations import active_questions

    return active_questions(course)


def init_app(app) -> None:
    for group in (units_cli, accounts_cli, demo_cli):
        app.cli.add_command(group)
    from lms.learning.cli import init_app as init_learning_cli

    init_learning_cli(app)
    from lms.statistics.cli import init_app as init_statistics_cli

    init_statistics_cli(app)
    from lms.quality.cli import init_app as init_quality_cli

    init_quality_cli(app)
    from lms.backup.cli import init_app as init_backup_cli

    init_backup_cli(app)
