"""Raising and reviewing data-quality flags. They flush; the request commits once.

When each flag is computed (the cheapest moment at which it can become true):
- fast course and helper burst: when `course_completed` fires (once per enrolment);
- fast quiz: when a passed quiz is recorded (`quiz_submitted`);
- duplicate: when the transaction that registered learners commits (one query for all
  of them, so an import of 2,100 rows costs a few queries, not 2,100);
- generated import: when an import is confirmed (`check_import`, called by the importer).
`flask quality scan` runs the same checks over everything already stored, for data
written before the flags existed or by a path that sends no signal.

The receivers are connected by `configure(app)` from `create_app`; `set_flagging(app,
False)` turns them off (the benchmark measures what they cost). Flags of an erased
learner are deleted with their personal data (`learner_deleted`); a transfer moves
the unit copies (`learner_moved`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, delete, event, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from lms import cache
from lms.access import check
from lms.audit.operations import record
from lms.db import insert_skipping_duplicates, utcnow
from lms.errors import DomainError, NotFoundError
from lms.extensions import db
from lms.learners.models import Learner
from lms.learning.models import Course, Enrollment, Lesson, LessonProgress, QuizAttempt, QuizQuestion
from lms.quality import thresholds
from lms.quality.models import (
    DUPLICATE,
    FAST_COURSE,
    FAST_QUIZ,
    GENERATED_IMPORT,
    GENUINE,
    HELPER_BURST,
    KINDS,
    OPEN,
    PROBLEM,
    QualityFlag,
)
from lms.quality.queries import forget_flagged_counts

PENDING_KEY = "quality_registered"  # session.info: learners registered in this transaction
CHUNK = 500


class QualityError(DomainError):
    pass


def _enabled() -> bool:
    return has_app_context() and current_app.extensions.get("quality", {}).get("enabled", False)


# -- reading time ----------------------------------------------------------------------

_TAG = re.compile(r"<[^>]+>")
_words = cache.named("quality_words", maxsize=4096, why=(
    "word counts of lessons and quizzes by content hash, for the reading-time flags; a new hash is a new key"))


def count_words(*texts: str) -> int:
    """Space-separated words of some text or sanitised HTML (tags dropped)."""
    return sum(len(_TAG.sub(" ", text or "").split()) for text in texts)


def reading_seconds(words: int) -> float:
    return words * 60.0 / thresholds.WORDS_PER_MINUTE


def lesson_words(lesson: Lesson) -> int:
    """Words of the shorter language version: the estimate is generous to the learner."""
    return _words.get_or_load(("lesson", lesson.id, lesson.content_hash), lambda: min(
        count_words(lesson.body_html_vi), count_words(lesson.body_html_en)))


def quiz_words(course: Course) -> int:
    """Words of the course's active questions and their choices (shorter language)."""
    def load() -> int:
        questions = db.session.scalars(select(QuizQuestion).where(
            QuizQuestion.course_id == course.id, QuizQuestion.is_active.is_(True))).all()
        return min(sum(count_words(q.text(locale), *q.choice_texts(locale)) for q in questions)
                   for locale in ("vi", "en"))
    return _words.get_or_load(("quiz", course.id, course.content_hash), load)


def lesson_seconds(row) -> float:
    """Time a lesson took: the seconds a device reported, or from first visit to completion."""
    elapsed = 0.0
    if row.completed_dt is not None and row.first_seen_dt is not None:
        elapsed = max(0.0, (row.completed_dt - row.first_seen_dt).total_seconds())
    return max(float(row.time_spent_seconds or 0), elapsed)


def fast_course_reason(course: Course, rows: Iterable) -> dict | None:
    """The reason to flag a completed course read in `rows` (its progress rows), or None."""
    lessons = list(course.lessons)
    expected = sum(reading_seconds(lesson_words(lesson)) for lesson in lessons)
    by_lesson = {row.lesson_id: row for row in rows}
    spent = sum(lesson_seconds(by_lesson[lesson.id]) for lesson in lessons if lesson.id in by_lesson)
    if not lessons or expected <= 0 or spent >= thresholds.FAST_COURSE_SHARE * expected:
        return None
    return {"course_id": course.id, "lessons": len(lessons), "seconds": round(spent),
            "expected_seconds": round(expected)}


def fast_quiz_reason(course: Course, attempt, opened: datetime | None) -> dict | None:
    """The reason to flag a passed attempt submitted too soon after `opened`, or None."""
    if opened is None or not attempt.is_passed:
        return None
    expected = reading_seconds(quiz_words(course))
    elapsed = max(0.0, (attempt.submitted_dt - opened).total_seconds())
    if expected <= 0 or elapsed >= thresholds.FAST_QUIZ_SHARE * expected:
        return None
    return {"course_id": course.id, "attempt_id": attempt.id, "questions": attempt.question_count,
            "seconds": round(elapsed), "expected_seconds": round(expected)}


# -- storing ---------------------------------------------------------------------------

def _flag_row(learner, kind: str, subject: str, reason: dict, now: datetime) -> dict:
    return {"kind": kind, "learner_id": learner.id, "subject": subject, "reason": reason,
            "province_id": learner.province_id, "commune_id": learner.commune_id,
            "village_id": learner.village_id, "status": OPEN, "created_dt": now}


def add_flags(rows: list[dict], *, counted: bool = True) -> int:
    """Store flags, skipping findings already stored (reviewed ones stay as reviewed).
    Returns how many were added; with `counted=False` (thousands of rows of one import) the
    rows are written without RETURNING and the number is the number offered."""
    added = 0
    rows = list({(row["kind"], row["learner_id"], row["subject"]): row for row in rows}.values())
    statement = insert_skipping_duplicates(QualityFlag.__table__, ("kind", "learner_id", "subject"))
    if not counted and rows:
        db.session.execute(statement, rows)
        added = len(rows)
    for start in range(0, len(rows) if counted else 0, CHUNK):
        added += len(db.session.scalars(statement.returning(QualityFlag.id), rows[start:start + CHUNK]).all())
    if added:
        forget_flagged_counts()
    return added


# -- checks on write -------------------------------------------------------------------
# Their statements are built once per process, with parameters: building them (aliases,
# subqueries) cost more CPU than running them, and these run inside writes.

_STATEMENTS: dict[str, object] = {}


def _statement(name: str, build):
    found = _STATEMENTS.get(name)
    if found is None:
        found = _STATEMENTS[name] = build()
    return found


def _progress_statement():
    return select(LessonProgress.lesson_id, LessonProgress.time_spent_seconds, LessonProgress.first_seen_dt,
                  LessonProgress.completed_dt).where(
        LessonProgress.learner_id == bindparam("learner_id"),
        LessonProgress.lesson_id.in_(bindparam("lesson_ids", expanding=True)))


def _opened_statement():
    last_lesson = select(func.max(LessonProgress.completed_dt)).where(
        LessonProgress.learner_id == bindparam("learner_id"),
        LessonProgress.lesson_id.in_(bindparam("lesson_ids", expanding=True))).scalar_subquery()
    previous = select(func.max(QuizAttempt.submitted_dt)).where(
        QuizAttempt.learner_id == bindparam("learner_id"), QuizAttempt.course_id == bindparam("course_id"),
        QuizAttempt.id != bindparam("attempt_id")).scalar_subquery()
    return select(last_lesson.label("lesson"), previous.label("attempt"))


_PLACE = ("id", "province_id", "commune_id", "village_id")


class _Placed(NamedTuple):
    """A learner as a flag needs them: id and units."""

    id: int
    province_id: int
    commune_id: int
    village_id: int | None


def _pairs_statement():
    new, other = aliased(Learner, name="new_learner"), aliased(Learner, name="other_learner")
    columns = [getattr(alias, name) for alias in (new, other) for name in _PLACE]  # plain rows, no ORM objects
    return select(*columns).join(other, and_(
        other.commune_id == new.commune_id, other.name_folded == new.name_folded,
        other.birth_year == new.birth_year, other.id != new.id, other.is_deleted.is_(False))).where(
        new.id.in_(bindparam("ids", expanding=True)), new.is_deleted.is_(False), new.birth_year.is_not(None),
        new.name_folded != "")

def check_fast_course(enrollment) -> int:
    course = enrollment.course
    learner = db.session.get(Learner, enrollment.learner_id)
    if learner is None or learner.is_deleted:
        return 0
    rows = db.session.execute(_statement("progress", _progress_statement), {
        "learner_id": learner.id, "lesson_ids": [lesson.id for lesson in course.lessons]}).all()
    reason = fast_course_reason(course, rows)
    if reason is None:
        return 0
    return add_flags([_flag_row(learner, FAST_COURSE, f"course:{course.id}", reason, utcnow())])


def quiz_opened(learner_id: int, course: Course, attempt_id: int | None) -> datetime | None:
    """When the quiz could first be opened for this attempt: the later of the last lesson
    completed and the previous attempt submitted."""
    # One statement for both; MAX() comes back as text on SQLite, hence _as_moment.
    last_lesson, previous = (_as_moment(value) for value in db.session.execute(
        _statement("opened", _opened_statement), {"learner_id": learner_id, "lesson_ids": [x.id for x in course.lessons],
                                                   "course_id": course.id, "attempt_id": attempt_id or 0}).one())
    moments = [moment for moment in (last_lesson, previous) if moment is not None]
    return max(moments) if moments else None


def _as_moment(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)  # SQLite: MAX() of a DATETIME is text


def check_fast_quiz(attempt) -> int:
    if not attempt.is_passed:
        return 0
    learner = db.session.get(Learner, attempt.learner_id)
    course = db.session.get(Course, attempt.course_id)
    if learner is None or learner.is_deleted or course is None:
        return 0
    reason = fast_quiz_reason(course, attempt, quiz_opened(learner.id, course, attempt.id))
    if reason is None:
        return 0
    return add_flags([_flag_row(learner, FAST_QUIZ, f"attempt:{attempt.id}", reason, utcnow())])


def check_helper(helper_id: int, now: datetime | None = None, learner_id: int | None = None) -> int:
    """Flag every learner a helper completed a course for, once the helper passed quizzes of
    HELPER_COMPLETIONS (learner, course) pairs within the window. `learner_id`: whose
    completion this is (None, from the scan: every learner of the window)."""
    now = now or utcnow()
    since = now - timedelta(minutes=thresholds.HELPER_WINDOW_MINUTES)
    pairs = db.session.execute(select(QuizAttempt.learner_id, QuizAttempt.course_id).where(
        QuizAttempt.helped_by_id == helper_id, QuizAttempt.submitted_dt >= since, QuizAttempt.submitted_dt <= now,
        QuizAttempt.is_passed.is_(True)).distinct()).all()
    if len(pairs) < thresholds.HELPER_COMPLETIONS:
        return 0
    reason = {"helper_id": helper_id, "completions": len(pairs), "minutes": thresholds.HELPER_WINDOW_MINUTES}
    # Above the threshold, the completions before this one were flagged by the previous check
    # (its window held all of them): only this learner is new.
    chosen = {learner_id for learner_id, _course in pairs} if len(pairs) == thresholds.HELPER_COMPLETIONS or \
        learner_id is None else {learner_id}
    learners = db.session.scalars(select(Learner).where(Learner.id.in_(chosen), Learner.is_deleted.is_(False))).all()
    return add_flags([_flag_row(learner, HELPER_BURST, f"helper:{helper_id}", reason, now) for learner in learners])


def _pair_rows(pairs, match: str, now: datetime) -> list[dict]:
    rows = []
    for first, second in pairs:
        rows.append(_flag_row(first, DUPLICATE, f"learner:{second.id}", {"other_id": second.id, "match": match}, now))
    return rows


def check_duplicates(learner_ids: Iterable[int]) -> int:
    """Flag both learners of each pair with the same folded name, birth year and commune."""
    ids, now, rows = sorted(set(learner_ids)), utcnow(), []
    for start in range(0, len(ids), CHUNK):
        pairs = [(_Placed(*row[:4]), _Placed(*row[4:])) for row in db.session.execute(
            _statement("pairs", _pairs_statement), {"ids": ids[start:start + CHUNK]})]
        rows += _pair_rows([(a, b) for a, b in pairs] + [(b, a) for a, b in pairs], "name_year_commune", now)
    return add_flags(rows)


def generated_reason(rows: list[tuple[str | None, int | None]]) -> dict | None:
    """(phone, birth year) of an import's rows: the reason to flag it as generated, or None."""
    phones = sorted({int(phone.lstrip("+")) for phone, _year in rows if phone and phone.lstrip("+").isdigit()})
    years = [year for _phone, year in rows if year is not None]
    sequential = sum(1 for a, b in zip(phones, phones[1:], strict=False) if b - a == 1)
    phone_share = sequential / (len(phones) - 1) if len(phones) > 1 else 0.0
    common_year, common = Counter(years).most_common(1)[0] if years else (None, 0)
    year_share = common / len(years) if years else 0.0
    is_phones = len(phones) >= thresholds.GENERATED_MIN_ROWS and phone_share >= thresholds.SEQUENTIAL_PHONE_SHARE
    is_years = len(years) >= thresholds.GENERATED_MIN_ROWS and year_share >= thresholds.SAME_BIRTH_YEAR_SHARE
    if len(rows) < thresholds.GENERATED_MIN_ROWS or not (is_phones or is_years):
        return None
    return {"rows": len(rows), "sequential_phones": sequential + 1 if is_phones else 0,
            "same_year_rows": common if is_years else 0, "year": common_year if is_years else None}


def check_import(import_id: int, imported: list[tuple[int, str | None, int | None]], *, province_id: int,
                 commune_id: int, villages: list[int | None]) -> int:
    """After an import is confirmed: flag its learners if the rows look generated.

    `imported`: (learner id, phone, birth year) of each row as the importer wrote it, and
    `villages` in the same order: nothing is read back, so an import that looks genuine
    (the usual case) costs no statement. Its learners need no duplicate check: the
    importer refuses a row whose name and birth year the commune (or the file) already
    has, so they leave the commit-time check too."""
    if not _enabled():
        return 0
    pending = db.session.info.get(PENDING_KEY)
    if pending:
        pending.difference_update(learner_id for learner_id, _phone, _year in imported)
    return _flag_generated(import_id, [(_Placed(learner_id, province_id, commune_id, village), phone, year)
                                       for (learner_id, phone, year), village in zip(imported, villages, strict=True)])


def _flag_generated(import_id: int, rows: list[tuple[_Placed, str | None, int | None]]) -> int:
    reason = generated_reason([(phone, year) for _placed, phone, year in rows])
    if reason is None:
        return 0
    reason["import_id"] = import_id
    now = utcnow()
    return add_flags([_flag_row(placed, GENERATED_IMPORT, f"import:{import_id}", reason, now)
                      for placed, _phone, _year in rows], counted=False)


def _check_stored_import(import_id: int, learner_ids: list[int]) -> int:
    """`check_import` for an import confirmed earlier (the scan): its rows as they are now."""
    from lms.accounts.models import User

    rows = []
    for start in range(0, len(learner_ids), CHUNK):
        rows += db.session.execute(select(*(getattr(Learner, name) for name in _PLACE), Learner.birth_year, User.phone)
                                   .outerjoin(User, User.id == Learner.user_id)
                                   .where(Learner.id.in_(learner_ids[start:start + CHUNK]),
                                          Learner.is_deleted.is_(False))).all()
    return _flag_generated(import_id, [(_Placed(*row[:4]), row.phone, row.birth_year) for row in rows])


# -- the whole database ----------------------------------------------------------------

def counts_by_kind() -> dict[str, int]:
    return dict(db.session.execute(select(QualityFlag.kind, func.count()).group_by(QualityFlag.kind)).all())


def scan(imports: Iterable[tuple[int, list[int]]] = ()) -> dict[str, int]:
    """Every check over everything stored; returns the new flags by kind. Findings already
    stored (reviewed or not) are skipped, deleted learners never flagged. `imports`: the
    (import id, learner ids) of confirmed imports (the importer's records live above)."""
    before = counts_by_kind()
    courses = {course.id: course for course in db.session.scalars(select(Course))}
    learner_ids = db.session.scalars(select(Learner.id).where(Learner.is_deleted.is_(False)).order_by(Learner.id)).all()
    for start in range(0, len(learner_ids), CHUNK):
        chunk = learner_ids[start:start + CHUNK]
        _scan_courses(chunk, courses)
        _scan_quizzes(chunk, courses)
    helpers = db.session.scalars(select(QuizAttempt.helped_by_id).where(
        QuizAttempt.helped_by_id.is_not(None), QuizAttempt.is_passed.is_(True)).distinct()).all()
    for helper_id in helpers:
        _scan_helper(helper_id)
    _scan_duplicates()
    for import_id, ids in imports:
        _check_stored_import(import_id, ids)
    after = counts_by_kind()
    return {kind: after.get(kind, 0) - before.get(kind, 0) for kind in KINDS}


def _scan_courses(learner_ids: list[int], courses: dict) -> int:
    learners = {x.id: x for x in db.session.scalars(select(Learner).where(Learner.id.in_(learner_ids)))}
    completed = db.session.execute(select(Enrollment.learner_id, Enrollment.course_id).where(
        Enrollment.learner_id.in_(learner_ids), Enrollment.completed_dt.is_not(None))).all()
    if not completed:
        return 0
    progress: dict[int, list] = {}
    for row in db.session.execute(select(
            LessonProgress.learner_id, LessonProgress.lesson_id, LessonProgress.time_spent_seconds,
            LessonProgress.first_seen_dt, LessonProgress.completed_dt).where(
            LessonProgress.learner_id.in_({learner_id for learner_id, _c in completed}))):
        progress.setdefault(row.learner_id, []).append(row)
    now, rows = utcnow(), []
    for learner_id, course_id in completed:
        course = courses[course_id]
        reason = fast_course_reason(course, progress.get(learner_id, []))
        if reason is not None:
            rows.append(_flag_row(learners[learner_id], FAST_COURSE, f"course:{course_id}", reason, now))
    return add_flags(rows)


def _scan_quizzes(learner_ids: list[int], courses: dict) -> int:
    learners = {x.id: x for x in db.session.scalars(select(Learner).where(Learner.id.in_(learner_ids)))}
    attempts = db.session.scalars(select(QuizAttempt).where(QuizAttempt.learner_id.in_(learner_ids))
                                  .order_by(QuizAttempt.learner_id, QuizAttempt.course_id, QuizAttempt.submitted_dt,
                                            QuizAttempt.id)).all()
    if not attempts:
        return 0
    lesson_course = {lesson.id: course.id for course in courses.values() for lesson in course.lessons}
    last_lesson: dict[tuple[int, int], datetime] = {}
    for learner_id, lesson_id, completed in db.session.execute(select(
            LessonProgress.learner_id, LessonProgress.lesson_id, LessonProgress.completed_dt).where(
            LessonProgress.learner_id.in_(learner_ids), LessonProgress.completed_dt.is_not(None))):
        key = (learner_id, lesson_course.get(lesson_id, 0))
        last_lesson[key] = max(last_lesson.get(key, completed), completed)
    now, rows, previous = utcnow(), [], {}
    for attempt in attempts:
        key = (attempt.learner_id, attempt.course_id)
        moments = [m for m in (last_lesson.get(key), previous.get(key)) if m is not None]
        course = courses[attempt.course_id]
        reason = fast_quiz_reason(course, attempt, max(moments) if moments else None)
        if reason is not None:
            rows.append(_flag_row(learners[attempt.learner_id], FAST_QUIZ, f"attempt:{attempt.id}", reason, now))
        previous[key] = attempt.submitted_dt
    return add_flags(rows)


def _scan_helper(helper_id: int) -> int:
    """Slide the window over the helper's passed quizzes; check at each one (as on write)."""
    moments = db.session.scalars(select(QuizAttempt.submitted_dt).where(
        QuizAttempt.helped_by_id == helper_id, QuizAttempt.is_passed.is_(True)).order_by(QuizAttempt.submitted_dt)).all()
    window = timedelta(minutes=thresholds.HELPER_WINDOW_MINUTES)
    added, start = 0, 0
    for end, moment in enumerate(moments):
        while moments[start] < moment - window:
            start += 1
        if end - start + 1 >= thresholds.HELPER_COMPLETIONS:
            added += check_helper(helper_id, moment)
    return added


def _scan_duplicates() -> int:
    """Pairs with the same name key in a commune, and (should the unique constraint ever
    be relaxed) the same ID hash."""
    first, second = aliased(Learner), aliased(Learner)
    live = and_(first.is_deleted.is_(False), second.is_deleted.is_(False), first.id != second.id)
    by_name = select(first, second).join(second, and_(
        second.commune_id == first.commune_id, second.name_folded == first.name_folded,
        second.birth_year == first.birth_year)).where(live, first.birth_year.is_not(None), first.name_folded != "")
    by_id = select(first, second).join(second, second.national_id_hash == first.national_id_hash).where(
        live, first.national_id_hash.is_not(None))
    now = utcnow()
    return (add_flags(_pair_rows(db.session.execute(by_name).all(), "name_year_commune", now))
            + add_flags(_pair_rows(db.session.execute(by_id).all(), "id_hash", now)))


# -- review ----------------------------------------------------------------------------

def review_flag(flag_id: int, status: str, *, actor) -> QualityFlag:
    """An official confirms a flag as genuine (the data is right) or marks it a problem;
    recorded in the audit log of the learner's commune."""
    check(actor, "review_quality_flags")
    flag = db.session.get(QualityFlag, flag_id)
    learner = db.session.get(Learner, flag.learner_id) if flag is not None else None
    if flag is None or learner is None or learner.is_deleted:
        raise NotFoundError("flag-not-found", _l("This flag no longer exists."))
    check(actor, "review_quality_flags", learner)
    if status not in (GENUINE, PROBLEM):
        raise QualityError("flag-status-invalid", _l("Choose genuine or problem."))
    previous = flag.status
    flag.status, flag.reviewed_by_id, flag.reviewed_dt = status, actor.id, utcnow()
    forget_flagged_counts()
    record("quality.review", actor=actor, learner=learner, flag_id=flag.id, kind=flag.kind, status=status,
           previous=previous)
    db.session.flush()
    return flag


# -- receivers ---------------------------------------------------------------------------

def _on_course_completed(enrollment, helper=None, **_extra) -> None:
    if not _enabled():
        return
    check_fast_course(enrollment)
    if helper is not None:
        check_helper(helper.id, learner_id=enrollment.learner_id)


def _on_quiz_submitted(attempt, **_extra) -> None:
    if _enabled() and attempt.is_passed:
        check_fast_quiz(attempt)


def _on_registered(learner, **_extra) -> None:
    if _enabled() and learner.birth_year is not None and learner.name_folded:  # else nothing can match
        db.session.info.setdefault(PENDING_KEY, set()).add(learner.id)


def _before_commit(session: Session) -> None:
    """Also on a savepoint's commit, and ids of a rolled-back registration may remain: the
    check finds nothing for rows that do not exist, and skips findings already stored."""
    pending = session.info.pop(PENDING_KEY, None)
    if pending and _enabled():
        check_duplicates(pending)


def _on_deleted(learner, **_extra) -> None:  # always, even with flagging off
    """Erasure: the learner's flags go with their personal data, and so do the flags of
    the other learner of a pair that named them."""
    db.session.execute(delete(QualityFlag).where(or_(
        QualityFlag.learner_id == learner.id,
        and_(QualityFlag.kind == DUPLICATE, QualityFlag.subject == f"learner:{learner.id}"))))
    forget_flagged_counts()


def _on_moved(learner, **_extra) -> None:
    db.session.execute(update(QualityFlag).where(QualityFlag.learner_id == learner.id).values(
        province_id=learner.province_id, commune_id=learner.commune_id, village_id=learner.village_id))
    forget_flagged_counts()


def configure(app) -> None:
    """Connect the checks (from create_app): signals of learning and learners, and the
    commit of a transaction that registered learners."""
    from lms.learners import events as learner_events
    from lms.learning import events as learning_events

    app.extensions["quality"] = {"enabled": True}
    learning_events.course_completed.connect(_on_course_completed, weak=False)
    learning_events.quiz_submitted.connect(_on_quiz_submitted, weak=False)
    learner_events.learner_registered.connect(_on_registered, weak=False)
    learner_events.learner_deleted.connect(_on_deleted, weak=False)
    learner_events.learner_moved.connect(_on_moved, weak=False)
    if not event.contains(Session, "before_commit", _before_commit):
        event.listen(Session, "before_commit", _before_commit)


def set_flagging(app, enabled: bool) -> None:
    """Turn the checks on write on or off (the benchmark measures what they cost)."""
    app.extensions["quality"]["enabled"] = enabled
