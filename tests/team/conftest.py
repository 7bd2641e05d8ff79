import pytest

from lms.extensions import db
from lms.units.queries import communes_of


@pytest.fixture
def other_commune(make):
    home = make.commune()
    return next(c for c in communes_of(home.province_id) if c.id != home.id)


@pytest.fixture
def member(make):
    return make.staff("team_member")


@pytest.fixture
def team(make, login, client):
    """A team member of the default commune (with a village "Thôn Đông"), logged in."""
    make.village(name="Thôn Đông")
    member = make.staff("team_member")
    db.session.flush()
    login(member)
    return member
