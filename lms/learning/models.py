"""Learning: courses, lessons, quizzes, enrolments and progress.

Content (courses, lessons, quiz questions) is synced from `courses/` by
`lms.learning.content`; rows are never deleted, only marked inactive, so a new content
version keeps learners' progress. Per learner there is one `Enrollment` per course
(with its completion time, set exactly once), one `LessonProgress` summary row per
lesson (progress, first and last seen, completion, who helped), an append-only
`QuizAttempt` log, and an append-only `ProgressEvent` log of what API clients sent,
keyed by the client's own event id so a retried batch never counts twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import ApiToken  # noqa: F401 - moved to accounts (issue 15.9); old imports still work
from lms.db import UTCDateTime, utcnow
from lms.extensions import db


class Course(db.Model):
    __tablename__ = "courses"
    __table_args__ = {"comment": "Courses, synced from the courses/ folder"}

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True, comment="Folder name; never changes")
    version: Mapped[int] = mapped_column(Integer, comment="Content version from course.yaml")
    position: Mapped[int] = mapped_column(Integer, comment="Order in the catalogue")
    pass_mark: Mapped[int] = mapped_column(SmallInteger, comment="Percent of quiz questions right to pass")
    estimated_minutes: Mapped[int] = mapped_column(SmallInteger)
    domains: Mapped[list] = mapped_column(JSON, comment="Competence-framework domains covered")
    title_vi: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    summary_vi: Mapped[str] = mapped_column(Text)
    summary_en: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), comment="Hash of all source files, to skip unchanged syncs")
    is_published: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="course", order_by="Lesson.position",
        primaryjoin="and_(Course.id == Lesson.course_id, Lesson.is_active)", viewonly=True)

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" else self.title_vi

    def summary(self, locale: str) -> str:
        return self.summary_en if locale == "en" else self.summary_vi


class Lesson(db.Model):
    __tablename__ = "lessons"
    __table_args__ = (UniqueConstraint("course_id", "slug"), {"comment": "Lessons, with sanitised HTML per language"})

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer)
    title_vi: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    body_html_vi: Mapped[str] = mapped_column(Text, comment="Rendered from Markdown and sanitised at load time")
    body_html_en: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, comment="False once removed from the course")

    course: Mapped[Course] = relationship(back_populates="lessons", foreign_keys=[course_id])

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" else self.title_vi

    def body_html(self, locale: str) -> str:
        return self.body_html_en if locale == "en" else self.body_html_vi


class QuizQuestion(db.Model):
    __tablename__ = "quiz_questions"
    __table_args__ = (UniqueConstraint("course_id", "key"), {"comment": "Final-quiz questions of each course"})

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    key: Mapped[str] = mapped_column(String(80), comment="Stable id from quiz.yaml")
    position: Mapped[int] = mapped_column(Integer)
    text_vi: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    choices: Mapped[list] = mapped_column(JSON, comment="[{vi, en, correct}] in display order")
    explanation_vi: Mapped[str] = mapped_column(Text)
    explanation_en: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def correct_indexes(self) -> frozenset[int]:
        return frozenset(i for i, choice in enumerate(self.choices) if choice.get("correct"))

    @property
    def is_multiple(self) -> bool:
        return len(self.correct_indexes) > 1

    def text(self, locale: str) -> str:
        return self.text_en if locale == "en" else self.text_vi

    def explanation(self, locale: str) -> str:
        return self.explanation_en if locale == "en" else self.explanation_vi

    def choice_texts(self, locale: str) -> list[str]:
        return [choice["en" if locale == "en" else "vi"] for choice in self.choices]


class Enrollment(db.Model):
    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("learner_id", "course_id"),
        {"comment": "A learner taking a course; completed_dt is set exactly once"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    enrolled_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="First lesson progress")
    last_activity_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id"), comment="Where to continue")
    completed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="All lessons done and quiz passed")
    completed_version: Mapped[int | None] = mapped_column(Integer, comment="Course version at completion")
    enrolled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="Helper who enrolled them, if any")
    is_assisted: Mapped[bool] = mapped_column(Boolean, default=False, comment="Any progress made with a helper")

    course: Mapped[Course] = relationship(foreign_keys=[course_id])

    @property
    def is_completed(self) -> bool:
        return self.completed_dt is not None


class LessonProgress(db.Model):
    __tablename__ = "lesson_progress"
    __table_args__ = (
        UniqueConstraint("learner_id", "lesson_id"),
        {"comment": "One summary row per learner and lesson"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"), index=True)
    progress: Mapped[int] = mapped_column(SmallInteger, default=0, comment="0–100, never decreases")
    time_spent_seconds: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    helped_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="Last team member who helped")

    @property
    def is_completed(self) -> bool:
        return self.completed_dt is not None


class QuizAttempt(db.Model):
    __tablename__ = "quiz_attempts"
    __table_args__ = (
        Index("ix_quiz_attempts_learner_course", "learner_id", "course_id"),
        Index("ix_quiz_attempts_helper_dt", "helped_by_id", "submitted_dt"),  # a helper's recent completions (lms.quality)
        UniqueConstraint("learner_id", "client_event_id"),
        {"comment": "Append-only record of submitted quizzes"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    course_version: Mapped[int] = mapped_column(Integer, comment="Quiz version the attempt answered")
    answers: Mapped[dict] = mapped_column(JSON, comment="{question key: [choice indexes]}")
    correct_count: Mapped[int] = mapped_column(SmallInteger)
    question_count: Mapped[int] = mapped_column(SmallInteger)
    score_percent: Mapped[int] = mapped_column(SmallInteger)
    is_passed: Mapped[bool] = mapped_column(Boolean)
    submitted_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    helped_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    client_event_id: Mapped[str | None] = mapped_column(String(64), comment="Client id of an API submission, for retries")


class ProgressEvent(db.Model):
    __tablename__ = "progress_events"
    __table_args__ = (
        UniqueConstraint("learner_id", "client_event_id"),
        # The events still waiting to be applied (lms.learning.progress_log): a short scan
        # however long the log grows.
        Index("ix_progress_events_pending", "id", postgresql_where=text("applied_dt IS NULL"),
              sqlite_where=text("applied_dt IS NULL")),
        {"comment": "Append-only log of progress events received from clients"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"))
    client_event_id: Mapped[str] = mapped_column(String(64), comment="Generated by the client; a retry sends it again")
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"))
    kind: Mapped[str] = mapped_column(String(20), comment="view, progress or complete")
    progress: Mapped[int | None] = mapped_column(SmallInteger)
    seconds: Mapped[int | None] = mapped_column(Integer, comment="Reading time reported with the event")
    occurred_dt: Mapped[datetime] = mapped_column(UTCDateTime, comment="When it happened on the device")
    received_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    helped_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    applied_dt: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="When its effect was written; NULL while it waits to be applied")

