"""Sync the course content in `courses/` into the database.

The files are the source of truth; the `courses`, `lessons` and `quiz_questions` rows
are a rendered copy that the site reads. A sync is idempotent and keyed by what never
changes in the files: a course by its slug, a lesson by (course, slug), a question by
(course, id). Learners' progress rows point at lessons and their quiz answers name
question keys, so nothing is ever deleted: a lesson or question removed from the files
is marked inactive (and reactivated if it comes back), and a course whose folder has
gone is unpublished. A course whose files hash to the stored `content_hash` is skipped.

Everything is validated before anything is written: one bad course stops the whole
sync. `sync_courses` only flushes; the caller (`flask courses load`) commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from lms.core import page_cache
from lms.extensions import db
from lms.learning import content_cache
from lms.learning.content_source import (
    MAX_QUESTIONS,
    MIN_QUESTIONS,
    ContentError,
    CourseSource,
    LessonSource,
    QuestionSource,
    read_course,
    render_markdown,
)
from lms.learning.models import Course, Lesson, QuizQuestion

__all__ = ["ContentError", "SyncReport", "check_courses", "read_course", "read_courses", "render_markdown",
           "sync_courses"]


@dataclass
class SyncReport:
    """What a sync did, counted per course (created, updated, unchanged, unpublished)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    unpublished: int = 0
    lessons_retired: int = 0
    questions_retired: int = 0

    def __str__(self) -> str:
        return (f"courses: {self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.unpublished} unpublished; {self.lessons_retired} lessons and "
                f"{self.questions_retired} questions retired")


def read_courses(courses_dir: str | Path, *, min_questions: int = MIN_QUESTIONS,
                 max_questions: int = MAX_QUESTIONS) -> list[CourseSource]:
    """Every course folder under `courses_dir`; raises ContentError listing the problems of all of them."""
    root = Path(courses_dir).resolve()
    if not root.is_dir():
        raise ContentError([f"{root}: courses folder not found"])
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    if not folders:
        # Refuse rather than unpublish every course because of a wrong COURSES_DIR.
        raise ContentError([f"{root}: no course folders found"])
    sources, problems, slug_at_position = [], [], {}
    for folder in folders:
        try:
            source = read_course(folder, min_questions=min_questions, max_questions=max_questions)
        except ContentError as error:
            problems += error.problems
            continue
        if source.position in slug_at_position:
            lines = (folder / "course.yaml").read_text(encoding="utf-8-sig").splitlines()
            line = next((n for n, text in enumerate(lines, start=1) if text.startswith("position:")), 1)
            problems.append(f"{root.name}/{folder.name}/course.yaml:{line}: position {source.position} is also "
                            f"used by {slug_at_position[source.position]!r}")
        slug_at_position[source.position] = source.slug
        sources.append(source)
    if problems:
        raise ContentError(problems)
    return sources


def check_courses(courses_dir: str | Path, *, min_questions: int = MIN_QUESTIONS,
                  max_questions: int = MAX_QUESTIONS) -> list[str]:
    """Every problem of every course, as "file:line: message"; empty when all is well."""
    try:
        read_courses(courses_dir, min_questions=min_questions, max_questions=max_questions)
    except ContentError as error:
        return error.problems
    return []


def sync_courses(courses_dir: str | Path, *, min_questions: int = MIN_QUESTIONS,
                 max_questions: int = MAX_QUESTIONS) -> SyncReport:
    """Bring the database in line with the course folders; raises ContentError before writing anything."""
    sources = read_courses(courses_dir, min_questions=min_questions, max_questions=max_questions)
    report = SyncReport()
    stored = {course.slug: course for course in db.session.scalars(select(Course))}
    for source in sources:
        course = stored.get(source.slug)
        if course is not None and course.is_published and course.content_hash == source.content_hash:
            report.unchanged += 1
            continue
        if course is None:
            course = Course(slug=source.slug)
            db.session.add(course)
            report.created += 1
        else:
            report.updated += 1
        _copy_course_fields(course, source)
        db.session.flush()  # a new course needs its id before its lessons and questions
        report.lessons_retired += _sync_rows(Lesson, "slug", course.id, {
            lesson.slug: _lesson_fields(lesson) for lesson in source.lessons})
        report.questions_retired += _sync_rows(QuizQuestion, "key", course.id, {
            question.key: _question_fields(question) for question in source.questions})
        db.session.expire(course, ["lessons"])  # the relationship lists active lessons only
    present = {source.slug for source in sources}
    for slug, course in stored.items():
        if slug not in present and course.is_published:
            course.is_published = False
            report.unpublished += 1
    db.session.flush()
    content_cache.invalidate()  # this worker serves the new content at once
    page_cache.clear()
    return report


def _copy_course_fields(course: Course, source: CourseSource) -> None:
    course.version = source.version
    course.position = source.position
    course.pass_mark = source.pass_mark
    course.estimated_minutes = source.estimated_minutes
    course.domains = source.domains
    course.title_vi, course.title_en = source.title["vi"], source.title["en"]
    course.summary_vi, course.summary_en = source.summary["vi"], source.summary["en"]
    course.content_hash = source.content_hash
    course.is_published = True


def _lesson_fields(lesson: LessonSource) -> dict:
    return {"position": lesson.position, "title_vi": lesson.title["vi"], "title_en": lesson.title["en"],
            "body_html_vi": lesson.body_html["vi"], "body_html_en": lesson.body_html["en"],
            "content_hash": lesson.content_hash, "is_active": True}


def _question_fields(question: QuestionSource) -> dict:
    return {"position": question.position, "text_vi": question.text["vi"], "text_en": question.text["en"],
            "choices": question.choices, "explanation_vi": question.explanation["vi"],
            "explanation_en": question.explanation["en"], "is_active": True}


def _sync_rows(model: type[Lesson] | type[QuizQuestion], key_name: str, course_id: int,
               fields_by_key: dict[str, dict]) -> int:
    """Upsert a course's lessons or questions by key and retire the missing ones; returns how many were retired."""
    existing = {getattr(row, key_name): row
                for row in db.session.scalars(select(model).where(model.course_id == course_id))}
    for key, fields in fields_by_key.items():
        row = existing.get(key)
        if row is None:
            row = model(course_id=course_id, **{key_name: key})
            db.session.add(row)
        for name, value in fields.items():
            setattr(row, name, value)
    retired = 0
    for key, row in existing.items():
        if key not in fields_by_key and row.is_active:
            row.is_active = False
            retired += 1
    return retired
