"""render_many: one valid multi-page PDF, written in constant memory."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Callable, Iterator

import pypdf
import pypdfium2 as pdfium
import pytest
import zxingcpp

from certificates import CertificateData, render_certificate, render_many

Make = Callable[..., CertificateData]
NAMES = ["Nguyễn Thị Hồng Nhung", "H'Hen Niê", "Đặng Văn Ơn", "Hoàng Thị Thu Hương", "Y Moan Êban"]


def batch(make_certificate: Make, count: int) -> Iterator[CertificateData]:
    """A lazy stream of distinct certificates, like rows from a database cursor."""
    for n in range(count):
        yield make_certificate(serial=f"2026-{n:06d}", full_name=f"{NAMES[n % len(NAMES)]} {n}",
                               locale="vi" if n % 3 else "en")


class CountingSink:
    """A write-only file that keeps nothing, so only the renderer's memory is measured."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


def test_pages_text_and_qr_codes(make_certificate: Make) -> None:
    out = io.BytesIO()
    seen: list[int] = []
    pages = render_many(batch(make_certificate, 25), out, progress=seen.append)
    assert pages == 25
    assert seen == list(range(1, 26))

    pdf = out.getvalue()
    reader = pypdf.PdfReader(io.BytesIO(pdf), strict=True)
    assert len(reader.pages) == 25
    expected = list(batch(make_certificate, 25))
    for index in (0, 1, 12, 24):
        text = reader.pages[index].extract_text()
        assert expected[index].full_name in text.splitlines()
        assert expected[index].serial in text
        assert expected[index].verification_code in text

    document = pdfium.PdfDocument(pdf)
    assert len(document) == 25
    for index in (0, 24):
        image = document[index].render(scale=150 / 72).to_pil()
        assert [r.text for r in zxingcpp.read_barcodes(image)] == [expected[index].verify_url]

    # Fonts are shared by all pages, not embedded once per page.
    assert len(pdf) < 25 * 10 * 1024
    fonts = {str(f.get_object()["/BaseFont"]) for page in reader.pages
             for f in page["/Resources"]["/Font"].values()}
    assert all(name.endswith(("NotoSans-Regular", "NotoSans-Bold")) for name in fonts)


def test_bulk_page_matches_single_render(make_certificate: Make) -> None:
    data = make_certificate(full_name="Đặng Văn Ơn")
    out = io.BytesIO()
    render_many([data], out)
    bulk_page = pypdf.PdfReader(io.BytesIO(out.getvalue())).pages[0].extract_text()
    single_page = pypdf.PdfReader(io.BytesIO(render_certificate(data))).pages[0].extract_text()
    assert bulk_page == single_page


def test_deterministic(make_certificate: Make) -> None:
    first, second = io.BytesIO(), io.BytesIO()
    render_many(batch(make_certificate, 5), first)
    render_many(batch(make_certificate, 5), second)
    assert first.getvalue() == second.getvalue()


def test_no_items_is_an_error() -> None:
    with pytest.raises(ValueError):
        render_many([], io.BytesIO())


def test_bad_item_raises_before_its_page(make_certificate: Make) -> None:
    items = [make_certificate(), make_certificate(locale="xx")]
    with pytest.raises(ValueError, match="locale"):
        render_many(items, io.BytesIO())


def peak_memory(make_certificate: Make, count: int) -> int:
    sink = CountingSink()
    tracemalloc.start()
    try:
        assert render_many(batch(make_certificate, count), sink) == count
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat(make_certificate: Make) -> None:
    render_many(batch(make_certificate, 3), CountingSink())  # warm up: fonts parsed, modules imported
    small = peak_memory(make_certificate, 50)
    large = peak_memory(make_certificate, 200)
    # Keeping pages in memory (what canvas.save() does) costs ~10 KB per page:
    # 150 more pages would add ~1.5 MB. Streaming adds only bookkeeping.
    assert large < small * 1.25, (small, large)
    assert large - small < 150 * 1024, (small, large)
