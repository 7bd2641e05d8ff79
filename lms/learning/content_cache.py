"""Published course content, kept in each worker's memory.

Lessons change only when `flask courses load` runs, yet every lesson page needs the
course, its lesson list and the lesson's HTML. Reading them from the database on every
request was most of a lesson page's cost; here they are plain immutable objects in the
named cache "content" (lms.cache), reloaded when older than `MAX_AGE_SECONDS` (so a
content update reaches every worker of every server within that time) or at once when
this process syncs content itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from lms import cache
from lms.extensions import db

MAX_AGE_SECONDS = 30


@dataclass(frozen=True)
class LessonView:
    id: int
    slug: str
    position: int
    titles: dict
    bodies: dict
    course_slug: str
    content_hash: str

    def title(self, locale: str) -> str:
        return self.titles.get(locale) or self.titles["vi"]

    def body_html(self, locale: str) -> str:
        return self.bodies.get(locale) or self.bodies["vi"]


@dataclass(frozen=True)
class CourseView:
    id: int
    slug: str
    version: int
    titles: dict
    lessons: tuple[LessonView, ...]

    def title(self, locale: str) -> str:
        return self.titles.get(locale) or self.titles["vi"]

    def neighbours(self, lesson: LessonView) -> tuple[LessonView | None, LessonView | None]:
        index = lesson.position
        return (self.lessons[index - 1] if index > 0 else None,
                self.lessons[index + 1] if index + 1 < len(self.lessons) else None)


_content = cache.named("content", maxsize=1, ttl=MAX_AGE_SECONDS, why=(
    "published courses and lessons; another server's `flask courses load` shows within the TTL"))


def _load() -> dict[str, CourseView]:
    from lms.learning.models import Course, Lesson

    courses = {}
    rows = db.session.execute(
        select(Course, Lesson).join(Lesson, Lesson.course_id == Course.id)
        .where(Course.is_published.is_(True), Lesson.is_active.is_(True))
        .order_by(Course.position, Lesson.position)).all()
    grouped: dict[int, list] = {}
    for course, lesson in rows:
        grouped.setdefault(course.id, [course, []])[1].append(lesson)
    for course, lessons in grouped.values():
        views = tuple(
            LessonView(lesson.id, lesson.slug, index, {"vi": lesson.title_vi, "en": lesson.title_en},
                       {"vi": lesson.body_html_vi, "en": lesson.body_html_en}, course.slug, lesson.content_hash)
            for index, lesson in enumerate(lessons))
        courses[course.slug] = CourseView(course.id, course.slug, course.version,
                                          {"vi": course.title_vi, "en": course.title_en}, views)
    return courses


def courses() -> dict[str, CourseView]:
    """Every published course by slug, at most `MAX_AGE_SECONDS` old."""
    return _content.get_or_load("published", _load)


def lesson(course_slug: str, lesson_slug: str) -> tuple[CourseView, LessonView] | None:
    course = courses().get(course_slug)
    if course is None:
        return None
    found = next((item for item in course.lessons if item.slug == lesson_slug), None)
    return (course, found) if found else None


def invalidate() -> None:
    """Forget the kept content: the next request reads it again (after a sync)."""
    _content.clear()
