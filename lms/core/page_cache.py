"""Pages rendered once and completed per request.

Some pages (a lesson) are the same for everyone but for a few small values: the CSRF
token in their forms, the user's name in the menu, the path the language switch returns
to. Rendering the whole template each time cost more than everything else on the page.
`render_cached` renders the template once per key with markers in place of those
values, keeps the result, and on later requests only replaces the markers with the
escaped values of this request.

The key holds the lesson's content hash, so a lesson changed by a content sync in any
process is a new key here: kept by size only (lms.cache).
"""

from __future__ import annotations

from flask import render_template
from markupsafe import escape

from lms import cache

MAX_ENTRIES = 512
_pages = cache.named("lesson_pages", maxsize=MAX_ENTRIES, why=(
    "lesson page shells with markers for the per-request values; keyed by the lesson's content hash"))


def _marker(name: str) -> str:
    return f"\u2983{name}\u2984"  # ⦃name⦄: never produced by escaping or by content


def _returning(value: str):
    return lambda: value


def render_cached(key: tuple, template: str, dynamic: dict[str, str], *, store: cache.NamedCache | None = None,
                  **context) -> str:
    """`template` rendered with `context` (cached under `key`, in `store` or the lesson
    pages' cache), `dynamic` filled in.

    Each dynamic value is passed to the template as a variable of the same name, or as
    a function for names ending in "()": `{"csrf_token()": token}`.
    """
    store = _pages if store is None else store
    page = store.get(key)
    if page is None:
        placeholders = {}
        for name in dynamic:
            if name.endswith("()"):
                placeholders[name[:-2]] = _returning(_marker(name))
            else:
                placeholders[name] = _marker(name)
        page = store.set(key, render_template(template, **context, **placeholders))
    return _fill(page, dynamic)


def cached(key: tuple, dynamic: dict[str, str]) -> str | None:
    """The page kept under `key` with `dynamic` filled in, or None if none is kept."""
    page = _pages.get(key)
    return None if page is None else _fill(page, dynamic)


def _fill(page: str, dynamic: dict[str, str]) -> str:
    for name, value in dynamic.items():
        page = page.replace(_marker(name), str(escape(value)))
    return page


def clear() -> None:
    _pages.clear()
