"""Permissions live in one layer: `lms/access.py` holds the rules, and the queries and
operations that take the account enforce them (docs/decisions.md, "Permissions").

Read from the source with `ast`, like tests/test_layers.py:

- no module outside `lms/access.py` and `lms/accounts/` (where roles are defined and
  given) compares an account's role: what a role may do is `ACTION_ROLES`;
- views decide nothing: no role constants, no `require`/`check`, no `abort(403)`, no
  refusal of their own (they may ask `may` to choose what to show);
- nothing sets Flask-Login's private `g._login_user` (the user_loader decides).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LMS = ROOT / "lms"
RULES_LIVE_IN = {LMS / "access.py", *(LMS / "accounts").rglob("*.py")}
ROLE_NAMES = {"LEARNER", "TEAM_MEMBER", "COMMUNE_OFFICIAL", "PROVINCE_OFFICIAL", "NATIONAL_ADMIN", "STAFF_ROLES"}
GATES = {"require", "check", "not_allowed", "NotAllowedError"}


def _is_role(node: ast.AST) -> bool:
    """`x.role`, a variable named `role`, or a role constant such as `LEARNER`."""
    return ((isinstance(node, ast.Attribute) and node.attr == "role")
            or (isinstance(node, ast.Name) and (node.id == "role" or node.id in ROLE_NAMES)))


def role_comparisons(tree: ast.AST) -> list[int]:
    """Lines that compare a role: `user.role == …`, `… in STAFF_ROLES`, `role != "learner"`."""
    return sorted({node.lineno for node in ast.walk(tree) if isinstance(node, ast.Compare)
                   and any(_is_role(side) for side in [node.left, *node.comparators])})


def view_decisions(tree: ast.AST) -> list[str]:
    """What a view module does that is the permission layer's job."""
    found = []
    imported = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and node.module == "lms.access" for a in node.names}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "lms.accounts.models":
            found += [f"{node.lineno}: imports {a.name}" for a in node.names if a.name in ROLE_NAMES]
        elif isinstance(node, ast.ImportFrom):
            found += [f"{node.lineno}: imports {a.name}" for a in node.names if a.name in GATES]
        elif isinstance(node, ast.Call):
            # `access.check(…)`, or `check(…)` imported from lms.access (not a local helper)
            attribute = isinstance(node.func, ast.Attribute)
            name = node.func.attr if attribute else getattr(node.func, "id", "")
            if name in GATES and (attribute or name in imported):
                found.append(f"{node.lineno}: calls {name}")
            if name == "abort" and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == 403:
                found.append(f"{node.lineno}: abort(403)")
    return sorted(found, key=lambda line: int(line.split(":")[0]))


def private_login_user(tree: ast.AST) -> list[int]:
    return [node.lineno for node in ast.walk(tree)
            if (isinstance(node, ast.Attribute) and node.attr == "_login_user")
            or (isinstance(node, ast.Constant) and node.value == "_login_user")]


def _parse(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"))


MODULES = sorted(LMS.rglob("*.py"))
VIEWS = [path for path in MODULES if path.name == "views.py"]


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_views_are_found():
    assert {_name(p) for p in VIEWS} >= {"lms/team/views.py", "lms/certs/views.py", "lms/statistics/views.py"}


@pytest.mark.parametrize("path", [p for p in MODULES if p not in RULES_LIVE_IN], ids=_name)
def test_no_role_comparison_outside_the_rules(path):
    assert role_comparisons(_parse(path)) == [], f"{_name(path)}: ask lms.access (may, own_learner) instead"


@pytest.mark.parametrize("path", VIEWS, ids=_name)
def test_views_leave_permissions_to_queries_and_operations(path):
    assert view_decisions(_parse(path)) == [], f"{_name(path)}: call a query or operation that checks"


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_flask_login_private_state_is_left_alone(path):
    assert private_login_user(_parse(path)) == [], f"{_name(path)}: use the user_loader"


# --- the scanners find what they are for ---------------------------------------------------

BAD_VIEW = '''
from flask import abort
from lms.access import require
from lms.accounts.models import LEARNER

def page():
    access.check(current_user, "read_audit")
    if current_user.role != LEARNER or user.role in ("team_member",):
        abort(403)
    require("read_learners")
    if "national_admin" == current_user.role:
        g._login_user = None
'''


def test_the_scanners_find_a_view_that_decides():
    tree = ast.parse(BAD_VIEW)
    assert role_comparisons(tree) == [8, 11]
    assert view_decisions(tree) == ["3: imports require", "4: imports LEARNER", "7: calls check", "9: abort(403)",
                                    "10: calls require"]
    assert private_login_user(tree) == [12]


def test_the_scanners_leave_a_thin_view_alone():
    tree = ast.parse('''
def page(learner_id):
    def check():
        return importer.run_steps(rows)

    learner = queries.learner_for(current_user, learner_id, "write_learners")
    key = ("lesson", current_user.role)
    return render(learner, can_write=may(current_user, "write_learners", learner))
''')
    assert role_comparisons(tree) == [] and view_decisions(tree) == [] and private_login_user(tree) == []


# --- the operations refuse by themselves (an API route or a command gets the same answer) ---

def test_team_operations_refuse_a_learner_out_of_scope(world):
    from lms.errors import NotAllowedError
    from lms.team import operations

    member, far = world.users["team_member"], world.learners["lC"]
    with pytest.raises(NotAllowedError):
        operations.issue_login_card(far, by=member)
    with pytest.raises(NotAllowedError):
        operations.issue_login_cards([world.learners["lA"], far], by=member, reissue=True)
    with pytest.raises(NotAllowedError):
        operations.update_contact(far, actor=member, phone=None, national_id=None)
    with pytest.raises(NotAllowedError):  # a province official reads learners but changes none
        operations.issue_login_card(world.learners["lA"], by=world.users["province_official"])
    with pytest.raises(NotAllowedError):  # limited to village vA: not another village of the commune
        operations.register_learner(world.users["village_member"], commune=world.units["cA"],
                                    village=world.units["vA2"], full_name="Mạc Văn Phong", birth_year=1980,
                                    sex="male", phone=None, national_id=None, consent_given=True, locale="vi")
    assert operations.issue_login_card(world.learners["lA"], by=member).pin  # in scope: done


def test_lookups_refuse_out_of_scope_and_unknown_alike(world):
    from lms.errors import NotAllowedError
    from lms.team import queries

    member = world.users["team_member"]
    assert queries.learner_for(member, world.learners["lA"].id, "write_learners") == world.learners["lA"]
    for learner_id in (world.learners["lC"].id, 2**31 - 1):
        with pytest.raises(NotAllowedError):
            queries.learner_for(member, learner_id)
    with pytest.raises(NotAllowedError):  # a learner's own account is not the team workspace
        queries.learner_for(world.users["learner"], world.learners["lA"].id)
    with pytest.raises(NotAllowedError):  # one learner out of scope refuses the whole list
        queries.learners_for(member, [world.learners["lA"].id, world.learners["lC"].id], "write_learners")


def test_a_refusal_is_never_shown_as_a_form_error(app):
    from lms.access import not_allowed
    from lms.forms import show_error
    from lms.team.forms import ConfirmForm

    with app.test_request_context(), pytest.raises(type(not_allowed())):
        show_error(ConfirmForm(formdata=None), not_allowed())
