import unicodedata

import pytest

from lms.text import clean_text, fold, person_sort_key, sort_vietnamese
from lms.validation import normalize_phone


def test_clean_text_normalises_and_strips_invisible_characters():
    nfd = unicodedata.normalize("NFD", "Nguyễn")
    assert clean_text(nfd) == "Nguyễn" and unicodedata.is_normalized("NFC", clean_text(nfd))
    assert clean_text("H'Hen\u200b Niê\u202e\x00 ") == "H'Hen Niê"
    assert clean_text("  Lê   Văn\tTám\n") == "Lê Văn Tám"
    assert clean_text("dòng 1\r\ndòng 2", multiline=True) == "dòng 1\ndòng 2"


@pytest.mark.parametrize(("query", "name"), [
    ("nguyen thi hoa", "Nguyễn Thị Hoà"),
    ("nguyen thi hoa", "Nguyễn Thị Hòa"),
    ("dang", "Đặng"),
    ("DANG VAN ON", "Đặng Văn Ơn"),
    ("hhen nie", None),
])
def test_fold_matches_without_diacritics(query, name):
    if name:
        assert fold(query) == fold(name)
        assert fold(unicodedata.normalize("NFD", name)) == fold(name)
    else:
        assert fold("H'Hen Niê") == "h'hen nie"


def test_vietnamese_alphabetical_order():
    words = ["Đào", "Dũng", "Ân", "An", "Ăn", "Bình", "Ơn", "Ông", "Oanh", "Ưng", "Uyên"]
    assert sort_vietnamese(words) == ["An", "Ăn", "Ân", "Bình", "Dũng", "Đào", "Oanh", "Ông", "Ơn", "Uyên", "Ưng"]
    assert sort_vietnamese(["Hạ", "Hà", "Ha", "Hả", "Há", "Hã"]) == ["Ha", "Hà", "Hả", "Hã", "Há", "Hạ"]


def test_people_sort_by_given_name_first():
    names = ["Nguyễn Văn Bình", "Trần Thị An", "Lê Ánh", "Đỗ Đức Anh"]
    assert sorted(names, key=person_sort_key) == ["Trần Thị An", "Đỗ Đức Anh", "Lê Ánh", "Nguyễn Văn Bình"]


@pytest.mark.parametrize(("typed", "stored"), [
    ("0912345678", "+84912345678"), ("+84 912 345 678", "+84912345678"), ("84912345678", "+84912345678"),
    ("0312.345.678", "+84312345678"), ("0212345678", None), ("091234567", None), ("abc", None),
])
def test_phone_numbers_are_stored_as_e164(typed, stored):
    assert normalize_phone(typed) == stored
