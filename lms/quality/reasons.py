"""Why a flag was raised, in words, in the reader's language (Vietnamese by default)."""

from __future__ import annotations

from flask_babel import gettext as _

from lms.quality.models import DUPLICATE, FAST_COURSE, FAST_QUIZ, GENERATED_IMPORT, GENUINE, HELPER_BURST, OPEN, PROBLEM


def kind_label(kind: str) -> str:
    return {FAST_COURSE: _("Course finished too fast"), FAST_QUIZ: _("Quiz answered too fast"),
            HELPER_BURST: _("Many courses completed by one helper"), DUPLICATE: _("Possibly registered twice"),
            GENERATED_IMPORT: _("Imported rows look generated")}.get(kind, kind)


def status_label(status: str) -> str:
    return {OPEN: _("To review"), GENUINE: _("Confirmed genuine"), PROBLEM: _("Marked as a problem")}.get(status, status)


def _minutes(seconds: int) -> str:
    return str(max(1, round(seconds / 60)))


def describe(flag, names: dict) -> str:
    """The why of one flag. `names`: {"course": {id: title}, "helper": {id: name},
    "learner": {id: name shown or None when out of the reader's scope}}."""
    reason = flag.reason or {}
    course = names.get("course", {}).get(reason.get("course_id"), "")
    if flag.kind == FAST_COURSE:
        return _("Finished the {lessons} lessons of “{course}” in {seconds} seconds; reading them takes about "
                 "{minutes} minutes.").format(lessons=reason.get("lessons", 0), course=course,
                                             seconds=reason.get("seconds", 0),
                                             minutes=_minutes(reason.get("expected_seconds", 0)))
    if flag.kind == FAST_QUIZ:
        return _("Passed the quiz of “{course}” ({questions} questions) {seconds} seconds after it could be opened; "
                 "reading the questions takes about {expected} seconds.").format(
            course=course, questions=reason.get("questions", 0), seconds=reason.get("seconds", 0),
            expected=reason.get("expected_seconds", 0))
    if flag.kind == HELPER_BURST:
        return _("Helper {helper} completed {count} courses for learners within {minutes} minutes.").format(
            helper=names.get("helper", {}).get(reason.get("helper_id"), "?"), count=reason.get("completions", 0),
            minutes=reason.get("minutes", 0))
    if flag.kind == DUPLICATE:
        other = names.get("learner", {}).get(reason.get("other_id")) or _("a learner outside your area")
        if reason.get("match") == "id_hash":
            return _("Same ID number as {other}.").format(other=other)
        return _("Same full name, birth year and commune as {other}.").format(other=other)
    if flag.kind == GENERATED_IMPORT:
        parts = []
        if reason.get("sequential_phones"):
            parts.append(_("{count} of {rows} phone numbers follow each other").format(
                count=reason["sequential_phones"], rows=reason.get("rows", 0)))
        if reason.get("same_year_rows"):
            parts.append(_("{count} of {rows} rows give birth year {year}").format(
                count=reason["same_year_rows"], rows=reason.get("rows", 0), year=reason.get("year")))
        return _("Registered by an import whose rows look generated: {details}.").format(details="; ".join(parts))
    return flag.kind
