"""What the API reads and writes: strict request parsing and the JSON it returns.

Requests are checked field by field before any operation runs, so a bad payload is a
400 with a stable code and the path of the offending field (`events[3].kind`), never a
500 from deep inside. The limits here are the ones `openapi.py` publishes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app, request
from flask_babel import lazy_gettext as _l

from lms.api.errors import InvalidRequestError
from lms.learning import operations
from lms.learning.models import Course, Enrollment, Lesson, QuizAttempt, QuizQuestion
from lms.learning.queries import CourseProgress
from lms.text import clean_text

MAX_EVENTS = 500
CLIENT_ID_PATTERN = r"^[A-Za-z0-9._:-]{8,64}$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,79}$"
PLAIN_TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*$"  # no control characters
MAX_ID = 2**31 - 1
MAX_SECONDS = 24 * 60 * 60
MAX_CHOICE_INDEX = 99
MAX_CHOICES_PER_ANSWER = 20
MAX_ANSWERS = 200
MAX_KEY_LENGTH = 80  # of a question key, and of a field name quoted back in an error
DATETIME_PATTERN = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$", re.IGNORECASE | re.ASCII)


# --- Reading requests ---------------------------------------------------------------

def _invalid(field: str, message, **params) -> InvalidRequestError:
    return InvalidRequestError("invalid-request", message, field=field, name=field, **params)


def _reject_constant(name: str):
    raise ValueError(name)


def json_body() -> Any:
    """The request body as JSON; 400 `invalid-json` unless it is well-formed UTF-8 JSON."""
    try:
        data = json.loads(request.get_data().decode("utf-8"), parse_constant=_reject_constant)
        # Lone surrogates ("\ud800") parse, but cannot be stored or compared as text.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError, UnicodeError):
        raise InvalidRequestError("invalid-json", _l("The request body is not valid JSON.")) from None
    return data


def language() -> str:
    """The language of the answer: `?lang=`, else Accept-Language, else Vietnamese."""
    languages = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang")
    if chosen is not None:
        if chosen not in languages:
            raise InvalidRequestError("invalid-language", _l("The language must be vi or en."), field="lang")
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def valid_slug(slug: str) -> bool:
    return re.fullmatch(SLUG_PATTERN, slug) is not None


def _object(value: Any, field: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    if not isinstance(value, dict):
        raise _invalid(field, _l("{name} must be a JSON object."))
    for key in value:
        if key not in required and key not in optional:
            raise _invalid(_path(field, key), _l("{name} is not a known field."))
    for key in required:
        if key not in value:
            raise _invalid(_path(field, key), _l("{name} is required."))
    return value


def _path(parent: str, key: str) -> str:
    key = key if len(key) <= MAX_KEY_LENGTH else key[:MAX_KEY_LENGTH] + "…"
    return key if parent == "body" else f"{parent}.{key}"


def _string(value: Any, field: str, min_length: int, max_length: int, pattern: str = PLAIN_TEXT_PATTERN) -> str:
    if not isinstance(value, str) or not min_length <= len(value) <= max_length or not re.fullmatch(pattern, value):
        raise _invalid(field, _l("{name} must be text of {min} to {max} characters, without control characters."),
                       min=min_length, max=max_length)
    return value


def _client_id(value: Any, field: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(CLIENT_ID_PATTERN, value):
        raise _invalid(field, _l("{name} must be 8 to 64 letters, digits or . _ : -"))
    return value


def _integer(value: Any, field: str, minimum: int, maximum: int) -> int:
    # JSON has one number type: 3.0 is the integer 3, as JSON Schema says.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise _invalid(field, _l("{name} must be a whole number from {min} to {max}."), min=minimum, max=maximum)
    return value


def _choice(value: Any, field: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise _invalid(field, _l("{name} must be one of: {choices}."), choices=", ".join(choices))
    return value


def _timestamp(value: Any, field: str) -> datetime:
    if not isinstance(value, str) or not DATETIME_PATTERN.fullmatch(value):
        raise _invalid(field, _l("{name} must be a date and time with its time zone, like 2025-07-01T08:30:00+07:00."))
    text = value.upper()
    if text[17:19] == "60":  # a leap second: Python's datetime has none
        text = text[:17] + "59" + text[19:]
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError):
        raise _invalid(field, _l("{name} is not a real date and time.")) from None


@dataclass(frozen=True)
class TokenRequest:
    login: str
    password: str
    name: str


def parse_token_request(data: Any) -> TokenRequest:
    _object(data, "body", ("login", "password", "name"))
    name = clean_text(_string(data["name"], "name", 1, 80))
    if not name:
        raise _invalid("name", _l("{name} must say which device or app this is."))
    return TokenRequest(login=_string(data["login"], "login", 1, 200),
                        password=_string(data["password"], "password", 1, 200), name=name)


def _event(value: Any, field: str) -> dict:
    _object(value, field, ("id", "lesson_id", "kind"), ("progress", "seconds", "occurred_at"))
    event = {
        "id": _client_id(value["id"], f"{field}.id"),
        "lesson_id": _integer(value["lesson_id"], f"{field}.lesson_id", 1, MAX_ID),
        "kind": _choice(value["kind"], f"{field}.kind", operations.EVENT_KINDS),
    }
    if "progress" in value:
        event["progress"] = _integer(value["progress"], f"{field}.progress", 0, 100)
    if "seconds" in value:
        event["seconds"] = _integer(value["seconds"], f"{field}.seconds", 0, MAX_SECONDS)
    if "occurred_at" in value:
        event["occurred_at"] = _timestamp(value["occurred_at"], f"{field}.occurred_at")
    return event


def parse_progress_batch(data: Any) -> list[dict]:
    """The events of a progress batch, checked, in the form `apply_progress_events` takes."""
    _object(data, "body", ("events",))
    events = data["events"]
    if not isinstance(events, list):
        raise _invalid("events", _l("{name} must be a list."))
    if not 1 <= len(events) <= MAX_EVENTS:
        code = "no-events" if not events else "too-many-events"
        raise InvalidRequestError(code, _l("Send between 1 and {max} events in one batch."), field="events",
                                  max=MAX_EVENTS)
    return [_event(event, f"events[{i}]") for i, event in enumerate(events)]


@dataclass(frozen=True)
class QuizSubmission:
    id: str
    answers: dict[str, list[int]]


def parse_quiz_submission(data: Any) -> QuizSubmission:
    _object(data, "body", ("id", "answers"))
    client_id = _client_id(data["id"], "id")
    answers = data["answers"]
    if not isinstance(answers, dict) or len(answers) > MAX_ANSWERS:
        raise _invalid("answers", _l("{name} must be a JSON object with at most {max} answers."), max=MAX_ANSWERS)
    clean = {}
    for key, chosen in answers.items():
        field = _path("answers", key)
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            raise _invalid(field, _l("{name} is not a question of this quiz."))
        if not isinstance(chosen, list) or len(chosen) > MAX_CHOICES_PER_ANSWER:
            raise _invalid(field, _l("{name} must be a list of at most {max} choice numbers."),
                           max=MAX_CHOICES_PER_ANSWER)
        clean[key] = [_integer(index, f"{field}[{i}]", 0, MAX_CHOICE_INDEX) for i, index in enumerate(chosen)]
    return QuizSubmission(id=client_id, answers=clean)


# --- Writing responses --------------------------------------------------------------

def timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def course_summary(course: Course, lang: str) -> dict:
    return {
        "slug": course.slug,
        "title": course.title(lang),
        "summary": course.summary(lang),
        "domains": list(course.domains or []),
        "pass_mark": course.pass_mark,
        "version": course.version,
        "lesson_count": len(course.lessons),
        "estimated_minutes": course.estimated_minutes,
    }


def course_detail(course: Course, lang: str) -> dict:
    lessons = [{"id": lesson.id, "slug": lesson.slug, "position": lesson.position, "title": lesson.title(lang)}
               for lesson in course.lessons]
    return {**course_summary(course, lang), "lessons": lessons}


def lesson_detail(course: Course, lesson: Lesson, lang: str) -> dict:
    lessons = course.lessons
    index = next(i for i, item in enumerate(lessons) if item.id == lesson.id)
    return {
        "id": lesson.id,
        "course": course.slug,
        "slug": lesson.slug,
        "position": lesson.position,
        "title": lesson.title(lang),
        "body_html": lesson.body_html(lang),
        "previous": lessons[index - 1].slug if index > 0 else None,
        "next": lessons[index + 1].slug if index + 1 < len(lessons) else None,
    }


def quiz(course: Course, questions: list[QuizQuestion], lang: str) -> dict:
    """The quiz as a learner sees it: questions and choices, never which are correct."""
    return {
        "course": course.slug,
        "version": course.version,
        "pass_mark": course.pass_mark,
        "questions": [{"key": q.key, "position": q.position, "text": q.text(lang),
                       "choices": q.choice_texts(lang), "multiple": q.is_multiple} for q in questions],
    }


def quiz_attempt(attempt: QuizAttempt, course: Course, questions: list[QuizQuestion], lang: str,
                 enrollment: Enrollment | None) -> dict:
    """A scored attempt, with right or wrong and the explanation for each question it answered."""
    answered = [q for q in questions if q.key in attempt.answers]
    return {
        "id": attempt.client_event_id,
        "course": course.slug,
        "score": attempt.score_percent,
        "correct_count": attempt.correct_count,
        "question_count": attempt.question_count,
        "pass_mark": course.pass_mark,
        "passed": attempt.is_passed,
        "submitted_at": timestamp(attempt.submitted_dt),
        "course_completed": bool(enrollment and enrollment.is_completed),
        "questions": [{"key": q.key, "correct": operations.score_answers([q], attempt.answers) == 1,
                       "explanation": q.explanation(lang)} for q in answered],
    }


def enrollment(item: Enrollment, course: Course) -> dict:
    return {
        "course": course.slug,
        "status": "completed" if item.is_completed else "in-progress",
        "enrolled_at": timestamp(item.enrolled_dt),
        "started_at": timestamp(item.started_dt),
        "completed_at": timestamp(item.completed_dt),
    }


def course_progress(item: CourseProgress, lang: str) -> dict:
    return {
        "course": item.course.slug,
        "title": item.course.title(lang),
        "status": item.status,
        "lessons_done": item.lessons_done,
        "lessons_total": item.lessons_total,
        "best_score": item.best_score,
        "passed": item.passed,
        "percent": item.percent,
        "next_lesson": item.next_lesson.slug if item.next_lesson else None,
        "completed_at": timestamp(item.enrollment.completed_dt if item.enrollment else None),
    }
