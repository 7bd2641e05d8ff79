"""Quizzes that test judgement, not guessing: the real courses' questions, read as a learner would.

A learner who always picks the longest, most careful-sounding choice should not pass. So in every
course quiz, and in each language, the right choice (or, in a "choose all" question, the longest right
choice) may be at least as long as every wrong choice in at most 40 % of the questions. Fixing that by
making every right answer the short plain one would only move the giveaway, so the same limit holds
for the shortest, and the right answer must not sit mostly in one position (the quiz page does not
shuffle). The three trivia questions the subject review named are gone, and every question still
explains its answer.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from lms.learning.content import read_courses
from lms.learning.content_source import QuestionSource

COURSES_DIR = Path(__file__).resolve().parents[2] / "courses"
COURSES = {course.slug: course for course in read_courses(COURSES_DIR)}
MAX_LONGEST_RIGHT = MAX_SHORTEST_RIGHT = 0.40
MAX_SAME_POSITION = 0.50
TRIVIA = {"face-verification-threshold", "deepfake-image-signs", "vneid-level-2"}


def right_is_longest(question: QuestionSource, lang: str) -> bool:
    """True when the right answer can be found by length alone (ties count: they give it away too)."""
    right = [len(choice[lang]) for choice in question.choices if choice["correct"]]
    wrong = [len(choice[lang]) for choice in question.choices if not choice["correct"]]
    return max(right) >= max(wrong)


def right_is_shortest(question: QuestionSource, lang: str) -> bool:
    right = [len(choice[lang]) for choice in question.choices if choice["correct"]]
    wrong = [len(choice[lang]) for choice in question.choices if not choice["correct"]]
    return min(right) <= min(wrong)


def test_the_length_rule_counts_ties_as_giveaways():
    def question(*choices: tuple[str, bool]) -> QuestionSource:
        return QuestionSource("q", 1, {"vi": "?", "en": "?"},
                              [{"vi": text, "en": text, "correct": correct} for text, correct in choices], {})
    assert right_is_longest(question(("long right", True), ("short", False)), "vi")
    assert right_is_longest(question(("same", True), ("alse", False)), "vi")
    assert not right_is_longest(question(("right", True), ("a much longer wrong one", False)), "vi")


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("slug", sorted(COURSES))
def test_the_right_choice_is_rarely_the_longest(slug, lang):
    questions = COURSES[slug].questions
    giveaways = [q.key for q in questions if right_is_longest(q, lang)]
    assert len(giveaways) <= MAX_LONGEST_RIGHT * len(questions), (
        f"{slug} ({lang}): the right choice is the longest in {len(giveaways)} of {len(questions)} questions "
        f"(at most {int(MAX_LONGEST_RIGHT * 100)} %): {', '.join(giveaways)}")


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("slug", sorted(COURSES))
def test_the_right_choice_is_not_always_the_short_plain_one(slug, lang):
    questions = COURSES[slug].questions
    giveaways = [q.key for q in questions if right_is_shortest(q, lang)]
    assert len(giveaways) <= MAX_SHORTEST_RIGHT * len(questions), (
        f"{slug} ({lang}): the right choice is the shortest in {len(giveaways)} of {len(questions)} questions: "
        f"{', '.join(giveaways)}")


@pytest.mark.parametrize("slug", sorted(COURSES))
def test_the_right_choice_moves_around(slug):
    single = [q for q in COURSES[slug].questions if sum(c["correct"] for c in q.choices) == 1]
    positions = Counter(next(i for i, c in enumerate(q.choices) if c["correct"]) for q in single)
    position, count = positions.most_common(1)[0]
    assert count <= MAX_SAME_POSITION * len(single), (
        f"{slug}: choice {position + 1} is the right one in {count} of {len(single)} single-answer questions")


@pytest.mark.parametrize("slug", sorted(COURSES))
def test_no_trivia_and_every_question_explains_itself(slug):
    questions = COURSES[slug].questions
    assert not TRIVIA & {q.key for q in questions}
    for question in questions:
        assert all(len(question.explanation[lang]) >= 60 for lang in ("vi", "en")), question.key
