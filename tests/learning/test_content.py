"""The course content loader: validation messages, safe rendering, and an idempotent sync.

Broken courses are built by copying `fixtures/mini-course` (2 lessons, 2 questions) into
a temporary `courses/` folder and breaking one thing; the quiz limits are lowered to 2
for it. The real courses in `courses/` must pass the same checks.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.learning.content import ContentError, check_courses, read_courses, render_markdown, sync_courses
from lms.learning.models import Course, Lesson, LessonProgress, QuizQuestion

FIXTURE = Path(__file__).parent / "fixtures" / "mini-course"
QUIZ_LIMITS = {"min_questions": 2, "max_questions": 2}
SLUG = "mini-course"


@pytest.fixture
def courses_dir(tmp_path) -> Path:
    root = tmp_path / "courses"
    shutil.copytree(FIXTURE, root / SLUG)
    return root


@pytest.fixture
def course_dir(courses_dir) -> Path:
    return courses_dir / SLUG


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def lines_of(path: Path, needle: str) -> list[int]:
    """1-based numbers of the lines of `path` that contain `needle`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = [number for number, line in enumerate(lines, start=1) if needle in line]
    assert found, f"{needle!r} not in {path}"
    return found


def line_of(path: Path, needle: str) -> int:
    return lines_of(path, needle)[0]


def problems(courses_dir: Path) -> list[str]:
    return check_courses(courses_dir, **QUIZ_LIMITS)


def add_course_copy(courses_dir: Path, slug: str, position: int) -> Path:
    folder = courses_dir / slug
    shutil.copytree(FIXTURE, folder)
    edit(folder / "course.yaml", f"slug: {SLUG}", f"slug: {slug}")
    edit(folder / "course.yaml", "position: 90", f"position: {position}")
    return folder


def stored_course(slug: str = SLUG) -> Course:
    return db.session.scalar(select(Course).where(Course.slug == slug))


def stored_lessons(course: Course) -> dict[str, Lesson]:
    return {lesson.slug: lesson for lesson in db.session.scalars(select(Lesson).where(Lesson.course_id == course.id))}


def stored_questions(course: Course) -> dict[str, QuizQuestion]:
    query = select(QuizQuestion).where(QuizQuestion.course_id == course.id)
    return {question.key: question for question in db.session.scalars(query)}


# --- validation ---------------------------------------------------------------------------------


def test_fixture_course_is_valid(courses_dir):
    assert problems(courses_dir) == []


def test_a_real_course_needs_8_to_12_questions(courses_dir, course_dir):
    assert check_courses(courses_dir) == [
        f"courses/{SLUG}/quiz.yaml:1: a quiz has 8–12 questions, not 2"]


def test_missing_english_title_names_file_and_line(courses_dir, course_dir):
    course_yaml = course_dir / "course.yaml"
    edit(course_yaml, "  en: A small course\n", "")
    assert problems(courses_dir) == [
        f"courses/{SLUG}/course.yaml:{line_of(course_yaml, 'title:')}: title has no English text ('en')"]


def test_missing_english_choice_names_the_question(courses_dir, course_dir):
    quiz = course_dir / "quiz.yaml"
    edit(quiz, "        en: Only you\n", "")
    assert problems(courses_dir) == [
        f"courses/{SLUG}/quiz.yaml:{line_of(quiz, 'vi: Chỉ mình bạn')}: "
        "question 'otp-secret': choice 1 has no English text ('en')"]


def test_yaml_syntax_error_names_file_and_line(courses_dir, course_dir):
    quiz = course_dir / "quiz.yaml"
    edit(quiz, "      en: Who may know your OTP?", "      en: Who may know: your OTP?")
    [problem] = problems(courses_dir)
    assert problem.startswith(f"courses/{SLUG}/quiz.yaml:{line_of(quiz, 'Who may know:')}: YAML syntax error")


def test_question_without_correct_choice_names_file_and_line(courses_dir, course_dir):
    quiz = course_dir / "quiz.yaml"
    edit(quiz, "        en: Ask your family or the commune staff\n        correct: true\n",
         "        en: Ask your family or the commune staff\n")
    assert problems(courses_dir) == [
        f"courses/{SLUG}/quiz.yaml:{line_of(quiz, '- id: ask-family')}: "
        "question 'ask-family' has no correct choice (mark one with 'correct: true')"]


def test_duplicate_question_id_is_a_problem(courses_dir, course_dir):
    quiz = course_dir / "quiz.yaml"
    edit(quiz, "- id: ask-family", "- id: otp-secret")
    first, second = lines_of(quiz, "- id: otp-secret")
    assert problems(courses_dir) == [
        f"courses/{SLUG}/quiz.yaml:{second}: question id 'otp-secret' is already used on line {first}"]


def test_unknown_domain(courses_dir, course_dir):
    course_yaml = course_dir / "course.yaml"
    edit(course_yaml, "  - safety\n", "  - cooking\n")
    [problem] = problems(courses_dir)
    assert problem.startswith(f"courses/{SLUG}/course.yaml:{line_of(course_yaml, '- cooking')}: "
                              "unknown domain 'cooking'")


def test_bad_numbers_and_slug(courses_dir, course_dir):
    course_yaml = course_dir / "course.yaml"
    edit(course_yaml, "pass_mark: 50", "pass_mark: 150")
    edit(course_yaml, f"slug: {SLUG}", "slug: other-course")
    assert problems(courses_dir) == [
        f"courses/{SLUG}/course.yaml:2: slug 'other-course' must be the folder name '{SLUG}'",
        f"courses/{SLUG}/course.yaml:5: pass_mark must be a whole number from 1 to 100, not 150"]


def _cut_sources(course_yaml: Path) -> None:
    text = course_yaml.read_text(encoding="utf-8")
    course_yaml.write_text(text[:text.index("sources:")], encoding="utf-8")


def test_a_course_without_sources_is_a_problem(courses_dir, course_dir):
    _cut_sources(course_dir / "course.yaml")
    assert problems(courses_dir) == [
        f"courses/{SLUG}/course.yaml:1: 'sources' is missing: list where the lessons' facts come from "
        "(issuer, title, checked: YYYY-MM-DD)"]


def test_a_source_needs_issuer_title_and_a_real_date(courses_dir, course_dir):
    course_yaml = course_dir / "course.yaml"
    edit(course_yaml, "  - issuer: Bộ Thông tin và Truyền thông\n", "  - publisher: Bộ Thông tin và Truyền thông\n")
    edit(course_yaml, "    checked: 2026-12-01\n    url:", "    checked: 1 Dec 2026\n    url:")
    edit(course_yaml, "url: https://www.sbv.gov.vn/", "url: www.sbv.gov.vn")
    publisher, checked, url = (line_of(course_yaml, text) for text in ("publisher:", "1 Dec 2026", "www.sbv"))
    assert problems(courses_dir) == [
        f"courses/{SLUG}/course.yaml:{publisher}: unknown key 'publisher' in source 1 "
        "(allowed: checked, issuer, lessons, note, title, url)",
        f"courses/{SLUG}/course.yaml:{publisher}: source 1 needs a issuer (who published it, and what it is called)",
        f"courses/{SLUG}/course.yaml:{url}: source 2: url must start with http:// or https://, not 'www.sbv.gov.vn'",
        f"courses/{SLUG}/course.yaml:{checked}: source 2: checked must be the date you read the source, written "
        "YYYY-MM-DD (e.g. 2026-12-03), not '1 Dec 2026'"]


def test_a_source_checked_in_the_future_or_at_a_time_is_a_problem(courses_dir, course_dir):
    course_yaml = course_dir / "course.yaml"
    edit(course_yaml, "    checked: 2026-12-01\n  - issuer", "    checked: 2999-01-01\n  - issuer")
    edit(course_yaml, "    checked: 2026-12-01\n    url:", "    checked: 2026-12-01 10:30:00\n    url:")
    assert problems(courses_dir) == [
        f"courses/{SLUG}/course.yaml:{line_of(course_yaml, '2999-01-01')}: source 1: checked date 2999-01-01 "
        "is in the future",
        f"courses/{SLUG}/course.yaml:{line_of(course_yaml, '10:30:00')}: source 2: checked must be the date you "
        "read the source, written YYYY-MM-DD (e.g. 2026-12-03), not datetime.datetime(2026, 12, 1, 10, 30)"]


def test_a_source_names_only_lessons_of_its_course(courses_dir, course_dir):
    course_yaml = course_dir / "course.yaml"
    edit(course_yaml, "      - second-steps\n", "      - third-steps\n")
    assert problems(courses_dir) == [
        f"courses/{SLUG}/course.yaml:{line_of(course_yaml, '- third-steps')}: source 2: 'third-steps' is not a "
        "lesson of this course (lessons: first-steps, second-steps)"]


def test_every_lesson_needs_a_source(courses_dir, course_dir):
    course_yaml = course_dir / "course.yaml"
    edit(course_yaml, "    checked: 2026-12-01\n  - issuer", "    checked: 2026-12-01\n    lessons: [second-steps]\n"
                                                           "  - issuer")
    assert problems(courses_dir) == [
        f"courses/{SLUG}/course.yaml:{line_of(course_yaml, '  - first-steps')}: lesson 'first-steps' has no source: "
        "add it to the 'lessons' of a source, or add a source for the whole course"]


def test_sources_are_read_for_reviewers(courses_dir):
    [course] = read_courses(courses_dir, **QUIZ_LIMITS)
    whole, banking = course.sources
    assert (whole.issuer, whole.lessons, whole.url) == ("Bộ Thông tin và Truyền thông", (), None)
    assert (banking.title, banking.checked.isoformat(), banking.lessons) == (
        "Thông tư 17/2024/TT-NHNN", "2026-12-01", ("second-steps",))


def test_missing_lesson_file(courses_dir, course_dir):
    (course_dir / "lessons" / "02-second-steps.en.md").unlink()
    line = line_of(course_dir / "course.yaml", "- second-steps")
    assert problems(courses_dir) == [
        f"courses/{SLUG}/course.yaml:{line}: lesson 'second-steps' has no file lessons/02-second-steps.en.md"]


def test_lesson_file_with_wrong_number(courses_dir, course_dir):
    lessons = course_dir / "lessons"
    (lessons / "02-second-steps.vi.md").rename(lessons / "03-second-steps.vi.md")
    assert problems(courses_dir) == [
        f"courses/{SLUG}/lessons/03-second-steps.vi.md: lesson 'second-steps' is number 2 in course.yaml, "
        "so this file must be named 02-second-steps.vi.md"]


def test_unlisted_lesson_file(courses_dir, course_dir):
    shutil.copy(course_dir / "lessons" / "01-first-steps.en.md", course_dir / "lessons" / "03-extra.en.md")
    [problem] = problems(courses_dir)
    assert problem.startswith(f"courses/{SLUG}/lessons/03-extra.en.md: not a lesson of course.yaml")


def test_lesson_must_start_with_its_title(courses_dir, course_dir):
    edit(course_dir / "lessons" / "01-first-steps.en.md", "# First steps", "First steps")
    assert problems(courses_dir) == [
        f"courses/{SLUG}/lessons/01-first-steps.en.md:1: the first line must be the lesson title, written '# Title'"]


def test_all_problems_of_all_files_are_reported(courses_dir, course_dir):
    edit(course_dir / "course.yaml", "  en: A small course\n", "")
    edit(course_dir / "course.yaml", "  - safety\n", "  - cooking\n")
    edit(course_dir / "quiz.yaml", "        correct: true\n", "")
    (course_dir / "lessons" / "02-second-steps.vi.md").unlink()
    found = problems(courses_dir)
    assert len(found) == 4, found
    assert {problem.split(":")[0] for problem in found} == {f"courses/{SLUG}/course.yaml", f"courses/{SLUG}/quiz.yaml"}


# --- Markdown, links and images -----------------------------------------------------------------


def test_raw_html_is_reported_and_never_rendered(courses_dir, course_dir):
    lesson = course_dir / "lessons" / "02-second-steps.en.md"
    edit(lesson, "| Task |", "<script>alert('hi')</script>\n\nSome <b onclick=\"steal()\">bold</b> text.\n\n| Task |")
    assert problems(courses_dir) == [
        f"courses/{SLUG}/lessons/02-second-steps.en.md:{line_of(lesson, '<script>')}: "
        "raw HTML is not allowed in lessons; write Markdown",
        f"courses/{SLUG}/lessons/02-second-steps.en.md:{line_of(lesson, 'Some <b')}: "
        "raw HTML '<b onclick=\"steal()\">' is not allowed in lessons; write Markdown",
        f"courses/{SLUG}/lessons/02-second-steps.en.md:{line_of(lesson, 'Some <b')}: "
        "raw HTML '</b>' is not allowed in lessons; write Markdown"]
    html = render_markdown(lesson.read_text(encoding="utf-8"), SLUG)
    assert "<script" not in html
    assert "<b " not in html
    assert "&lt;script&gt;" in html  # shown as harmless text, never as a tag


def test_javascript_link_is_reported_and_removed(courses_dir, course_dir):
    lesson = course_dir / "lessons" / "02-second-steps.en.md"
    edit(lesson, "Read more", "[Win a prize](javascript:alert(1)) or [JS](JaVaScRiPt:alert(2)). Read more")
    found = problems(courses_dir)
    line = line_of(lesson, "Win a prize")
    assert found == [
        f"courses/{SLUG}/lessons/02-second-steps.en.md:{line}: "
        "link 'javascript:alert(1)' is not allowed: only http(s) and relative links",
        f"courses/{SLUG}/lessons/02-second-steps.en.md:{line}: "
        "link 'JaVaScRiPt:alert(2)' is not allowed: only http(s) and relative links"]
    html = render_markdown(lesson.read_text(encoding="utf-8"), SLUG)
    assert "href=\"javascript" not in html.lower()
    assert '<a href="https://dichvucong.gov.vn" rel="noopener noreferrer">' in html


def test_sanitiser_is_a_second_line_of_defence():
    html = render_markdown("[mail](mailto:a@b.vn) [site](/help) ![x](data:image/png;base64,AAAA)", "any")
    assert "mailto:" not in html
    assert '<a href="/help" rel="noopener noreferrer">site</a>' in html
    assert "data:" not in html


def test_images_are_rewritten_to_the_media_url():
    html = render_markdown("![A dot](images/dot.svg)", SLUG)
    assert html == f'<p><img src="/course-media/{SLUG}/dot.svg" alt="A dot"></p>\n'


def test_missing_image(courses_dir, course_dir):
    lesson = course_dir / "lessons" / "01-first-steps.vi.md"
    edit(lesson, "images/dot.svg", "images/missing.png")
    assert problems(courses_dir) == [
        f"courses/{SLUG}/lessons/01-first-steps.vi.md:{line_of(lesson, 'missing.png')}: "
        "image 'images/missing.png' does not exist in images/"]


def test_image_outside_the_course_folder(courses_dir, course_dir):
    lesson = course_dir / "lessons" / "01-first-steps.vi.md"
    edit(lesson, "images/dot.svg", "https://example.org/tracker.png")
    [problem] = problems(courses_dir)
    assert problem.startswith(f"courses/{SLUG}/lessons/01-first-steps.vi.md:{line_of(lesson, 'tracker')}: "
                              "image 'https://example.org/tracker.png' must be a file in this course's images/")


def test_image_too_large_or_wrong_type(courses_dir, course_dir):
    (course_dir / "images" / "photo.jpg").write_bytes(b"\xff" * (101 * 1024))
    (course_dir / "images" / "notes.txt").write_text("hello", encoding="utf-8")
    (course_dir / "images" / "ok.png").write_bytes(b"\x89PNG" + b"\0" * (100 * 1024 - 4))
    assert problems(courses_dir) == [
        f"courses/{SLUG}/images/notes.txt: images must be .jpeg, .jpg, .png, .svg, .webp files",
        f"courses/{SLUG}/images/photo.jpg: 101 KB; images must be 100 KB or smaller"]


@pytest.mark.parametrize("svg", [
    '<svg xmlns="http://www.w3.org/2000/svg">\n<script>alert(1)</script>\n</svg>',
    '<svg xmlns="http://www.w3.org/2000/svg">\n<circle r="4" onload="alert(1)"/>\n</svg>',
    '<svg xmlns="http://www.w3.org/2000/svg">\n<a href="javascript:alert(1)"><text>x</text></a>\n</svg>',
])
def test_svg_with_script_is_rejected(courses_dir, course_dir, svg):
    (course_dir / "images" / "dot.svg").write_text(svg, encoding="utf-8")
    assert problems(courses_dir) == [
        f"courses/{SLUG}/images/dot.svg:2: SVG images must not contain scripts or on…= event handlers"]


# --- the real courses ---------------------------------------------------------------------------


def test_real_courses_pass_check(app):
    assert check_courses(app.config["COURSES_DIR"]) == []


def test_real_courses_are_complete_in_both_languages(app):
    courses = read_courses(app.config["COURSES_DIR"])
    assert len(courses) >= 4
    for course in courses:
        assert 4 <= len(course.lessons) <= 6, course.slug
        assert 8 <= len(course.questions) <= 12, course.slug
        for texts in [course.title, course.summary, *(lesson.title for lesson in course.lessons),
                      *(lesson.body_html for lesson in course.lessons),
                      *(question.text for question in course.questions),
                      *(question.explanation for question in course.questions),
                      *(choice for question in course.questions for choice in question.choices)]:
            assert texts["vi"].strip() and texts["en"].strip(), course.slug
        stored = stored_course(course.slug)  # synced by the session fixture
        assert stored is not None and stored.is_published
        assert [lesson.slug for lesson in stored.lessons] == [lesson.slug for lesson in course.lessons]


def test_syncing_the_real_courses_again_changes_nothing(app):
    report = sync_courses(app.config["COURSES_DIR"])
    count = len(read_courses(app.config["COURSES_DIR"]))
    assert (report.created, report.updated, report.unchanged, report.unpublished) == (0, 0, count, 0)


# --- sync ---------------------------------------------------------------------------------------


def test_sync_creates_then_reports_unchanged(courses_dir):
    first = sync_courses(courses_dir, **QUIZ_LIMITS)
    assert (first.created, first.updated, first.unchanged) == (1, 0, 0)
    course = stored_course()
    assert (course.version, course.position, course.pass_mark, course.title_en) == (1, 90, 50, "A small course")
    assert course.domains == ["safety", "information-data"]
    lessons = stored_lessons(course)
    assert [(lesson.slug, lesson.position, lesson.title_vi) for lesson in course.lessons] == [
        ("first-steps", 1, "Những bước đầu tiên"), ("second-steps", 2, "Bước tiếp theo")]
    assert f'src="/course-media/{SLUG}/dot.svg"' in lessons["first-steps"].body_html_en
    assert "First steps" not in lessons["first-steps"].body_html_en  # the title is stored apart
    question = stored_questions(course)["ask-family"]
    assert question.correct_indexes == frozenset({1})
    assert question.choices[0] == {"vi": "Làm theo người lạ", "en": "Do what the stranger says", "correct": False}

    second = sync_courses(courses_dir, **QUIZ_LIMITS)
    assert (second.created, second.updated, second.unchanged, second.lessons_retired,
            second.questions_retired) == (0, 0, 1, 0, 0)


def test_new_version_keeps_progress_and_updates_lessons(courses_dir, course_dir, make):
    sync_courses(courses_dir, **QUIZ_LIMITS)
    lesson = stored_lessons(stored_course())["first-steps"]
    user = make.learner()
    learner = user.learner  # one Learner per account (backref with uselist=False)
    progress = LessonProgress(learner_id=learner.id, lesson_id=lesson.id, progress=60)
    db.session.add(progress)
    db.session.flush()

    edit(course_dir / "lessons" / "01-first-steps.en.md", "Turn on the phone", "Switch on the phone")
    edit(course_dir / "course.yaml", "version: 1", "version: 2")
    report = sync_courses(courses_dir, **QUIZ_LIMITS)

    assert (report.created, report.updated, report.lessons_retired) == (0, 1, 0)
    course = stored_course()
    assert course.version == 2
    lessons = stored_lessons(course)
    assert len(lessons) == 2
    assert lessons["first-steps"].id == lesson.id
    assert "Switch on the phone" in lessons["first-steps"].body_html_en
    kept = db.session.scalars(select(LessonProgress).where(LessonProgress.learner_id == learner.id)).all()
    assert [(row.id, row.lesson_id, row.progress) for row in kept] == [(progress.id, lesson.id, 60)]


def test_removed_lesson_is_retired_and_comes_back(courses_dir, course_dir):
    sync_courses(courses_dir, **QUIZ_LIMITS)
    removed = {name: (course_dir / "lessons" / name).read_bytes()
               for name in ("02-second-steps.vi.md", "02-second-steps.en.md")}
    for name in removed:
        (course_dir / "lessons" / name).unlink()
    edit(course_dir / "course.yaml", "  - second-steps\n", "")
    edit(course_dir / "course.yaml", "    lessons:\n      - second-steps\n", "")  # its source goes with it

    report = sync_courses(courses_dir, **QUIZ_LIMITS)
    course = stored_course()
    lessons = stored_lessons(course)
    assert report.lessons_retired == 1
    assert lessons["second-steps"].is_active is False
    assert [lesson.slug for lesson in course.lessons] == ["first-steps"]

    for name, content in removed.items():
        (course_dir / "lessons" / name).write_bytes(content)
    edit(course_dir / "course.yaml", "  - first-steps\n", "  - first-steps\n  - second-steps\n")
    report = sync_courses(courses_dir, **QUIZ_LIMITS)
    assert (report.updated, report.lessons_retired) == (1, 0)
    assert stored_lessons(course)["second-steps"].is_active is True
    assert [lesson.slug for lesson in stored_course().lessons] == ["first-steps", "second-steps"]


def test_changed_and_removed_quiz_questions(courses_dir, course_dir):
    sync_courses(courses_dir, **QUIZ_LIMITS)
    before = stored_questions(stored_course())
    quiz = course_dir / "quiz.yaml"
    edit(quiz, "Who may know your OTP?", "Who may be told your OTP?")
    text = quiz.read_text(encoding="utf-8")
    quiz.write_text(text[:text.index("\n  - id: ask-family")] + "\n", encoding="utf-8")

    report = sync_courses(courses_dir, min_questions=1, max_questions=2)
    after = stored_questions(stored_course())
    assert (report.updated, report.questions_retired) == (1, 1)
    assert after["otp-secret"].id == before["otp-secret"].id
    assert after["otp-secret"].text_en == "Who may be told your OTP?"
    assert after["ask-family"].is_active is False


def test_course_whose_folder_vanished_is_unpublished(courses_dir):
    other = add_course_copy(courses_dir, "mini-course-two", position=91)
    sync_courses(courses_dir, **QUIZ_LIMITS)
    shutil.rmtree(other)
    report = sync_courses(courses_dir, **QUIZ_LIMITS)
    assert (report.unchanged, report.unpublished) == (1, 1)
    assert stored_course("mini-course-two").is_published is False
    assert stored_course().is_published is True


def test_sync_writes_nothing_when_any_course_has_a_problem(app, courses_dir):
    broken = add_course_copy(courses_dir, "mini-course-broken", position=92)
    edit(broken / "quiz.yaml", "        correct: true\n", "")
    published_before = db.session.scalars(select(Course.slug).where(Course.is_published)).all()
    with pytest.raises(ContentError) as raised:
        sync_courses(courses_dir, **QUIZ_LIMITS)
    assert raised.value.problems[0].startswith("courses/mini-course-broken/quiz.yaml:")
    assert stored_course() is None
    assert db.session.scalars(select(Course.slug).where(Course.is_published)).all() == published_before


def test_an_empty_courses_folder_is_refused(tmp_path):
    with pytest.raises(ContentError) as raised:
        sync_courses(tmp_path)
    assert raised.value.problems == [f"{tmp_path}: no course folders found"]


# --- command line -------------------------------------------------------------------------------


def test_cli_check_passes_on_the_real_courses(runner):
    result = runner.invoke(args=["courses", "check"])
    assert result.exit_code == 0, result.output
    assert "no problems found" in result.output


def test_cli_check_fails_with_the_problems(runner, courses_dir, course_dir):
    edit(course_dir / "course.yaml", "  - safety\n", "  - cooking\n")
    result = runner.invoke(args=["courses", "check", "--courses-dir", str(courses_dir)])
    assert result.exit_code == 1
    assert f"courses/{SLUG}/course.yaml:8: unknown domain 'cooking'" in result.output
    assert f"courses/{SLUG}/quiz.yaml:1: a quiz has 8–12 questions, not 2" in result.output


def test_cli_load_reports_the_sync(runner, app):
    result = runner.invoke(args=["courses", "load"])
    assert result.exit_code == 0, result.output
    count = len(read_courses(app.config["COURSES_DIR"]))
    assert result.output.startswith(f"courses: 0 created, 0 updated, {count} unchanged, 0 unpublished")


def test_cli_load_refuses_broken_content(runner, courses_dir):
    result = runner.invoke(args=["courses", "load", "--courses-dir", str(courses_dir)])
    assert result.exit_code == 1
    assert "a quiz has 8–12 questions, not 2" in result.output
    assert stored_course() is None
