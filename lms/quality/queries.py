"""Reading data-quality flags: the list an official reviews, and the counts dashboards
and exports show beside their figures.

Who sees which flag is decided by `lms.access` alone: the list joins the learner and
filters on `scope_units(user).learner_filter()`. Dashboards count from the flags' own
copies of the learner's units (one index range, never the learners table), and count
a learner once however many flags they have; a flag confirmed genuine no longer counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager

from lms import cache
from lms.access import check, scope_units
from lms.extensions import db
from lms.learners.models import Learner
from lms.quality.models import COUNTED, KINDS, STATUSES, QualityFlag
from lms.units.models import COMMUNE, NATION, PROVINCE, VILLAGE


def flags_query(user, *, status: str = "open", kind: str = "") -> Select:
    """Flags (with their learner) the user may see, newest first; `status` 'all' for every one."""
    check(user, "review_quality_flags")
    query = (select(QualityFlag).join(QualityFlag.learner).options(contains_eager(QualityFlag.learner))
             .where(scope_units(user).learner_filter(), Learner.is_deleted.is_(False)))
    if status in STATUSES:
        query = query.where(QualityFlag.status == status)
    if kind in KINDS:
        query = query.where(QualityFlag.kind == kind)
    return query.order_by(QualityFlag.created_dt.desc(), QualityFlag.id.desc())


@dataclass(frozen=True)
class FlaggedCounts:
    """Learners with a flag not confirmed genuine: in the unit, and per unit below it."""

    total: int = 0
    children: dict[int | None, int] = field(default_factory=dict)

    def of(self, unit_id: int | None) -> int:
        return self.children.get(unit_id, 0)


# The column that groups the units below; the conditions name every column above it, so the
# read is one range of ix_quality_flags_units (province, commune, village, learner, status).
_CHILD = {NATION: QualityFlag.province_id, PROVINCE: QualityFlag.commune_id, COMMUNE: QualityFlag.village_id,
          VILLAGE: None}


def _within(unit) -> list:
    if unit.level == NATION:
        return []
    if unit.level == PROVINCE:
        return [QualityFlag.province_id == unit.id]
    if unit.level == COMMUNE:
        return [QualityFlag.province_id == unit.province_id, QualityFlag.commune_id == unit.id]
    return [QualityFlag.province_id == unit.province_id, QualityFlag.commune_id == unit.commune_id,
            QualityFlag.village_id == unit.id]


FLAGGED_COUNTS_SECONDS = 30.0  # as a commune's villages: a change through another process shows within 30 s
_flagged = cache.named("quality_flagged_counts", maxsize=4096, ttl=FLAGGED_COUNTS_SECONDS, why=(
    "flagged learners per unit for dashboards; forgotten by this process on every flag written or reviewed"))


def flagged_counts(unit) -> FlaggedCounts:
    """How many learners of `unit` (and of each unit directly below it) are flagged: one
    query over the flags' unit index, kept 30 seconds (the nation's count reads every flag,
    and a dashboard must stay within its 10 ms whatever the number of flags)."""
    return _flagged.get_or_load(unit.id, lambda: _count_flagged(unit))


def forget_flagged_counts() -> None:
    _flagged.clear()


def _count_flagged(unit) -> FlaggedCounts:
    child = _CHILD[unit.level]
    conditions = [*_within(unit), QualityFlag.status.in_(COUNTED)]
    if child is None:
        total = db.session.scalar(select(func.count(func.distinct(QualityFlag.learner_id))).where(*conditions))
        return FlaggedCounts(total or 0)
    rows = db.session.execute(select(child, func.count(func.distinct(QualityFlag.learner_id)))
                              .where(*conditions).group_by(child)).all()
    children = {unit_id: count for unit_id, count in rows}
    return FlaggedCounts(sum(children.values()), children)


def flags_of(learner_ids: list[int]) -> dict[int, list[str]]:
    """{learner id: kinds of their flags not confirmed genuine} (for exports)."""
    found: dict[int, list[str]] = {}
    for start in range(0, len(learner_ids), 500):
        for learner_id, kind in db.session.execute(select(QualityFlag.learner_id, QualityFlag.kind).where(
                QualityFlag.learner_id.in_(learner_ids[start:start + 500]), QualityFlag.status.in_(COUNTED))
                .order_by(QualityFlag.learner_id, QualityFlag.kind).distinct()):
            found.setdefault(learner_id, []).append(kind)
    return found
