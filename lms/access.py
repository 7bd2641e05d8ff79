"""The one place that decides who may see and change what.

`scope_units(user)` turns an account into a `Scope`: the units it covers and a SQL
filter over learners. Every query that reads learner data goes through
`Scope.learner_filter()`; every write checks `may(user, action, target)`. A national
administrator covers everything; a province official their province; a commune
official and a team member their commune (a team member may be limited to villages);
a learner only themself.

The rules live here; they are enforced by the queries and operations that take the
account (`check` raises `NotAllowedError`, a 403 on the web and in the API), so a page,
an API route and a command reach the same answer. Views never decide: they may ask
`may` only to choose what to show (a button, a link). See docs/decisions.md,
"Permissions".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import false, true

from lms.accounts.models import (
    COMMUNE_OFFICIAL,
    LEARNER,
    NATIONAL_ADMIN,
    PROVINCE_OFFICIAL,
    TEAM_MEMBER,
)
from lms.errors import NotAllowedError, NotFoundError
from lms.units import queries as unit_queries
from lms.units.models import NATION, Unit

NONE, SELF, VILLAGES, COMMUNE, PROVINCE = "none", "self", "villages", "commune", "province"

# Which roles may do what, inside their scope. Reads of learner data follow the scope
# alone; these are the actions that need more than being able to see.
ACTION_ROLES: dict[str, frozenset[str]] = {
    "read_learners": frozenset({TEAM_MEMBER, COMMUNE_OFFICIAL, PROVINCE_OFFICIAL, NATIONAL_ADMIN}),
    "write_learners": frozenset({TEAM_MEMBER, COMMUNE_OFFICIAL}),
    "assist_learners": frozenset({TEAM_MEMBER, COMMUNE_OFFICIAL}),
    "manage_villages": frozenset({TEAM_MEMBER, COMMUNE_OFFICIAL}),
    "read_statistics": frozenset({TEAM_MEMBER, COMMUNE_OFFICIAL, PROVINCE_OFFICIAL, NATIONAL_ADMIN}),
    "set_targets": frozenset({COMMUNE_OFFICIAL, PROVINCE_OFFICIAL, NATIONAL_ADMIN}),
    "revoke_certificates": frozenset({COMMUNE_OFFICIAL, PROVINCE_OFFICIAL, NATIONAL_ADMIN}),
    "print_certificates": frozenset({TEAM_MEMBER, COMMUNE_OFFICIAL}),
    "read_audit": frozenset({COMMUNE_OFFICIAL, PROVINCE_OFFICIAL, NATIONAL_ADMIN}),
    "manage_staff": frozenset({NATIONAL_ADMIN}),
    "follow_courses": frozenset({LEARNER}),  # staff follow courses only by helping a learner
    # The official meets the person, sees the existing record and moves it here (lms.duplicates).
    "resolve_duplicates": frozenset({COMMUNE_OFFICIAL}),
    "check_statistics": frozenset({NATIONAL_ADMIN}),  # the national check of every unit's figures
    "review_quality_flags": frozenset({COMMUNE_OFFICIAL, PROVINCE_OFFICIAL, NATIONAL_ADMIN}),
}


@dataclass(frozen=True)
class Scope:
    level: str
    unit_id: int | None = None
    village_ids: frozenset[int] = field(default_factory=frozenset)
    learner_id: int | None = None

    def learner_filter(self):
        """SQL condition on `Learner` rows this scope may read."""
        from lms.learners.models import Learner

        if self.level == NATION:
            return true()
        if self.level == PROVINCE:
            return Learner.province_id == self.unit_id
        if self.level == COMMUNE:
            return Learner.commune_id == self.unit_id
        if self.level == VILLAGES:
            return (Learner.commune_id == self.unit_id) & Learner.village_id.in_(sorted(self.village_ids))
        if self.level == SELF and self.learner_id is not None:
            return Learner.id == self.learner_id
        return false()

    def unit_filter(self):
        """SQL condition on `Unit` rows this scope covers (for statistics and pickers)."""
        if self.level == NATION:
            return true()
        if self.level == PROVINCE:
            return Unit.province_id == self.unit_id
        if self.level == COMMUNE:
            return Unit.commune_id == self.unit_id
        if self.level == VILLAGES:
            return Unit.id.in_(sorted(self.village_ids))
        return false()

    def covers_unit(self, unit: Unit | None) -> bool:
        if unit is None:
            return False
        if self.level == NATION:
            return True
        if self.level == PROVINCE:
            return unit.province_id == self.unit_id
        if self.level == COMMUNE:
            return unit.commune_id == self.unit_id
        if self.level == VILLAGES:
            return unit.id in self.village_ids
        return False

    def covers_learner(self, learner) -> bool:
        if learner is None:
            return False
        if self.level == NATION:
            return True
        if self.level == PROVINCE:
            return learner.province_id == self.unit_id
        if self.level == COMMUNE:
            return learner.commune_id == self.unit_id
        if self.level == VILLAGES:
            return learner.commune_id == self.unit_id and learner.village_id in self.village_ids
        if self.level == SELF:
            return learner.id == self.learner_id
        return False


def scope_units(user) -> Scope:
    """The units (and learners) an account may read or change."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope(NONE)
    if user.role == NATIONAL_ADMIN:
        return Scope(NATION)
    if user.role == PROVINCE_OFFICIAL and user.scope_unit_id:
        return Scope(PROVINCE, user.scope_unit_id)
    if user.role == COMMUNE_OFFICIAL and user.scope_unit_id:
        return Scope(COMMUNE, user.scope_unit_id)
    if user.role == TEAM_MEMBER and user.scope_unit_id:
        village_ids = frozenset(v.id for v in user.villages)
        if village_ids:
            return Scope(VILLAGES, user.scope_unit_id, village_ids)
        return Scope(COMMUNE, user.scope_unit_id)
    if user.role == LEARNER:
        learner = getattr(user, "learner", None)
        return Scope(SELF, learner_id=getattr(learner, "id", None))
    return Scope(NONE)


def may(user, action: str, target=None) -> bool:
    """May `user` do `action` on `target` (a Unit, a Learner, or None for "anywhere")?"""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.role not in ACTION_ROLES.get(action, ()):
        return False
    if isinstance(target, Unit):
        return may_on_units(user, action)(target)
    scope = scope_units(user)
    if target is None:
        return scope.level != NONE
    return scope.covers_learner(target)


def _never(_unit) -> bool:
    return False


def may_on_units(user, action: str):
    """`may(user, action, unit)` as a function of the unit, the account's role and scope
    looked up once: a province's page asks it for each of its 170 communes."""
    if user is None or not getattr(user, "is_authenticated", False) or user.role not in ACTION_ROLES.get(action, ()):
        return _never
    scope = scope_units(user)
    if action == "manage_villages" and scope.level == VILLAGES:
        return _never  # a member limited to villages does not reshape the commune
    return scope.covers_unit


def not_allowed() -> NotAllowedError:
    """The refusal every check raises (an object out of scope and a missing one look alike)."""
    return NotAllowedError("not-allowed", _l("You do not have access to this page."))


def check(user, action: str, target=None) -> None:
    """Raise `NotAllowedError` unless `user` may do `action` on `target`: what queries and
    operations call before they read or change anything for `user`."""
    if not may(user, action, target):
        raise not_allowed()


def own_learner(user):
    """The learner record a learner's account acts as, or None (staff, anonymous, erased)."""
    if user is None or not getattr(user, "is_authenticated", False) or user.role != LEARNER:
        return None
    learner = getattr(user, "learner", None)
    return None if learner is None or learner.is_deleted else learner


def commune_for(user, action: str) -> Unit:
    """The account's own commune, if it may do `action` there (villages: units sit below
    this module, so their pages ask here)."""
    commune = unit_queries.current_unit(getattr(user, "scope_unit_id", None), COMMUNE)
    if commune is None:
        raise not_allowed()
    check(user, action, commune)
    return commune


def village_for(user, village_id: int, action: str) -> Unit:
    """The current village `village_id`, if `user` may do `action` on it."""
    village = unit_queries.current_unit(village_id, "village")
    if village is None:
        raise NotFoundError("not-found", _l("This page does not exist."))
    check(user, action, village)
    return village


def learner_self(user):
    """The learner record of `user`'s own account; `NotAllowedError` for anyone else."""
    learner = own_learner(user)
    if learner is None:
        raise not_allowed()
    return learner
