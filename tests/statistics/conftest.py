"""Fixtures for statistics tests: a small course, communes in two provinces, staff."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.extensions import db
from tests.certs.conftest import build_course, right_answers  # noqa: F401 - shared helpers


@pytest.fixture
def course(db_session):
    return build_course(db.session)


@pytest.fixture
def communes(make):
    """Two communes of Hà Nội and one of another province."""
    from lms.units.models import Unit

    hanoi = make.province("01")
    first, second = db.session.scalars(select(Unit).where(
        Unit.level == "commune", Unit.province_id == hanoi.id, Unit.valid_to.is_(None)).order_by(Unit.code).limit(2))
    other = db.session.scalar(select(Unit).where(
        Unit.level == "commune", Unit.province_id != hanoi.id, Unit.valid_to.is_(None)).order_by(Unit.code).limit(1))
    return [first, second, other]


@pytest.fixture
def admin(make):
    return make.staff("national_admin")


def new_learner(commune, *, village=None, sex="female", birth_year=1960, registered_by=None, name="Lê Thị Mai"):
    """A learner record without a login account (no password hashing: fast)."""
    from lms.learners.operations import create_learner

    return create_learner(user=None, full_name=name, commune=commune, village=village, birth_year=birth_year,
                          sex=sex, registered_by=registered_by)


def figures(**filters) -> dict[str, int]:
    """Counter totals per metric, optionally filtered on key columns."""
    from sqlalchemy import func

    from lms.statistics.models import StatCounter

    query = select(StatCounter.metric, func.sum(StatCounter.value)).group_by(StatCounter.metric)
    for name, value in filters.items():
        query = query.where(getattr(StatCounter, name) == value)
    return {metric: total for metric, total in db.session.execute(query) if total}


@pytest.fixture(autouse=True)
def counters_start_exact(db_session):
    """Tests elsewhere commit rows and delete them again with bulk deletes, which leave
    their counters behind (the recount reports exactly that); start from a recount."""
    from lms.statistics.recount import rebuild

    rebuild()
