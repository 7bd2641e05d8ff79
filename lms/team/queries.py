"""Reading learners for the team workspace. Every query is limited by `scope_units`,
and those that open the workspace check the account's action first (`lms.access.check`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, or_, select

from lms.access import check, not_allowed, scope_units
from lms.accounts.models import User
from lms.certs.models import Certificate
from lms.extensions import db
from lms.learners.models import Consent, Learner
from lms.learning.models import Course, Enrollment
from lms.pagination import count
from lms.team.models import LearnerImport
from lms.text import fold
from lms.units import queries as units
from lms.units.models import COMMUNE, Unit
from lms.validation import normalize_phone

NOT_STARTED, IN_PROGRESS, COMPLETED, CERTIFIED = "not-started", "in-progress", "completed", "certified"
STATUSES = (NOT_STARTED, IN_PROGRESS, COMPLETED, CERTIFIED)
PHONE, NATIONAL_ID, NAME_YEAR = "phone", "national_id", "name_year"
NO_CARD = "none"  # LearnerFilter.card: learners whose account has no password yet (imported, no card printed)
CHUNK = 500  # parameters per IN (...) query, well under every engine's limit


@dataclass
class Duplicate:
    kind: str  # phone, national_id or name_year
    learner: Learner | None  # None when the match is outside the member's scope (not shown)
    learner_id: int | None = None  # the match, in or out of scope: only for a request to the official


def _chunks(values: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def find_duplicates(user, *, commune_id: int, name: str, birth_year: int | None, phone: str | None,
                    id_hash: str | None, exclude_id: int | None = None) -> list[Duplicate]:
    """Learners who are probably the same person; hidden if outside the user's scope."""
    scope = scope_units(user)
    found: list[Duplicate] = []
    seen: set[tuple[str, int]] = set()

    def add(kind: str, learners) -> None:
        for learner in learners:
            if learner.id == exclude_id or (kind, learner.id) in seen:
                continue
            seen.add((kind, learner.id))
            found.append(Duplicate(kind, learner if scope.covers_learner(learner) else None, learner.id))

    if phone:
        owner = db.session.scalar(select(User).where(User.phone == phone))
        if owner is not None:
            learner = getattr(owner, "learner", None)
            if learner is None:  # a staff account: say so without showing it
                found.append(Duplicate(PHONE, None))
            else:
                add(PHONE, [learner])
    if id_hash:
        add(NATIONAL_ID, db.session.scalars(select(Learner).where(Learner.national_id_hash == id_hash)))
    if birth_year and name:
        add(NAME_YEAR, db.session.scalars(select(Learner).where(
            Learner.commune_id == commune_id, Learner.name_folded == fold(name),
            Learner.birth_year == birth_year, Learner.is_deleted.is_(False))))
    return found


@dataclass
class ExistingKeys:
    """What is already registered, fetched in a few queries for a whole import."""

    phones: set[str]
    id_hashes: set[str]
    name_keys: set[tuple[str, int]]
    usernames: set[str]


def existing_keys(commune_id: int, phones: list[str], id_hashes: list[str]) -> ExistingKeys:
    """Phones and ID hashes among the given ones, and every name key of the commune."""
    found_phones: set[str] = set()
    for chunk in _chunks(sorted(set(phones))):
        found_phones.update(db.session.scalars(select(User.phone).where(User.phone.in_(chunk))))
    found_hashes: set[str] = set()
    for chunk in _chunks(sorted(set(id_hashes))):
        found_hashes.update(db.session.scalars(select(Learner.national_id_hash)
                                               .where(Learner.national_id_hash.in_(chunk))))
    name_keys = {(name, year) for name, year in db.session.execute(
        select(Learner.name_folded, Learner.birth_year).where(
            Learner.commune_id == commune_id, Learner.is_deleted.is_(False), Learner.birth_year.is_not(None)))}
    return ExistingKeys(found_phones, found_hashes, name_keys, set())


def import_rows_since(member, since) -> int:
    """Rows of the files the member uploaded since then (each row's phone and ID number were checked)."""
    return db.session.scalar(select(func.coalesce(func.sum(LearnerImport.row_count), 0)).where(
        LearnerImport.created_by_id == member.id, LearnerImport.created_dt >= since)) or 0


def taken_usernames(candidates: list[str]) -> set[str]:
    taken: set[str] = set()
    for chunk in _chunks(sorted(set(candidates))):
        taken.update(db.session.scalars(select(User.username).where(User.username.in_(chunk))))
    return taken


# --- The learner list ------------------------------------------------------------------

@dataclass
class LearnerFilter:
    q: str = ""
    village_id: int | None = None
    course_id: int | None = None
    status: str = ""
    card: str = ""


def _status_condition(status: str, course_id: int | None):
    enrolment = Enrollment.learner_id == Learner.id
    certificate = and_(Certificate.learner_id == Learner.id, Certificate.is_revoked.is_(False))
    if course_id:
        enrolment = and_(enrolment, Enrollment.course_id == course_id)
        certificate = and_(certificate, Certificate.course_id == course_id)
    enrolled = exists().where(enrolment)
    completed = exists().where(and_(enrolment, Enrollment.completed_dt.is_not(None)))
    certified = exists().where(certificate)
    return {
        NOT_STARTED: ~enrolled,
        IN_PROGRESS: and_(enrolled, ~completed),
        COMPLETED: and_(completed, ~certified),
        CERTIFIED: certified,
    }[status]


def learners_query(user, filters: LearnerFilter):
    """Learners in the user's scope matching the filters, in Vietnamese name order."""
    check(user, "read_learners")
    query = (select(Learner).where(scope_units(user).learner_filter(), Learner.is_deleted.is_(False))
             .outerjoin(User, User.id == Learner.user_id))
    text = (filters.q or "").strip()
    if text:
        phone = normalize_phone(text)
        digits = "".join(ch for ch in text if ch.isdigit())
        conditions = [Learner.name_folded.contains(fold(text), autoescape=True)]
        if phone:
            conditions.append(User.phone == phone)
        if digits and len(digits) == len(text.replace(" ", "")) and len(digits) <= 4:
            conditions.append(Learner.national_id_last4.endswith(digits, autoescape=True))
        query = query.where(or_(*conditions))
    if filters.village_id:
        query = query.where(Learner.village_id == filters.village_id)
    if filters.status in STATUSES:
        query = query.where(_status_condition(filters.status, filters.course_id))
    elif filters.course_id:
        query = query.where(exists().where(Enrollment.learner_id == Learner.id,
                                           Enrollment.course_id == filters.course_id))
    if filters.card == NO_CARD:
        query = query.where(without_card())
    return query.order_by(Learner.name_sort_key, Learner.id)


def without_card():
    """Condition on the joined `User`: an account with no password yet (no card issued)."""
    return and_(User.id.is_not(None), User.password_hash == "")  # nosec B105: an empty hash: no card printed yet


def no_card_of(learner_ids: list[int]) -> set[int]:
    """Which of these learners have an account without a password yet (no card issued)."""
    out: set[int] = set()
    for chunk in _chunks(learner_ids):
        out.update(db.session.scalars(select(Learner.id).join(User, User.id == Learner.user_id)
                                      .where(Learner.id.in_(chunk), without_card())))
    return out


def learners_by_ids(user, learner_ids: list[int]) -> list[Learner]:
    """The listed learners that the user's scope covers, in name order."""
    found: list[Learner] = []
    for chunk in _chunks(sorted(set(learner_ids))):
        found.extend(db.session.scalars(select(Learner).where(
            Learner.id.in_(chunk), Learner.is_deleted.is_(False), scope_units(user).learner_filter())))
    return sorted(found, key=lambda learner: (learner.name_sort_key, learner.id))


def without_card_among(user, learner_ids: list[int], limit: int) -> tuple[list[Learner], int]:
    """Up to `limit` learners of the list still without a card (in scope), and how many there are."""
    found: list[Learner] = []
    total = 0
    for chunk in _chunks(sorted(set(learner_ids))):
        query = (select(Learner).join(User, User.id == Learner.user_id)
                 .where(Learner.id.in_(chunk), Learner.is_deleted.is_(False), scope_units(user).learner_filter(),
                        without_card()))
        total += count(query)
        if len(found) < limit:
            found.extend(db.session.scalars(query.order_by(Learner.id).limit(limit - len(found))))
    return sorted(found, key=lambda learner: (learner.name_sort_key, learner.id)), total


def statuses_of(learner_ids: list[int]) -> dict[int, str]:
    """Overall status of each learner, in three queries for a whole page."""
    status = dict.fromkeys(learner_ids, NOT_STARTED)
    for chunk in _chunks(learner_ids):
        for learner_id, done in db.session.execute(
                select(Enrollment.learner_id, func.count(Enrollment.completed_dt))
                .where(Enrollment.learner_id.in_(chunk)).group_by(Enrollment.learner_id)):
            status[learner_id] = COMPLETED if done else IN_PROGRESS
        for (learner_id,) in db.session.execute(select(Certificate.learner_id).where(
                Certificate.learner_id.in_(chunk), Certificate.is_revoked.is_(False)).distinct()):
            status[learner_id] = CERTIFIED
    return status


def phones_of(learner_ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for chunk in _chunks(learner_ids):
        out.update(db.session.execute(select(Learner.id, User.phone).join(User, User.id == Learner.user_id)
                                      .where(Learner.id.in_(chunk), User.phone.is_not(None))).all())
    return out


def learner_for(user, learner_id: int, action: str = "read_learners") -> Learner:
    """The learner `user` may do `action` on (`NotAllowedError` otherwise, also for an id
    that does not exist: out of scope and unknown look alike)."""
    check(user, action)
    learner = learner_in_scope(user, learner_id)
    if learner is None:
        raise not_allowed()
    check(user, action, learner)
    return learner


def learners_for(user, learner_ids: list[int], action: str) -> list[Learner]:
    """`learners_by_ids`, all of them or `NotAllowedError` (one out of scope refuses the lot)."""
    check(user, action)
    chosen = learners_by_ids(user, learner_ids)
    if len(chosen) != len(set(learner_ids)):
        raise not_allowed()
    for learner in chosen:
        check(user, action, learner)
    return chosen


def team_commune(user) -> Unit:
    """The commune a team member or commune official registers and imports learners in."""
    check(user, "write_learners")
    commune = units.current_unit(user.scope_unit_id, COMMUNE)
    if commune is None:
        raise not_allowed()
    return commune


def learner_in_scope(user, learner_id: int) -> Learner | None:
    """The learner if the user's scope covers them (None otherwise: 404 or 403 alike)."""
    return db.session.scalar(select(Learner).where(Learner.id == learner_id, Learner.is_deleted.is_(False),
                                                   scope_units(user).learner_filter()))


def courses() -> list[Course]:
    return list(db.session.scalars(select(Course).where(Course.is_published.is_(True)).order_by(Course.position)))


def certificates_of(learner: Learner) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(Certificate.learner_id == learner.id)
                                   .order_by(Certificate.issued_dt)))


def consents_of(learner: Learner) -> list[Consent]:
    return list(db.session.scalars(select(Consent).where(Consent.learner_id == learner.id)
                                   .order_by(Consent.given_dt)))
