"""The audit log page (`/team/audit`): officials read who touched whose data in their scope.

The URL stays under /team, where officials found it before the page moved here from the
team workspace.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from lms.audit import queries
from lms.pagination import page_number, paginate

bp = Blueprint("audit", __name__, template_folder="templates")

PER_PAGE = 100


@bp.get("/team/audit")
@login_required
def audit_log():
    page = paginate(queries.audit_events(current_user), page=page_number(request.args), per_page=PER_PAGE)
    return render_template("audit/audit.html", page=page)
