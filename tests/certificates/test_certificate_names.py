"""Every name the forms accept prints, and reads back exactly; any other still renders.

The name rule itself is `lms.text.name_problem` (the forms and the import call it
through `lms.learners.operations.validate_name`); it is pure, so it is tested here
against the real fonts and real PDF parsers, without Flask or a database.
"""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
import unicodedata
from collections.abc import Callable

import pypdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certificates import (
    LABELS,
    REPLACEMENT,
    CertificateData,
    plan_page,
    printable_text,
    render_certificate,
    render_many,
    unprintable_fields,
    unsupported_characters,
)
from lms.text import NAME_LETTERS, NAME_SEPARATORS, name_problem, normalise_name

Make = Callable[..., CertificateData]
REFUSED = ["Nguyễn 😀 An", "محمد علي", "王小明", "Trần 🇻🇳 Bình", "Lê Văn 2", "Ơ\u0306 Bi", "Nguyễn V. An"]


def _name_lines(pdf: bytes, data: CertificateData) -> list[str]:
    """The name as pypdf reads it: the lines drawn right after the completion date (the
    fixed wording is drawn first), as many as the plan wrapped the name into."""
    lines = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text().splitlines()
    date = next(i for i, line in enumerate(lines) if line.startswith(LABELS[data.locale]["completed_on"] + ":"))
    count = sum(1 for text in plan_page(data).texts if text.field == "name")
    return lines[date + 1:date + 1 + count]


def _pdftotext(pdf: bytes) -> str:
    """poppler's reading in content-stream order (-raw). Its default layout mode guesses
    spaces from gaps between glyphs and reads a 32 pt "A A" as "AA"; -raw reads the
    space characters the PDF actually holds."""
    return subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode("utf-8")


def test_every_letter_of_the_rule_is_a_glyph_of_both_fonts() -> None:
    allowed = "".join(sorted(NAME_LETTERS | NAME_SEPARATORS))
    assert unsupported_characters(allowed) == ""
    assert all(unicodedata.is_normalized("NFC", ch) and len(ch) == 1 for ch in NAME_LETTERS)
    assert len(NAME_LETTERS) == 2 * (12 * 6 + 21 + 4)  # 12 vowels x 6 tones, 20 consonants and đ, ĕ ĭ ŏ ŭ


@pytest.mark.parametrize("name", REFUSED)
def test_names_the_fonts_cannot_draw_are_refused(name: str) -> None:
    code, params = name_problem(normalise_name(name))
    assert code == "name-character" and params["char"].lstrip("\u25cc") in name


name_characters = st.one_of(
    st.sampled_from(sorted(NAME_LETTERS)), st.sampled_from(sorted(NAME_LETTERS)),
    st.sampled_from([" ", " ", "'", "-", "\u2019", "\u02bc", "  "]),
    st.characters(codec="utf-8"),
)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(raw=st.lists(name_characters, min_size=1, max_size=130).map("".join),
       decompose=st.booleans(), locale=st.sampled_from(["vi", "en"]))
def test_every_accepted_name_renders_and_reads_back_exactly(make_certificate: Make, raw: str, decompose: bool,
                                                             locale: str) -> None:
    typed = unicodedata.normalize("NFD", raw) if decompose else raw
    name = normalise_name(typed)
    problem = name_problem(name)
    if problem is not None:  # refused at input, naming a character outside the rule
        if problem[0] == "name-character":
            assert problem[1]["char"].lstrip("\u25cc") not in NAME_LETTERS | NAME_SEPARATORS
        return
    data = make_certificate(full_name=name, locale=locale)
    assert unprintable_fields(data) == ()
    pdf = render_certificate(data)
    assert " ".join(_name_lines(pdf, data)) == name  # wrapped between words at most, every mark intact
    if shutil.which("pdftotext"):
        text = _pdftotext(pdf)
        plan_lines = [t.text for t in plan_page(data).texts if t.field == "name"]
        assert " ".join(plan_lines) == name
        assert all(line in text.splitlines() for line in plan_lines), (plan_lines, text.splitlines())


@pytest.mark.parametrize("name", REFUSED + ["\x00\x01", "\U000e0041 An", "Ａｎ Ｂｉｎｈ"])
def test_a_stored_name_outside_the_rule_still_renders_and_logs_no_personal_data(
        make_certificate: Make, name: str, caplog: pytest.LogCaptureFixture) -> None:
    data = make_certificate(full_name=name)
    with caplog.at_level(logging.WARNING, logger="certificates"):
        pdf = render_certificate(data)
    printed, replaced = printable_text(name)
    assert pdf.startswith(b"%PDF-") and " ".join(_name_lines(pdf, data)) == printed
    if replaced and printed != unicodedata.normalize("NFKC", name):
        assert REPLACEMENT in printed
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert ("full_name" in logged) == bool(replaced)
    for part in name.split() + sorted(unsupported_characters(name)):  # no word of the name, no character
        assert part not in logged.replace(data.serial, "")


def test_full_width_letters_print_as_their_ordinary_form() -> None:
    assert printable_text("Ａｎ") == ("An", 2)


def test_a_bulk_print_lists_what_it_left_out_on_a_last_page(make_certificate: Make) -> None:
    good = [make_certificate(serial=f"2026-00010{i}", full_name="Lê Thị Hoa") for i in range(3)]
    bad = [make_certificate(serial="2026-000200", full_name="Nguyễn 😀 An")]
    assert unprintable_fields(bad[0]) == ("full_name",) and unprintable_fields(good[0]) == ()
    out = io.BytesIO()
    assert render_many(good, out, not_printed=bad) == 3
    reader = pypdf.PdfReader(io.BytesIO(out.getvalue()))
    assert len(reader.pages) == 4
    last = reader.pages[3].extract_text()
    assert "Chưa in được: 1 giấy chứng nhận" in last and f"2026-000200   Nguyễn {REPLACEMENT} An" in last
    assert all("Lê Thị Hoa" in page.extract_text() for page in reader.pages[:3])


def test_a_bulk_print_of_only_unprintable_certificates_is_the_list_alone(make_certificate: Make) -> None:
    bad = [make_certificate(serial=f"2026-{i:06d}", full_name="王小明", locale="en") for i in range(30)]
    out = io.BytesIO()
    assert render_many([], out, not_printed=bad) == 0
    reader = pypdf.PdfReader(io.BytesIO(out.getvalue()))
    assert len(reader.pages) == 2  # 26 lines a page
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Not printed: 30 certificate(s)" in text and all(f"2026-{i:06d}" in text for i in range(30))
