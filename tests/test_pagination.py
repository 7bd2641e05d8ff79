"""One pagination (lms.pagination) and bounded integers (lms.numbers), and their effect on the lists."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lms.learners.models import Learner
from lms.numbers import INT_MAX, parse_int, parse_ints
from lms.pagination import page_number, paginate


@pytest.mark.parametrize(("raw", "expected"), [
    (None, 1), ("", 1), ("1", 1), ("7", 7), (" 7 ", 7), ("0", 1), ("-3", 1), ("abc", 1), ("1.5", 1), ("1e3", 1),
    ("٣", 1), ("1_0", 1), ("99999999999999999999", INT_MAX), (str(INT_MAX), INT_MAX), (str(INT_MAX + 1), INT_MAX),
    ("-99999999999999999999", 1),
])
def test_page_number_is_always_a_sane_page(raw, expected):
    assert page_number({"page": raw} if raw is not None else {}) == expected


def test_parse_int_bounds():
    assert parse_int("12", minimum=1) == 12
    assert parse_int("0", minimum=1, default=5) == 5
    assert parse_int(True) is None
    assert parse_int(str(2**63)) is None
    assert parse_ints(["1", "2"]) == [1, 2]
    assert parse_ints(["1", "99999999999999999999"]) is None


def test_paginate_clamps_to_the_last_page(make):
    for n in range(5):  # names take letters only: "Số A" … "Số E"
        make.learner(full_name=f"Nguyễn Văn Số {'ABCDE'[n]}", login=f"page{n}")
    query = select(Learner).where(Learner.full_name.like("Nguyễn Văn Số %")).order_by(Learner.id)
    first = paginate(query, page=1, per_page=2)
    assert (first.number, first.pages, first.total, len(first.items)) == (1, 3, 5, 2)
    assert first.has_next and not first.has_previous
    last = paginate(query, page=INT_MAX, per_page=2)
    assert (last.number, len(last.items), last.has_next) == (3, 1, False)
    empty = paginate(query.where(Learner.id < 0), page=4, per_page=2)
    assert (empty.number, empty.pages, empty.items) == (1, 1, [])


@pytest.mark.parametrize("url", ["/team/learners?page=99999999999999999999", "/team/learners?page=-5",
                                 "/team/learners?page=abc", "/team/learners?page=2147483648",
                                 "/certificates/issued?page=99999999999999999999", "/team/audit?page=99999999999999999999"])
def test_absurd_page_numbers_show_a_page(client, login, make, url):
    """The 500 of issue 15.7: an absurd page is clamped, never an overflow."""
    login(make.staff("commune_official"))
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", ["/team/learners/99999999999999999999", "/team/learners/2147483648/edit",
                                 "/team/import/9223372036854775808", "/statistics/units/99999999999999999999"])
def test_absurd_ids_in_the_path_are_not_found(client, login, make, url):
    login(make.staff("commune_official"))
    assert client.get(url).status_code == 404


def _letters(n: int) -> str:
    """A distinct two-letter word per n (names take letters, not digits): Aa, Ab, …"""
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[n // 26] + "abcdefghijklmnopqrstuvwxyz"[n % 26]


def test_learner_list_pages_through_everyone(client, login, make):
    """50 a page: the second page holds the rest, and the links say where they are."""
    from lms.team.views import PER_PAGE

    commune = make.commune()
    for n in range(PER_PAGE + 3):
        make.learner(commune=commune, full_name=f"Trần Thị Trang {_letters(n)}", login=f"trang{n:03d}")
    login(make.staff("team_member"))
    first = client.get("/team/learners?q=Trang").get_data(as_text=True)
    second = client.get("/team/learners?q=Trang&page=2").get_data(as_text=True)
    past = client.get("/team/learners?q=Trang&page=99999999999999999999").get_data(as_text=True)
    names = re.compile(r"Trần Thị Trang [A-Z][a-z]\b")
    assert len(set(names.findall(first))) == PER_PAGE
    assert len(set(names.findall(second))) == 3
    assert set(names.findall(past)) == set(names.findall(second))
    assert "page=2" in first and "page=1" in second and "q=Trang" in second
