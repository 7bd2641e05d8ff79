"""Open data: counts anyone may download, with no personal data.

Only three figures (registered learners, completed enrolments, certificates) by
province, by commune and by month, never by sex or age. Protection of small counts:
a true count of 1–4 is published as null ("fewer than 5"), and *every* other published
value — totals included — is rounded to the nearest multiple of 5. Because the totals
are rounded too, subtracting published cells from a published total leaves an
uncertainty of ±2 per value involved, wider than the 1–4 range it would have to pin
down; a suppressed cell cannot be recovered (tests/statistics/test_open_data.py shows
two different data sets that publish identically). True zeros are published as 0.
The counts are read from the dashboard rollup (`stat_rollups`), like the dashboards.
"""

from __future__ import annotations

from sqlalchemy import select

from lms.extensions import db
from lms.statistics.models import ALL, CERTIFIED, COMPLETED, REGISTERED, StatRollup
from lms.units.models import Unit

OPEN_METRICS = (REGISTERED, COMPLETED, CERTIFIED)
SMALL = 5


def publish(value: int) -> int | None:
    """The published form of a true count: null for 1–4, else rounded to base 5."""
    if 0 < value < SMALL:
        return None
    return int((value + 2) // 5 * 5)  # nearest multiple of 5; .5 cases cannot occur for integers


def _totals(rows) -> dict:
    totals: dict = {}
    for key, metric, value in rows:
        totals.setdefault(key, dict.fromkeys(OPEN_METRICS, 0))[metric] += int(value or 0)
    return totals


def _published(counts: dict) -> dict:
    return {metric: publish(counts.get(metric, 0)) for metric in OPEN_METRICS}


def open_data(province: Unit | None = None) -> dict:
    """Published counts of the nation (per province and month) or of one province (per commune),
    read from the dashboard rollup."""
    from lms.statistics.queries import child_totals, unit_rows

    unit = province  # None: the nation
    metric = StatRollup.metric.in_(OPEN_METRICS)
    by_unit = _totals(child_totals(unit, metric))
    units = db.session.scalars(select(Unit).where(Unit.id.in_(by_unit)).order_by(Unit.name_sort_key)) if by_unit else []
    total = dict.fromkeys(OPEN_METRICS, 0)
    for counts in by_unit.values():
        for name in OPEN_METRICS:
            total[name] += counts[name]
    months = _totals((period, name, value) for course_id, period, dimension, name, value
                     in unit_rows(unit, metric, StatRollup.course_id == 0, StatRollup.dimension == ALL)
                     if period != ALL)
    return {
        "unit": {"code": province.code, "name": province.name} if province else {"code": "VN", "name": "Việt Nam"},
        "rule": "counts of 1-4 are null; every other value, totals included, is rounded to a multiple of 5",
        "total": _published(total),
        "units": [{"code": u.code, "name": u.name, **_published(by_unit[u.id])} for u in units],
        "months": [{"month": month, **_published(counts)} for month, counts in sorted(months.items())],
    }
