"""The main menu, by what the current user may do. Entries whose page is not
installed (a blueprint not registered) are skipped."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms.access import may

MENU = [
    ("learning.catalogue", _l("Courses"), lambda user: True),
    ("learning.my_learning", _l("My learning"), lambda user: may(user, "follow_courses")),
    ("certs.my_certificates", _l("My certificates"), lambda user: may(user, "follow_courses")),
    ("team.learners", _l("Learners"), lambda user: may(user, "read_learners")),
    ("certs.issued", _l("Certificates"), lambda user: may(user, "read_learners")),
    ("units.villages", _l("Villages"), lambda user: may(user, "manage_villages")),
    ("duplicates.requests", _l("Duplicate registrations"), lambda user: may(user, "resolve_duplicates")),
    ("statistics.dashboard", _l("Statistics"), lambda user: may(user, "read_statistics")),
    ("quality.flags", _l("Data quality"), lambda user: may(user, "review_quality_flags")),
]


@dataclass
class NavItem:
    url: str
    label: str
    current: bool


def nav_items() -> list[NavItem]:
    items = []
    for endpoint, label, visible in MENU:
        if endpoint in current_app.view_functions and visible(current_user):
            items.append(NavItem(url_for(endpoint), str(label), request.endpoint == endpoint))
    return items
