"""A rendered certificate says the right things, scans, and fits the page."""

from __future__ import annotations

import io
import itertools
import re
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
import pytest
import zxingcpp

from certificates import LABELS, CertificateData, plan_page, render_certificate, unsupported_characters
from certificates.render import BORDER_INNER, PAGE_HEIGHT, PAGE_WIDTH

Make = Callable[..., CertificateData]

VIETNAMESE_NAMES = ["Nguyễn Thị Hồng Nhung", "H'Hen Niê", "Đặng Văn Ơn", "Hoàng Thị Thu Hương"]
# 120 characters each, real words, so that they wrap between words.
LONG_NAME = ("Công Tằng Tôn Nữ Thị Phương Thảo Nguyễn Hoàng Bảo Ngọc Trâm Anh "
             "Lê Phạm Huỳnh Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Trịnh Ý Mai")
LONG_COURSE = ("Kỹ năng số nâng cao cho cán bộ xã, phường: dịch vụ công trực tuyến, "
               "thanh toán không dùng tiền mặt và an toàn thông tin.")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def pypdf_text(pdf: bytes, page: int = 0) -> str:
    """Text as the PDF's ToUnicode maps say, NOT normalised: it must already be NFC."""
    return pypdf.PdfReader(io.BytesIO(pdf)).pages[page].extract_text()


def one_line(text: str) -> str:
    """Join wrapped lines: a two-line name is still the same name."""
    return " ".join(text.split())


@pytest.mark.parametrize("locale", ["vi", "en"])
@pytest.mark.parametrize("name", VIETNAMESE_NAMES)
def test_pypdf_extracts_exact_vietnamese_text(make_certificate: Make, name: str, locale: str) -> None:
    data = make_certificate(full_name=name, locale=locale)
    text = pypdf_text(render_certificate(data))
    lines = text.splitlines()
    assert nfc(name) in lines  # the name is a line of its own, every mark intact
    label = LABELS[locale]
    for expected in (label["title"], label["programme"], label["completed"], nfc(data.course_title),
                     data.serial, data.verification_code, data.verify_url, "Xã Ea Tu", "Tỉnh Đắk Lắk"):
        assert expected in text, expected
    assert ("22/11/2026" if locale == "vi" else "November 22, 2026") in text


def test_decomposed_input_is_printed_precomposed(make_certificate: Make) -> None:
    decomposed = unicodedata.normalize("NFD", "Đặng Văn Ơn")
    assert decomposed != "Đặng Văn Ơn"
    text = pypdf_text(render_certificate(make_certificate(full_name=decomposed)))
    assert "Đặng Văn Ơn" in text.splitlines()
    assert not any(unicodedata.combining(char) for char in text)  # one glyph per letter


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")
@pytest.mark.parametrize("locale", ["vi", "en"])
def test_pdftotext_extracts_exact_vietnamese_text(make_certificate: Make, locale: str) -> None:
    for name in VIETNAMESE_NAMES:
        pdf = render_certificate(make_certificate(full_name=name, locale=locale))
        result = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf,
                                capture_output=True, check=True)
        text = result.stdout.decode("utf-8")
        assert nfc(name) in text.splitlines()
        assert LABELS[locale]["title"] in text


def test_qr_code_decodes_to_verify_url(sample: CertificateData) -> None:
    page = pdfium.PdfDocument(render_certificate(sample))[0]
    image = page.render(scale=150 / 72).to_pil()
    results = zxingcpp.read_barcodes(image)
    assert [r.text for r in results] == [sample.verify_url]
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode


def test_long_url_still_scans_and_is_printed(make_certificate: Make) -> None:
    url = "https://hoc.binhdanhocvuso.vn/xac-minh/" + "abcdefghij" * 12 + "?nguon=giay-chung-nhan-in"
    pdf = render_certificate(make_certificate(verify_url=url))
    image = pdfium.PdfDocument(pdf)[0].render(scale=150 / 72).to_pil()
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [url]
    assert url in "".join(pypdf_text(pdf).split())  # possibly wrapped, never cut


def test_same_data_same_bytes(make_certificate: Make) -> None:
    first = render_certificate(make_certificate())
    assert render_certificate(make_certificate()) == first
    assert b"/CreationDate (D:20261122000000+00'00')" in first  # from completed_on, not the clock
    other = render_certificate(make_certificate(full_name="Đặng Văn Ơn"))
    assert other != first
    first_id = re.search(rb"/ID\s*\[<([0-9A-F]+)>", first).group(1)
    other_id = re.search(rb"/ID\s*\[<([0-9A-F]+)>", other).group(1)
    assert first_id != other_id  # the document ID is derived from the data


def test_font_embedded_as_subset_and_no_base14(sample: CertificateData) -> None:
    reader = pypdf.PdfReader(io.BytesIO(render_certificate(sample)))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    base_fonts = sorted(str(f.get_object()["/BaseFont"]) for f in fonts.values())
    assert base_fonts, "no fonts"
    for font in base_fonts:
        assert re.fullmatch(r"/[A-Z]{6}\+NotoSans-(Regular|Bold)", font), font  # subset tag "ABCDEF+"
    for ref in fonts.values():
        descriptor = ref.get_object()["/FontDescriptor"].get_object()
        embedded = descriptor["/FontFile2"].get_object().get_data()
        assert 1_000 < len(embedded) < 40_000  # a real font program, but only the glyphs used
    assert "Helvetica" not in str(base_fonts)


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_size_per_certificate_at_most_40_kb(make_certificate: Make, locale: str) -> None:
    for name in VIETNAMESE_NAMES + [LONG_NAME]:
        assert len(render_certificate(make_certificate(full_name=name, locale=locale))) <= 40 * 1024


def test_text_is_nfc_and_whitespace_collapsed(make_certificate: Make) -> None:
    text = pypdf_text(render_certificate(make_certificate(full_name="  Hoàng   Thị\tThu Hương \n")))
    assert "Hoàng Thị Thu Hương" in text.splitlines()


def boxes_overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("locale", ["vi", "en"])
@pytest.mark.parametrize(("name", "course"), [
    ("Đặng Văn Ơn", "Tin học"),
    (LONG_NAME, LONG_COURSE),
    (LONG_NAME[:77], LONG_COURSE[:90]),  # just too long for one line: two lines, limited by height
    ("Nguyễn" * 20, "Khóahọc" * 17),  # no spaces at all: broken anywhere, still inside
])
def test_plan_keeps_everything_inside_and_apart(make_certificate: Make, name: str, course: str,
                                                locale: str) -> None:
    plan = plan_page(make_certificate(full_name=name, course_title=course, locale=locale))
    inside = (BORDER_INNER, BORDER_INNER, PAGE_WIDTH - BORDER_INNER, PAGE_HEIGHT - BORDER_INNER)
    boxes = [(text.field, text.box()) for text in plan.texts] + [("qr", plan.qr_box())]
    for field, box in boxes:
        assert inside[0] <= box[0] and box[2] <= inside[2], (field, box)
        assert inside[1] <= box[1] and box[3] <= inside[3], (field, box)
    for (field_a, a), (field_b, b) in itertools.combinations(boxes, 2):
        if field_a != field_b:
            assert not boxes_overlap(a, b), (field_a, field_b)
    name_lines = [t for t in plan.texts if t.field == "name"]
    assert len(name_lines) <= 2
    assert one_line(" ".join(t.text for t in name_lines)).replace(" ", "") == name.replace(" ", "")


def test_long_name_and_course_fit_on_the_rendered_page(make_certificate: Make) -> None:
    assert len(LONG_NAME) == len(LONG_COURSE) == 120
    data = make_certificate(full_name=LONG_NAME, course_title=LONG_COURSE)
    pdf = render_certificate(data)

    plan = plan_page(data)
    name_lines = [t for t in plan.texts if t.field == "name"]
    course_lines = [t for t in plan.texts if t.field == "course"]
    assert len(name_lines) == 2 and name_lines[0].size >= 16  # wrapped at the minimum size or above
    assert len(course_lines) <= 2 and course_lines[0].size >= 12

    text = one_line(pypdf_text(pdf))
    assert LONG_NAME in text and LONG_COURSE in text

    # Every glyph pdfium finds on the page lies inside the inner frame.
    page = pdfium.PdfDocument(pdf)[0]
    width, height = page.get_size()
    textpage = page.get_textpage()
    count = textpage.count_chars()
    assert count > 400
    for index in range(count):
        left, bottom, right, top = textpage.get_charbox(index)
        if right - left == 0 and top - bottom == 0:
            continue  # generated spaces/line breaks have empty boxes
        assert BORDER_INNER <= left <= right <= width - BORDER_INNER, index
        assert BORDER_INNER <= bottom <= top <= height - BORDER_INNER, index


def test_short_name_is_large_and_on_one_line(make_certificate: Make) -> None:
    plan = plan_page(make_certificate(full_name="H'Hen Niê"))
    name_lines = [t for t in plan.texts if t.field == "name"]
    assert len(name_lines) == 1 and name_lines[0].size == 32


def test_unprintable_characters_are_printed_as_the_replacement_character(make_certificate: Make) -> None:
    """A stored name from before the name rule still gets its certificate (never an error)."""
    assert unsupported_characters("Nguyễn Văn A") == ""
    assert unsupported_characters("Trần 王 🙂") == "王🙂"
    text = pypdf_text(render_certificate(make_certificate(full_name="Trần 王 🙂")))
    assert "Trần \ufffd \ufffd" in text.splitlines()


@pytest.mark.parametrize("change", [{"locale": "fr"}, {"full_name": "   "}, {"verify_url": ""},
                                    {"commune_name": ""}, {"completed_on": "22/11/2026"}])
def test_bad_data_is_refused(make_certificate: Make, change: dict[str, str]) -> None:
    with pytest.raises((ValueError, TypeError)):
        render_certificate(make_certificate(**change))


def test_stored_code_form_is_printed_grouped(make_certificate: Make) -> None:
    data = make_certificate()
    compact = data.verification_code.replace("-", "")
    text = pypdf_text(render_certificate(make_certificate(verification_code=compact)))
    assert data.verification_code in text.splitlines()


def test_every_locale_has_every_label() -> None:
    keys = set(LABELS["vi"])
    assert all(set(labels) == keys for labels in LABELS.values())


def test_package_does_not_import_flask_or_a_database() -> None:
    code = ("import sys, certificates; certificates.render_certificate; "
            "bad = [m for m in ('flask', 'flask_babel', 'sqlalchemy', 'psycopg', 'lms') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stdout + result.stderr


def test_concurrent_renders_match_serial_ones(make_certificate: Make) -> None:
    """Flask may serve several requests in threads of one process (gunicorn's gthread
    workers). Threads switch every microsecond here, so a race shows on every run, not
    once in a hundred (reportlab's font subsetting shares one file reader)."""
    items = [make_certificate(serial=f"2026-{n:06d}", full_name=VIETNAMESE_NAMES[n % 4]) for n in range(16)]
    expected = [render_certificate(data) for data in items]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(3):
            with ThreadPoolExecutor(max_workers=8) as pool:
                assert list(pool.map(render_certificate, items)) == expected
    finally:
        sys.setswitchinterval(interval)
