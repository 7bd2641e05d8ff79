"""What a phone must keep to learn a course without a connection (docs/offline.md).

The list names every page of the course in the learner's language (the course page, each
lesson, the quiz), the lesson images and the site's styles and scripts, with their sizes,
so the phone can say how much it will keep before it downloads anything. Page sizes are
the lesson's HTML plus the page shell (measured, `PAGE_SHELL_BYTES`), before compression:
an upper bound of what the phone stores. `hash` changes whenever the course's content
does, so a phone that kept an older copy notices and fetches it again.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask import current_app, url_for

from lms.learning.content_cache import CourseView

PAGE_SHELL_BYTES = 4_500  # header, menu, footer and forms of a lesson page, measured on the real templates
STATIC_FILES = ("css/site.css", "js/site.js", "js/offline.js", "icons/icon-192.png")
MEDIA_RE = re.compile(r'src="(/course-media/[^"]+)"')


def course_hash(content_hash: str, version: int, locale: str) -> str:
    return hashlib.sha256(f"{content_hash}:{version}:{locale}".encode()).hexdigest()[:16]


def _media_file(url: str) -> Path | None:
    _prefix, _media, slug, *name = url.split("/")
    path = (Path(current_app.config["COURSES_DIR"]) / slug / "images" / "/".join(name)).resolve()
    folder = (Path(current_app.config["COURSES_DIR"]) / slug / "images").resolve()
    return path if folder in path.parents and path.is_file() else None


def course_files(course: CourseView, content_hash: str, locale: str) -> dict:
    """The offline manifest of `course` for `locale`: files (url, cache key, bytes) and their total."""
    files = [{"url": url_for("learning.course", slug=course.slug), "bytes": PAGE_SHELL_BYTES}]
    media: dict[str, int] = {}
    for lesson in course.lessons:
        body = lesson.body_html(locale)
        files.append({"url": url_for("learning.lesson", slug=course.slug, lesson_slug=lesson.slug),
                      "bytes": PAGE_SHELL_BYTES + len(body.encode())})
        for src in MEDIA_RE.findall(body):
            path = _media_file(src)
            if path is not None:
                media[src] = path.stat().st_size
    quiz = url_for("learning.quiz", slug=course.slug)
    # The quiz is fetched with its form shown even before the lessons are done on the
    # server: they may be done on the phone. It is kept under the quiz's own address.
    files.append({"url": url_for("learning.quiz", slug=course.slug, offline=1), "key": quiz,
                  "bytes": 4 * PAGE_SHELL_BYTES})
    files.extend({"url": src, "bytes": size} for src, size in sorted(media.items()))
    static = Path(current_app.static_folder)
    files.extend({"url": url_for("static", filename=name), "bytes": (static / name).stat().st_size}
                 for name in STATIC_FILES)
    files.append({"url": url_for("core.offline_help"), "bytes": PAGE_SHELL_BYTES})
    return {
        "course": course.slug,
        "version": course.version,
        "hash": course_hash(content_hash, course.version, locale),
        "language": locale,
        "lessons": [{"id": lesson.id, "url": url_for("learning.lesson", slug=course.slug, lesson_slug=lesson.slug)}
                    for lesson in course.lessons],
        "files": files,
        "total_bytes": sum(item["bytes"] for item in files),
    }
