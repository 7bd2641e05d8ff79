"""The scope matrix: every role against units and learners inside and outside its scope."""

import pytest

from lms.access import may, scope_units
from lms.extensions import db
from lms.learners.models import Learner

HOME_COMMUNE, SIBLING_COMMUNE = "00070", "00004"


@pytest.fixture
def world(make):
    """Three learners: in our commune, in a sibling commune of the same province, elsewhere."""
    home = make.commune(HOME_COMMUNE)
    sibling = make.commune(SIBLING_COMMUNE)
    assert sibling.province_id == home.province_id
    far = make.commune("26506")  # Phường Vũng Tàu, Thành phố Hồ Chí Minh
    assert far.province_id != home.province_id
    village_a, village_b = make.village(home, "Thôn A"), make.village(home, "Thôn B")
    learners = {
        "home_a": make.learner(home, village_a).learner,
        "home_b": make.learner(home, village_b).learner,
        "sibling": make.learner(sibling).learner,
        "far": make.learner(far).learner,
    }
    users = {
        "national_admin": make.staff("national_admin"),
        "province_official": make.staff("province_official", make.province("01")),
        "commune_official": make.staff("commune_official", home),
        "team_member": make.staff("team_member", home),
        "village_member": make.staff("team_member", home, villages=[village_a]),
        "learner": learners["home_a"].user,
    }
    return {"learners": learners, "users": users, "units": {"home": home, "sibling": sibling, "far": far,
                                                            "village_a": village_a, "village_b": village_b}}


# Who may READ each learner's data.
READ = {
    "national_admin": {"home_a", "home_b", "sibling", "far"},
    "province_official": {"home_a", "home_b", "sibling"},
    "commune_official": {"home_a", "home_b"},
    "team_member": {"home_a", "home_b"},
    "village_member": {"home_a"},
    "learner": {"home_a"},
}
# Who may CHANGE each learner's data.
WRITE = {
    "national_admin": set(),
    "province_official": set(),
    "commune_official": {"home_a", "home_b"},
    "team_member": {"home_a", "home_b"},
    "village_member": {"home_a"},
    "learner": set(),
}


@pytest.mark.parametrize("role", READ)
def test_learner_filter_matches_the_matrix(world, role):
    user = world["users"][role]
    visible = set(db.session.scalars(
        db.select(Learner.id).where(scope_units(user).learner_filter())))
    ours = {name: learner.id for name, learner in world["learners"].items()}
    assert {name for name, lid in ours.items() if lid in visible} == READ[role]


@pytest.mark.parametrize("role", READ)
def test_covers_learner_matches_the_filter(world, role):
    user = world["users"][role]
    scope = scope_units(user)
    assert {n for n, learner in world["learners"].items() if scope.covers_learner(learner)} == READ[role]


@pytest.mark.parametrize("role", WRITE)
def test_write_permission_matrix(world, role):
    user = world["users"][role]
    allowed = {n for n, learner in world["learners"].items() if may(user, "write_learners", learner)}
    assert allowed == WRITE[role]


@pytest.mark.parametrize(("role", "unit", "expected"), [
    ("commune_official", "home", True), ("commune_official", "village_a", True),
    ("commune_official", "sibling", False), ("commune_official", "far", False),
    ("team_member", "village_b", True), ("team_member", "far", False),
    ("village_member", "village_a", False),  # limited to villages: does not reshape the commune
    ("province_official", "home", False), ("national_admin", "home", False), ("learner", "home", False),
])
def test_manage_villages(world, role, unit, expected):
    assert may(world["users"][role], "manage_villages", world["units"][unit]) is expected


@pytest.mark.parametrize(("role", "unit", "expected"), [
    ("national_admin", "far", True), ("province_official", "sibling", True), ("province_official", "far", False),
    ("commune_official", "home", True), ("commune_official", "sibling", False),
    ("village_member", "village_a", True), ("village_member", "village_b", False),
])
def test_unit_coverage_for_reading(world, role, unit, expected):
    scope = scope_units(world["users"][role])
    assert scope.covers_unit(world["units"][unit]) is expected
    covered = db.session.scalar(db.select(db.func.count()).select_from(db.Model.metadata.tables["units"]).where(
        scope.unit_filter(), db.Model.metadata.tables["units"].c.id == world["units"][unit].id))
    assert bool(covered) is expected


def test_anonymous_and_disabled_accounts_see_nothing(world):
    from flask_login import AnonymousUserMixin

    assert scope_units(AnonymousUserMixin()).level == "none"
    user = world["users"]["commune_official"]
    user.is_active_account = False
    assert scope_units(user).level == "none"
    assert not may(user, "read_learners")


# Whose statistics each account may READ (a member limited to villages also reads their
# commune's page: its figures are counts, not personal data).
READ_STATISTICS = {
    "national_admin": {"home", "sibling", "far", "village_a", "village_b"},
    "province_official": {"home", "sibling", "village_a", "village_b"},
    "commune_official": {"home", "village_a", "village_b"},
    "team_member": {"home", "village_a", "village_b"},
    "village_member": {"home", "village_a"},
    "learner": set(),
}


@pytest.mark.parametrize("role", READ_STATISTICS)
def test_statistics_reading_matches_the_matrix(world, role):
    """`reader` (the account looked up once, for pages with many links) and `may_read`
    give the matrix for every unit."""
    from lms.statistics.queries import may_read, reader

    user, units = world["users"][role], world["units"]
    readable = reader(user)
    assert {name for name, unit in units.items() if readable(unit)} == READ_STATISTICS[role]
    assert {name for name, unit in units.items() if may_read(user, unit)} == READ_STATISTICS[role]
    assert readable(None) is False
