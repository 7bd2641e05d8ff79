"""Course content as authors write it: read, validate and render one course folder.

A course is a folder of plain files (the format is described in `courses/README.md`):
`course.yaml` holds the metadata and the ordered lesson slugs, `lessons/NN-<slug>.vi.md`
and `.en.md` hold each lesson in both languages, `quiz.yaml` holds the final quiz with
both languages side by side, and `images/` holds optional small pictures.

`read_course` turns a folder into a `CourseSource`: plain data, with lesson HTML already
rendered from Markdown and sanitised, and a hash of the source files so an unchanged
course can be skipped. Problems are collected, not stopped at: a `ContentError` lists
every problem with its file and line, so an author fixes them all in one pass. Nothing
here touches the database; `lms.learning.content` reads every folder and syncs them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import nh3
import yaml
from markdown_it import MarkdownIt

from lms.errors import DomainError

LANGUAGES = ("vi", "en")
LANGUAGE_NAMES = {"vi": "Vietnamese", "en": "English"}
DOMAINS = frozenset({"information-data", "communication-collaboration", "digital-content", "safety",
                     "problem-solving", "artificial-intelligence"})
SLUG_RE = re.compile(r"^[a-z0-9-]+$")
IMAGE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".svg", ".webp"})
MAX_IMAGE_BYTES = 100 * 1024
MIN_QUESTIONS, MAX_QUESTIONS = 8, 12
MIN_CHOICES, MAX_CHOICES = 2, 5
MAX_SLUG_LENGTH, MAX_TITLE_LENGTH = 80, 200  # the database column sizes
MEDIA_URL = "/course-media/{course}/{name}"
# Part of every content hash: raise it when rendering or sanitising changes, so the
# next `flask courses load` re-renders every course instead of skipping it as unchanged.
RENDER_VERSION = "1"

COURSE_KEYS = {"slug", "version", "position", "pass_mark", "estimated_minutes", "domains", "title", "summary",
               "lessons", "sources"}
SOURCE_KEYS = {"issuer", "title", "checked", "url", "lessons", "note"}
MAX_SOURCE_TEXT = 600
QUESTION_KEYS = {"id", "question", "choices", "explanation"}

ALLOWED_TAGS = {"p", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "blockquote", "a", "img", "table",
                "thead", "tbody", "tr", "th", "td", "code", "pre", "br", "hr"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt"}}

# Raw HTML is escaped by the renderer (html=False) and stripped again by nh3. A second,
# permissive parser sees what an author actually wrote, so the check can name the line.
_renderer = MarkdownIt("commonmark", {"html": False}).enable("table")
_inspector = MarkdownIt("commonmark", {"html": True}).enable("table")
_inspector.validateLink = lambda url: True


class ContentError(DomainError):
    """Course content that cannot be loaded; `problems` are "file:line: message" strings."""

    def __init__(self, problems: list[str]):
        super().__init__("content_invalid", "{count} problem(s) in course content:\n{details}",
                         count=len(problems), details="\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class LessonSource:
    slug: str
    position: int
    title: dict[str, str]
    body_html: dict[str, str]
    content_hash: str


@dataclass(frozen=True)
class QuestionSource:
    key: str
    position: int
    text: dict[str, str]
    choices: list[dict]
    explanation: dict[str, str]


@dataclass(frozen=True)
class Reference:
    """Where a lesson's facts come from, so a reviewer can check them (`sources` in course.yaml)."""

    issuer: str
    title: str
    checked: date
    url: str | None
    lessons: tuple[str, ...]  # empty: the source backs the whole course
    note: str | None


@dataclass(frozen=True)
class CourseSource:
    slug: str
    version: int
    position: int
    pass_mark: int
    estimated_minutes: int
    domains: list[str]
    title: dict[str, str]
    summary: dict[str, str]
    lessons: list[LessonSource]
    questions: list[QuestionSource]
    content_hash: str
    sources: list[Reference]


class _YamlFile:
    """A parsed YAML file that remembers the line of every value, for error messages."""

    def __init__(self, shown: str, data: Any, root: yaml.Node | None, problems: list[str]):
        self.shown, self.data, self.root, self.problems = shown, data, root, problems

    @classmethod
    def load(cls, path: Path, shown: str, problems: list[str]) -> _YamlFile | None:
        if not path.is_file():
            problems.append(f"{shown}: file is missing")
            return None
        try:
            loader = yaml.SafeLoader(path.read_text(encoding="utf-8-sig"))
        except UnicodeDecodeError:
            problems.append(f"{shown}: not UTF-8 text")
            return None
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            where = f"{shown}:{mark.line + 1}" if mark else shown
            problems.append(f"{where}: YAML syntax error: {error.problem or error.context}")
            return None
        finally:
            loader.dispose()
        return cls(shown, data, root, problems)

    def line(self, path: tuple) -> int:
        """Line of the value at `path` (keys and list indexes); of its nearest parent if absent."""
        node, line = self.root, 1
        for step in path:
            if node is None:
                break
            line = node.start_mark.line + 1
            if isinstance(node, yaml.MappingNode):
                match = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == step]
                node = match[0][1] if match else None
                line = match[0][0].start_mark.line + 1 if match else line
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
                node = node.value[step]
                line = node.start_mark.line + 1
            else:
                node = None
        return line

    def problem(self, path: tuple, message: str) -> None:
        self.problems.append(f"{self.shown}:{self.line(path)}: {message}")


def _texts(doc: _YamlFile, value: Any, path: tuple, what: str, max_length: int | None = None,
           other_keys: tuple = ()) -> dict | None:
    """A {vi, en} pair of non-empty texts, or None after reporting what is wrong with it."""
    if not isinstance(value, dict):
        doc.problem(path, f"{what} must have 'vi' and 'en' texts")
        return None
    _unknown_keys(doc, value, {*LANGUAGES, *other_keys}, path, what)
    texts = {}
    for lang in LANGUAGES:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            doc.problem(path, f"{what} has no {LANGUAGE_NAMES[lang]} text ('{lang}')")
        elif max_length and len(text.strip()) > max_length:
            doc.problem(path + (lang,), f"{what} is longer than {max_length} characters")
        else:
            texts[lang] = text.strip()
    return texts if len(texts) == len(LANGUAGES) else None


def _number(doc: _YamlFile, key: str, low: int, high: int) -> int | None:
    value = doc.data.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    doc.problem((key,), f"{key} must be a whole number from {low} to {high}, not {value!r}"
                if key in doc.data else f"'{key}' is missing")
    return None


def _unknown_keys(doc: _YamlFile, value: dict, allowed: set, path: tuple, where: str) -> None:
    for key in value:
        if key not in allowed:
            doc.problem(path + (key,), f"unknown key {key!r} in {where} (allowed: {', '.join(sorted(allowed))})")


def _read_metadata(folder: Path, shown: str, problems: list[str]) -> tuple[_YamlFile | None, dict]:
    """course.yaml, checked; the returned dict holds only the fields that are valid."""
    doc = _YamlFile.load(folder / "course.yaml", f"{shown}/course.yaml", problems)
    if doc is None:
        return None, {}
    if not isinstance(doc.data, dict):
        doc.problem((), "course.yaml must be a mapping of keys (slug, version, title, …)")
        return None, {}
    data, meta = doc.data, {}
    _unknown_keys(doc, data, COURSE_KEYS, (), "course.yaml")
    slug = data.get("slug")
    if not isinstance(slug, str) or not SLUG_RE.match(slug) or len(slug) > MAX_SLUG_LENGTH:
        doc.problem(("slug",), f"slug must be lowercase letters, digits and hyphens, not {slug!r}")
    elif slug != folder.name:
        doc.problem(("slug",), f"slug {slug!r} must be the folder name {folder.name!r}")
    else:
        meta["slug"] = slug
    for key, low, high in (("version", 1, 1_000_000), ("position", 0, 10_000), ("pass_mark", 1, 100),
                           ("estimated_minutes", 1, 1000)):
        meta[key] = _number(doc, key, low, high)
    domains = data.get("domains")
    if not isinstance(domains, list) or not domains:
        doc.problem(("domains",), "domains must be a non-empty list")
    else:
        for index, domain in enumerate(domains):
            if domain not in DOMAINS:
                doc.problem(("domains", index), f"unknown domain {domain!r} (allowed: {', '.join(sorted(DOMAINS))})")
        meta["domains"] = list(dict.fromkeys(domains))
    for key, max_length in (("title", MAX_TITLE_LENGTH), ("summary", None)):
        meta[key] = _texts(doc, data.get(key), (key,), key, max_length)
    lessons = data.get("lessons")
    meta["lessons"] = []
    if not isinstance(lessons, list) or not lessons:
        doc.problem(("lessons",), "lessons must be a non-empty list of lesson slugs")
        return doc, meta
    for index, lesson in enumerate(lessons):
        if not isinstance(lesson, str) or not SLUG_RE.match(lesson) or len(lesson) > MAX_SLUG_LENGTH:
            doc.problem(("lessons", index), f"lesson slug must be lowercase letters, digits and hyphens, not {lesson!r}")
        elif lesson in meta["lessons"]:
            doc.problem(("lessons", index), f"lesson {lesson!r} is listed twice")
        meta["lessons"].append(str(lesson))  # keep every entry, so later lessons keep their number
    meta["sources"] = _read_sources(doc, meta["lessons"])
    return doc, meta


def _read_sources(doc: _YamlFile, lesson_slugs: list[str]) -> list[Reference]:
    """`sources`: every lesson names at least one (issuer, title, date checked) a reviewer can look up.

    A source without `lessons` backs the whole course; one with `lessons` backs those lessons only.
    """
    items = doc.data.get("sources")
    if items is None:
        doc.problem((), "'sources' is missing: list where the lessons' facts come from "
                        "(issuer, title, checked: YYYY-MM-DD)")
        return []
    if not isinstance(items, list) or not items:
        doc.problem(("sources",), "sources must be a non-empty list of entries with issuer, title and checked")
        return []
    references, backed = [], set()
    for index, item in enumerate(items):
        reference = _read_source(doc, item, index, lesson_slugs)
        if reference:
            references.append(reference)
            backed.update(reference.lessons or lesson_slugs)
    if len(references) == len(items):
        for index, slug in enumerate(lesson_slugs):
            if slug not in backed:
                doc.problem(("lessons", index), f"lesson {slug!r} has no source: add it to the 'lessons' of a "
                                                f"source, or add a source for the whole course")
    return references


def _read_source(doc: _YamlFile, item: Any, index: int, lesson_slugs: list[str]) -> Reference | None:
    path, label = ("sources", index), f"source {index + 1}"
    if not isinstance(item, dict):
        doc.problem(path, f"{label} must be a mapping with issuer, title and checked")
        return None
    before = len(doc.problems)
    _unknown_keys(doc, item, SOURCE_KEYS, path, label)
    texts = {}
    for key in ("issuer", "title", "url", "note"):
        value = item.get(key)
        if value is None and key in ("url", "note"):
            continue
        if not isinstance(value, str) or not value.strip():
            doc.problem(path + (key,), f"{label} needs a {key} (who published it, and what it is called)"
                        if key in ("issuer", "title") else f"{label}: {key} must be text")
        elif len(value.strip()) > MAX_SOURCE_TEXT:
            doc.problem(path + (key,), f"{label}: {key} is longer than {MAX_SOURCE_TEXT} characters")
        else:
            texts[key] = value.strip()
    if "url" in texts and urlsplit(texts["url"]).scheme not in ("http", "https"):
        doc.problem(path + ("url",), f"{label}: url must start with http:// or https://, not {texts['url']!r}")
    checked = item.get("checked")
    if not isinstance(checked, date) or isinstance(checked, datetime):
        doc.problem(path + ("checked",), f"{label}: checked must be the date you read the source, written "
                                         f"YYYY-MM-DD (e.g. 2026-12-03), not {checked!r}")
    elif checked > date.today():
        doc.problem(path + ("checked",), f"{label}: checked date {checked.isoformat()} is in the future")
    lessons = item.get("lessons", [])
    if not isinstance(lessons, list) or not all(isinstance(slug, str) for slug in lessons):
        doc.problem(path + ("lessons",), f"{label}: lessons must be a list of lesson slugs from this course")
        lessons = []
    for number, slug in enumerate(lessons):
        if slug not in lesson_slugs:
            doc.problem(path + ("lessons", number), f"{label}: {slug!r} is not a lesson of this course "
                                                    f"(lessons: {', '.join(lesson_slugs)})")
    if len(doc.problems) > before:
        return None
    return Reference(texts["issuer"], texts["title"], checked, texts.get("url"), tuple(lessons), texts.get("note"))


def _read_lessons(folder: Path, shown: str, doc: _YamlFile, slugs: list[str],
                  problems: list[str]) -> list[LessonSource]:
    """Every listed lesson in both languages; lesson files not listed are problems too."""
    lessons_dir = folder / "lessons"
    present = {p.name for p in lessons_dir.iterdir() if not p.name.startswith(".")} if lessons_dir.is_dir() else set()
    accounted_for, lessons = set(), []
    for position, slug in enumerate(slugs, start=1):
        titles, bodies, digest = {}, {}, hashlib.sha256(RENDER_VERSION.encode())
        for lang in LANGUAGES:
            name = f"{position:02d}-{slug}.{lang}.md"
            accounted_for.add(name)
            if name not in present:
                misnumbered = sorted(n for n in present if re.fullmatch(rf"\d+-{re.escape(slug)}\.{lang}\.md", n))
                accounted_for.update(misnumbered)
                for wrong in misnumbered:
                    problems.append(f"{shown}/lessons/{wrong}: lesson {slug!r} is number {position} in "
                                    f"course.yaml, so this file must be named {name}")
                if not misnumbered:
                    doc.problem(("lessons", position - 1), f"lesson {slug!r} has no file lessons/{name}")
                continue
            raw = (lessons_dir / name).read_bytes()
            digest.update(raw)
            rendered = _read_lesson_file(raw, f"{shown}/lessons/{name}", folder, problems)
            if rendered:
                titles[lang], bodies[lang] = rendered
        if len(titles) == len(LANGUAGES):
            lessons.append(LessonSource(slug, position, titles, bodies, digest.hexdigest()))
    for name in sorted(present - accounted_for):
        problems.append(f"{shown}/lessons/{name}: not a lesson of course.yaml "
                        f"(lesson files are named NN-<slug>.vi.md and NN-<slug>.en.md)")
    return lessons


def _read_lesson_file(raw: bytes, shown: str, folder: Path, problems: list[str]) -> tuple[str, str] | None:
    """(title, sanitised body HTML) of one lesson file, or None after reporting its problems."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        problems.append(f"{shown}: not UTF-8 text")
        return None
    before = len(problems)
    first_line = text.split("\n", 1)[0].rstrip()
    title_match = re.match(r"^# +(\S.*)$", first_line)
    title = title_match.group(1).strip() if title_match else ""
    if not title_match:
        problems.append(f"{shown}:1: the first line must be the lesson title, written '# Title'")
    elif len(title) > MAX_TITLE_LENGTH:
        problems.append(f"{shown}:1: the title is longer than {MAX_TITLE_LENGTH} characters")
    body = text.split("\n", 1)[1] if "\n" in text else ""
    if not body.strip():
        problems.append(f"{shown}: the lesson has no text after the title")
    for line, message in _markdown_problems(text, folder):
        problems.append(f"{shown}:{line}: {message}")
    if len(problems) > before:
        return None
    return title, render_markdown(body, folder.name)


def _markdown_problems(text: str, folder: Path) -> list[tuple[int, str]]:
    """What an author wrote that the renderer would drop or show wrongly, with line numbers."""
    found = []
    tokens = _inspector.parse(text)
    for index, token in enumerate(tokens):
        line = token.map[0] + 1 if token.map else 0
        if token.type == "html_block":
            found.append((line, "raw HTML is not allowed in lessons; write Markdown"))
        elif token.type == "heading_open" and token.tag not in ("h2", "h3", "h4") and index > 0:
            found.append((line, "headings inside a lesson must be ## to ####"))
        for child in token.children or ():
            if child.type == "html_inline":
                found.append((line, f"raw HTML {child.content!r} is not allowed in lessons; write Markdown"))
            elif child.type == "link_open":
                href = child.attrGet("href") or ""
                if urlsplit(href).scheme.lower() not in ("", "http", "https"):
                    found.append((line, f"link {href!r} is not allowed: only http(s) and relative links"))
            elif child.type == "image":
                found.extend((line, message) for message in _image_reference_problems(child, folder))
    return found


def _image_reference_problems(token, folder: Path) -> list[str]:
    src, alt = token.attrGet("src") or "", token.content.strip()
    problems = [] if alt else [f"image {src!r} needs a description: ![description]({src})"]
    name = src.removeprefix("images/")
    if not src.startswith("images/") or not IMAGE_NAME_RE.match(name):
        problems.append(f"image {src!r} must be a file in this course's images/ folder, written images/<name>")
    elif not (folder / "images" / name).is_file():
        problems.append(f"image {src!r} does not exist in images/")
    return problems


def render_markdown(body: str, course_slug: str) -> str:
    """Lesson Markdown (without its title line) to HTML that is safe to show as is."""
    tokens = _renderer.parse(body)
    for token in tokens:
        for child in token.children or ():
            src = child.attrGet("src") if child.type == "image" else None
            if src and src.startswith("images/"):
                child.attrSet("src", MEDIA_URL.format(course=course_slug, name=src.removeprefix("images/")))
    html = _renderer.renderer.render(tokens, _renderer.options, {})
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"http", "https"},
                     link_rel="noopener noreferrer")


def _check_images(folder: Path, shown: str) -> list[str]:
    """Every file in images/ is served to browsers, so each must be small, a picture and script-free."""
    images_dir = folder / "images"
    if not images_dir.is_dir():
        return []
    problems = []
    for path in sorted(images_dir.iterdir()):
        where = f"{shown}/images/{path.name}"
        if path.name.startswith("."):
            continue
        if not path.is_file():
            problems.append(f"{where}: images/ must hold files only")
            continue
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            problems.append(f"{where}: images must be {', '.join(sorted(IMAGE_SUFFIXES))} files")
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            problems.append(f"{where}: {size / 1024:.0f} KB; images must be {MAX_IMAGE_BYTES // 1024} KB or smaller")
        if path.suffix.lower() == ".svg":
            svg = path.read_bytes().decode("utf-8", errors="replace")
            unsafe = re.search(r"<script|<[^>]*\son[a-z]+\s*=|javascript:", svg, re.IGNORECASE)
            if unsafe:
                line = svg.count("\n", 0, unsafe.start()) + 1
                problems.append(f"{where}:{line}: SVG images must not contain scripts or on…= event handlers")
    return problems


def _read_quiz(folder: Path, shown: str, min_questions: int, max_questions: int,
               problems: list[str]) -> list[QuestionSource]:
    doc = _YamlFile.load(folder / "quiz.yaml", f"{shown}/quiz.yaml", problems)
    if doc is None:
        return []
    if not isinstance(doc.data, dict) or not isinstance(doc.data.get("questions"), list):
        doc.problem((), "quiz.yaml must have a 'questions' list")
        return []
    _unknown_keys(doc, doc.data, {"questions"}, (), "quiz.yaml")
    items = doc.data["questions"]
    if not min_questions <= len(items) <= max_questions:
        doc.problem(("questions",), f"a quiz has {min_questions}–{max_questions} questions, not {len(items)}")
    questions, first_line_of = [], {}
    for index, item in enumerate(items):
        question = _read_question(doc, item, index, first_line_of)
        if question:
            questions.append(question)
    return questions if len(questions) == len(items) else []


def _read_question(doc: _YamlFile, item: Any, index: int, first_line_of: dict) -> QuestionSource | None:
    path = ("questions", index)
    if not isinstance(item, dict):
        doc.problem(path, f"question {index + 1} must be a mapping with id, question, choices, explanation")
        return None
    before = len(doc.problems)
    _unknown_keys(doc, item, QUESTION_KEYS, path, f"question {index + 1}")
    key = item.get("id")
    if not isinstance(key, str) or not SLUG_RE.match(key) or len(key) > MAX_SLUG_LENGTH:
        doc.problem(path, f"question {index + 1} needs an id of lowercase letters, digits and hyphens, not {key!r}")
        label = f"question {index + 1}"
    elif key in first_line_of:
        doc.problem(path, f"question id {key!r} is already used on line {first_line_of[key]}")
        label = f"question {key!r}"
    else:
        first_line_of[key] = doc.line(path)
        label = f"question {key!r}"
    text = _texts(doc, item.get("question"), path + ("question",), f"{label}: question")
    explanation = _texts(doc, item.get("explanation"), path + ("explanation",), f"{label}: explanation")
    choices = item.get("choices")
    if not isinstance(choices, list) or not MIN_CHOICES <= len(choices) <= MAX_CHOICES:
        doc.problem(path + ("choices",), f"{label} must have {MIN_CHOICES}–{MAX_CHOICES} choices")
        return None
    stored = []
    for number, choice in enumerate(choices, start=1):
        choice_path = path + ("choices", number - 1)
        texts = _texts(doc, choice, choice_path, f"{label}: choice {number}", other_keys=("correct",))
        if isinstance(choice, dict):
            if not isinstance(choice.get("correct", False), bool):
                doc.problem(choice_path + ("correct",), f"{label}: 'correct' must be true or false")
        if texts:
            stored.append({**texts, "correct": choice.get("correct") is True})
    if not any(isinstance(c, dict) and c.get("correct") is True for c in choices):
        doc.problem(path, f"{label} has no correct choice (mark one with 'correct: true')")
    if len(doc.problems) > before:
        return None
    return QuestionSource(key, index + 1, text, stored, explanation)


def _hash_files(folder: Path) -> str:
    """sha256 over every source file of a course (names and bytes), to skip unchanged courses."""
    digest = hashlib.sha256(RENDER_VERSION.encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in relative.split("/")):
            continue
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def read_course(folder: Path, *, min_questions: int = MIN_QUESTIONS,
                max_questions: int = MAX_QUESTIONS) -> CourseSource:
    """One course folder, validated and rendered; raises ContentError listing all its problems."""
    folder = Path(folder).resolve()
    shown = f"{folder.parent.name}/{folder.name}"  # e.g. courses/scam-safety, whatever the working directory
    problems: list[str] = []
    doc, meta = _read_metadata(folder, shown, problems)
    lessons = _read_lessons(folder, shown, doc, meta.get("lessons", []), problems) if doc else []
    questions = _read_quiz(folder, shown, min_questions, max_questions, problems)
    problems += _check_images(folder, shown)
    if problems:
        raise ContentError(problems)
    return CourseSource(
        slug=meta["slug"], version=meta["version"], position=meta["position"], pass_mark=meta["pass_mark"],
        estimated_minutes=meta["estimated_minutes"], domains=meta["domains"], title=meta["title"],
        summary=meta["summary"], lessons=lessons, questions=questions, content_hash=_hash_files(folder),
        sources=meta["sources"])

