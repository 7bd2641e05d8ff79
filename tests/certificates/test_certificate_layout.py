"""fit_text: shrink, then wrap, and never overflow its box."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.pdfbase.pdfmetrics import stringWidth

from certificates.layout import block_height, fit_text
from certificates.render import FONT_BOLD, register_fonts

register_fonts()

BOX = dict(max_width=300.0, max_height=58.0, max_size=32.0, min_size=16.0)


def fits(text: str, **box: float) -> None:
    """Assert the fitted result stays inside the box and loses no character."""
    result = fit_text(text, FONT_BOLD, **box)
    assert 1 <= len(result.lines) <= box.get("max_lines", 2)
    for line in result.lines:
        assert stringWidth(line, FONT_BOLD, result.size) <= box["max_width"] + 1e-6
    assert block_height(FONT_BOLD, result.size, len(result.lines)) <= box["max_height"] + 1e-6
    assert result.size <= box["max_size"]
    joined_words = " ".join(result.lines).split()
    assert "".join(joined_words) == "".join(text.split())  # nothing lost or reordered


def test_short_text_keeps_max_size() -> None:
    result = fit_text("Đặng Văn Ơn", FONT_BOLD, **BOX)
    assert result.lines == ("Đặng Văn Ơn",)
    assert result.size == 32


def test_medium_text_shrinks_on_one_line() -> None:
    text = "Nguyễn Thị Hồng Nhung Hoàng"
    result = fit_text(text, FONT_BOLD, **BOX)
    assert result.lines == (text,)
    assert 16 <= result.size < 32
    assert stringWidth(text, FONT_BOLD, result.size) <= 300


def test_long_text_wraps_into_balanced_lines() -> None:
    text = "Công Tằng Tôn Nữ Thị Phương Thảo Nguyễn Hoàng Bảo Ngọc"
    result = fit_text(text, FONT_BOLD, **BOX)
    assert len(result.lines) == 2
    assert result.size >= 16
    first, second = (stringWidth(line, FONT_BOLD, 1) for line in result.lines)
    assert abs(first - second) / max(first, second) < 0.35  # not one long line and a stub
    fits(text, **BOX)


def test_unbreakable_text_is_broken_anywhere_but_fits() -> None:
    fits("Nguyễn" * 40, **BOX)


def test_one_line_only_shrinks_below_minimum_rather_than_overflow() -> None:
    result = fit_text("https://hoc.binhdanhocvuso.vn/" + "x" * 200, FONT_BOLD, max_width=100,
                      max_height=20, max_size=10, min_size=8, max_lines=1)
    assert len(result.lines) == 1 and result.size < 8


vietnamese_text = st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂĐÊÔƠƯàảãáạằẳẵắặầẩẫấậ"
                                   "ềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ'   ",
                          min_size=1, max_size=300).filter(lambda s: s.strip())


@settings(max_examples=150, deadline=None)
@given(text=vietnamese_text)
def test_never_overflows(text: str) -> None:
    fits(" ".join(text.split()), **BOX)
