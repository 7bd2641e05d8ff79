import pytest

from lms.units.queries import communes_of


@pytest.fixture
def other_commune(make):
    home = make.commune()
    return next(c for c in communes_of(home.province_id) if c.id != home.id)


@pytest.fixture
def member(make):
    return make.staff("team_member")
