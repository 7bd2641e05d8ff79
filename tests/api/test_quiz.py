"""Enrolment, quiz attempts, completion exactly once, and the learner's progress."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.learning.models import Course, Enrollment, Lesson, QuizAttempt, QuizQuestion
from tests.api.conftest import COURSE_SLUG, build_course

ATTEMPTS = f"/api/v1/courses/{COURSE_SLUG}/quiz/attempts"


def _questions(course: Course) -> list[QuizQuestion]:
    return list(db.session.scalars(select(QuizQuestion).where(QuizQuestion.course_id == course.id)
                                   .order_by(QuizQuestion.position)))


def answers_with(course: Course, right: int) -> dict[str, list[int]]:
    """Answers with exactly `right` questions right, derived from the stored correct choices."""
    answers = {}
    for n, question in enumerate(_questions(course)):
        wrong = next(i for i in range(len(question.choices)) if i not in question.correct_indexes)
        answers[question.key] = sorted(question.correct_indexes) if n < right else [wrong]
    return answers


def finish_lessons(api, course: Course, prefix: str = "done") -> None:
    lessons = db.session.scalars(select(Lesson).where(Lesson.course_id == course.id)).all()
    events_ = [{"id": f"{prefix}-{lesson.id:06}", "lesson_id": lesson.id, "kind": "complete"} for lesson in lessons]
    response = api.post("/api/v1/progress", json={"events": events_})
    assert response.status_code == 200, response.get_json()


def _attempts(learner) -> int:
    return db.session.scalar(select(func.count()).select_from(QuizAttempt).where(QuizAttempt.learner_id == learner.id))


def _enrollment(learner, course) -> Enrollment | None:
    return db.session.scalar(select(Enrollment).where(Enrollment.learner_id == learner.id,
                                                      Enrollment.course_id == course.id))


def test_enrolment_is_created_once(api, course, learner_user):
    first = api.post(f"/api/v1/courses/{COURSE_SLUG}/enrollment")
    assert first.status_code == 201
    assert first.get_json()["status"] == "in-progress" and first.get_json()["completed_at"] is None
    again = api.post(f"/api/v1/courses/{COURSE_SLUG}/enrollment")
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert _enrollment(learner_user.learner, course) is not None


def test_enrolling_in_an_unknown_course_is_404(api):
    response = api.post("/api/v1/courses/no-such-course/enrollment")
    assert response.status_code == 404
    assert response.get_json()["code"] == "course-not-found"


@pytest.mark.parametrize("right, score, passed", [(7, 70, True), (6, 60, False), (10, 100, True), (0, 0, False)])
def test_scoring_at_the_pass_mark(api, course, right, score, passed):
    finish_lessons(api, course)
    payload = {"id": f"attempt-{right:04}", "answers": answers_with(course, right)}
    response = api.post(ATTEMPTS + "?lang=en", json=payload)
    assert response.status_code == 201
    body = response.get_json()
    assert (body["score"], body["correct_count"], body["question_count"], body["passed"]) == (score, right, 10, passed)
    assert body["pass_mark"] == 70 and body["course_completed"] is passed
    assert [q["correct"] for q in body["questions"]] == [n < right for n in range(10)]
    assert body["questions"][0] == {"key": "q1", "correct": right > 0, "explanation": "Explanation 1"}


def test_multiple_answer_questions_need_all_and_only_the_right_choices(api, course):
    finish_lessons(api, course)
    answers = answers_with(course, 10)
    answers["q5"] = answers["q5"][:1]  # one of the two right choices
    body = api.post(ATTEMPTS, json={"id": "attempt-partial", "answers": answers}).get_json()
    assert body["correct_count"] == 9
    assert [q["key"] for q in body["questions"] if not q["correct"]] == ["q5"]


def test_resending_an_attempt_returns_the_stored_one(api, course, learner_user):
    finish_lessons(api, course)
    first = api.post(ATTEMPTS, json={"id": "attempt-retry", "answers": answers_with(course, 6)})
    assert first.status_code == 201
    # The retry carries other answers (a buggy client): the stored attempt wins.
    again = api.post(ATTEMPTS, json={"id": "attempt-retry", "answers": answers_with(course, 10)})
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert _attempts(learner_user.learner) == 1


def test_an_attempt_id_belongs_to_one_course(api, course):
    other = build_course("api-other-course")
    finish_lessons(api, course)
    finish_lessons(api, other, prefix="other")
    api.post(ATTEMPTS, json={"id": "attempt-shared", "answers": answers_with(course, 7)})
    response = api.post("/api/v1/courses/api-other-course/quiz/attempts",
                        json={"id": "attempt-shared", "answers": answers_with(other, 7)})
    assert response.status_code == 409
    assert response.get_json()["code"] == "attempt-id-reused"


@pytest.mark.parametrize("change, code", [
    (lambda answers: answers.pop("q3"), "quiz-incomplete"),
    (lambda answers: answers.update(q3=[7]), "quiz-invalid-answer"),
    (lambda answers: answers.update(q3=[0, 1]), "quiz-invalid-answer"),
    (lambda answers: answers.update(q99=[0]), "quiz-unknown-question"),
])
def test_answers_the_quiz_cannot_take_are_422(api, course, learner_user, change, code):
    finish_lessons(api, course)
    answers = answers_with(course, 10)
    change(answers)
    response = api.post(ATTEMPTS, json={"id": "attempt-bad-01", "answers": answers})
    assert response.status_code == 422
    assert response.get_json()["code"] == code
    assert _attempts(learner_user.learner) == 0


def test_the_quiz_waits_for_the_lessons(api, course):
    response = api.post(ATTEMPTS, json={"id": "attempt-early", "answers": answers_with(course, 10)})
    assert response.status_code == 422
    assert response.get_json()["code"] == "quiz-locked"


@pytest.mark.parametrize("payload, field", [
    ({"answers": {}}, "id"),
    ({"id": "attempt-0001"}, "answers"),
    ({"id": "attempt-0001", "answers": []}, "answers"),
    ({"id": "attempt-0001", "answers": {"q1": 0}}, "answers.q1"),
    ({"id": "attempt-0001", "answers": {"q1": ["0"]}}, "answers.q1[0]"),
    ({"id": "attempt-0001", "answers": {"q1": [-1]}}, "answers.q1[0]"),
    ({"id": "bad id with spaces", "answers": {}}, "id"),
    ({"id": "attempt-0001", "answers": {"": [0]}}, "answers."),
    ({"id": "attempt-0001", "answers": {"k" * 5000: [0]}}, "answers." + "k" * 80 + "…"),
])
def test_malformed_attempts_are_400(api, course, payload, field):
    response = api.post(ATTEMPTS, json=payload)
    assert response.status_code == 400
    assert response.get_json()["field"] == field


def test_completion_through_the_api_happens_exactly_once(api, course, learner_user, completions):
    learner = learner_user.learner
    finish_lessons(api, course)
    assert _enrollment(learner, course).completed_dt is None
    response = api.post(ATTEMPTS, json={"id": "attempt-pass-1", "answers": answers_with(course, 8)})
    assert response.get_json()["course_completed"] is True
    enrollment = _enrollment(learner, course)
    completed_dt = enrollment.completed_dt
    assert completed_dt is not None and enrollment.completed_version == 2
    assert completions == [enrollment.id]

    # Everything again: lessons with new event ids, another passing attempt, a resent one.
    finish_lessons(api, course, prefix="again")
    api.post(ATTEMPTS, json={"id": "attempt-pass-2", "answers": answers_with(course, 10)})
    api.post(ATTEMPTS, json={"id": "attempt-pass-1", "answers": answers_with(course, 10)})
    api.post(f"/api/v1/courses/{COURSE_SLUG}/enrollment")
    db.session.refresh(enrollment)
    assert enrollment.completed_dt == completed_dt
    assert completions == [enrollment.id]
    assert _attempts(learner) == 2


def test_my_progress_per_course(api, course, learner_user):
    assert api.get("/api/v1/me/progress").get_json() == {"courses": []}
    first_lesson = db.session.scalar(select(Lesson).where(Lesson.course_id == course.id, Lesson.position == 1))
    api.post("/api/v1/progress", json={"events": [{"id": "evt-00001", "lesson_id": first_lesson.id,
                                                   "kind": "complete"}]})
    body = api.get("/api/v1/me/progress?lang=en").get_json()
    assert body["courses"] == [{
        "course": COURSE_SLUG, "title": "Test course", "status": "in-progress", "lessons_done": 1,
        "lessons_total": 3, "best_score": None, "passed": False, "percent": 25, "next_lesson": "lesson-2",
        "completed_at": None}]

    finish_lessons(api, course)
    api.post(ATTEMPTS, json={"id": "attempt-low-1", "answers": answers_with(course, 5)})
    api.post(ATTEMPTS, json={"id": "attempt-high-1", "answers": answers_with(course, 9)})
    item = api.get("/api/v1/me/progress").get_json()["courses"][0]
    assert (item["status"], item["lessons_done"], item["best_score"], item["passed"], item["percent"]) == (
        "completed", 3, 90, True, 100)
    assert item["completed_at"].endswith("Z") and item["title"] == "Khoá học thử"
