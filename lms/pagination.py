"""One pagination for every list: a page number read safely, one count, one slice.

`page_number(request.args)` never fails: a missing, malformed or negative page is
page 1, a huge one the last. `paginate(query, page=…, per_page=…)` counts the rows
once, clamps the page to the last one (so `?page=99999999999999999999` shows the last
page instead of an overflow in OFFSET), and reads that page. Templates render a `Page`
with the `pagination` macro of `templates/_pagination.html`.

Flask-SQLAlchemy's `db.paginate` was not used: it reads the page from the request
itself (`int()` of any size) and answers 404 past the end, where a list that shrank
since its link was made should show its last page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select

from lms.extensions import db
from lms.numbers import INT_MAX, parse_int

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its rows, its number (from 1) and how many there are."""

    items: list[T]
    number: int
    pages: int
    total: int
    per_page: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_number(source: Mapping, name: str = "page") -> int:
    """The page asked for in `source` (a query string): a huge number means the last page
    (`paginate` clamps it), anything that is not a positive number the first."""
    raw = (source.get(name) or "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) > 9:
        return INT_MAX
    return parse_int(raw, default=1, minimum=1) or 1


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` rows fill (at least one, so an empty list has a page)."""
    return max(1, -(-total // per_page))


def count(query: Select) -> int:
    """Rows `query` would return, counted by the database."""
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))


def paginate(query: Select, *, page: int, per_page: int, total: int | None = None) -> Page:
    """Page `page` of `query` (ORM entities), clamped to [1, last page]; `total` if already counted."""
    total = count(query) if total is None else total
    pages = page_count(total, per_page)
    number = min(max(page, 1), pages, INT_MAX)
    items: Sequence = db.session.scalars(query.limit(per_page).offset((number - 1) * per_page)).all()
    return Page(list(items), number, pages, total, per_page)


def first_rows(query: Select, limit: int) -> list:
    """The first `limit` rows of `query` (exports and printed batches: one page, no count)."""
    return list(db.session.scalars(query.limit(limit)))
