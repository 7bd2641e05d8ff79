import pytest

from lms.extensions import db
from lms.learners.operations import set_national_id
from lms.units.queries import communes_of

NUMBER = "001160012345"  # a woman born in 1960 in Hà Nội


@pytest.fixture
def other_commune(make):
    home = make.commune()
    return next(c for c in communes_of(home.province_id) if c.id != home.id)


@pytest.fixture
def member(make):
    return make.staff("team_member")


@pytest.fixture
def elsewhere(make, other_commune):
    """A learner of another commune who holds NUMBER (outside the member's scope)."""
    user = make.learner(commune=other_commune, full_name="Phạm Thị Mai", birth_year=1960, sex="female",
                        login="0987654321")
    set_national_id(user.learner, NUMBER)
    db.session.flush()
    return user.learner


def register_form(**overrides) -> dict:
    data = {"full_name": "Nguyễn Thị Hoà", "birth_year": "1960", "sex": "female", "village": "",
            "phone": "", "national_id": "", "consent": "y", "register_anyway": "y"}
    data.update(overrides)
    return data
