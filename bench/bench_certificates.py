"""Benchmark for certificates/: rendering rate, size per certificate, bulk memory.

Run from the repository root:  python bench/bench_certificates.py [--bulk 1000] [--singles 300]

Each figure is compared with a reference measured in the same run, on the
same machine, so the ratio means something even on a slow or busy machine:

* rate and size: the same certificate with the QR code drawn by reportlab's
  own QrCodeWidget instead of our single merged path;
* bulk memory: the same pages drawn on one plain reportlab canvas and saved at
  the end (reportlab keeps every page in memory until save), versus
  render_many's streaming writer. Memory is Python heap peak (tracemalloc).

Single process, no parallelism: divide by the number of workers to plan capacity.
"""

from __future__ import annotations

import argparse
import datetime
import io
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reportlab.graphics import renderPDF  # noqa: E402
from reportlab.graphics.barcode.qr import QrCodeWidget  # noqa: E402
from reportlab.graphics.shapes import Drawing  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from certificates import CertificateData, format_code, make_verification_code, render_certificate, render_many  # noqa: E402
from certificates import render as render_module  # noqa: E402

SECRET = b"benchmark-secret-key-0123456789ab"
NAMES = ["Nguyễn Thị Hồng Nhung", "H'Hen Niê", "Đặng Văn Ơn", "Hoàng Thị Thu Hương",
         "Trần Quốc Tuấn", "Lê Thị Ánh Tuyết", "Y Moan Êban", "Phạm Minh Đức"]
COURSES = ["Kỹ năng số cơ bản: dùng điện thoại thông minh an toàn",
           "Dịch vụ công trực tuyến cho người dân",
           "Thanh toán không dùng tiền mặt và phòng chống lừa đảo"]


def certificates(count: int) -> Iterator[CertificateData]:
    """Distinct, realistic certificates (different names, codes and URLs)."""
    for n in range(count):
        serial = f"2026-{n:06d}"
        code = make_verification_code(SECRET, serial)
        yield CertificateData(
            full_name=f"{NAMES[n % len(NAMES)]}", course_title=COURSES[n % len(COURSES)],
            completed_on=datetime.date(2026, 11, 22) - datetime.timedelta(days=n % 90),
            commune_name="Xã Ea Tu", province_name="Tỉnh Đắk Lắk", serial=serial,
            verification_code=format_code(code),
            verify_url=f"https://hoc.binhdanhocvuso.vn/xac-minh/{code}",
            locale="vi" if n % 4 else "en")


def render_with_widget(data: CertificateData) -> bytes:
    """Reference: the same certificate, QR drawn by reportlab's QrCodeWidget.

    The widget encodes the URL itself and draws module by module.
    """
    def draw_qr_with_widget(canvas: Canvas, matrix: tuple, x: float, y: float, size: float) -> None:
        widget = QrCodeWidget(data.verify_url, barLevel="M", barBorder=0)
        x0, y0, x1, y1 = widget.getBounds()
        drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
        drawing.add(widget)
        renderPDF.draw(drawing, canvas, x, y)

    original = render_module._draw_qr
    render_module._draw_qr = draw_qr_with_widget
    try:
        return render_certificate(data)
    finally:
        render_module._draw_qr = original


def render_many_plain_canvas(items: Iterator[CertificateData], out: io.RawIOBase) -> int:
    """Reference for bulk: one reportlab canvas, every page held in memory until save()."""
    canvas = Canvas(out, pagesize=render_module.PAGE_SIZE, invariant=1, pageCompression=1,
                    initialFontName=render_module.FONT_REGULAR)
    pages = 0
    for data in items:
        render_module.draw_page(canvas, render_module.plan_page(data))
        canvas.showPage()
        pages += 1
    canvas.save()
    return pages


class CountingSink:
    """Output that keeps nothing: the PDF's own bytes must not count as renderer memory."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


def rate_and_size(render: Callable[[CertificateData], bytes], count: int) -> tuple[float, float]:
    """(certificates per second, mean bytes per certificate) over ``count`` distinct ones."""
    items = list(certificates(count))
    render(items[0])  # warm-up
    sizes = 0
    start = time.perf_counter()
    for data in items:
        sizes += len(render(data))
    elapsed = time.perf_counter() - start
    return count / elapsed, sizes / count


def bulk(render: Callable[[Iterator[CertificateData], CountingSink], int], count: int) -> tuple[float, int, float]:
    """(pages per second, output bytes, Python heap peak in bytes) for one bulk PDF."""
    sink = CountingSink()
    start = time.perf_counter()
    render(certificates(count), sink)
    elapsed = time.perf_counter() - start
    tracemalloc.start()
    try:
        render(certificates(count), CountingSink())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return count / elapsed, sink.size, peak


def main(argv: list[str] | None = None) -> int:
    """Print the table; returns 0 if every target is met, else 1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--singles", type=int, default=300, help="certificates for the rate test")
    parser.add_argument("--bulk", type=int, default=1000, help="pages in the bulk PDF")
    args = parser.parse_args(argv)

    render_many(certificates(2), CountingSink())  # fonts parsed, modules imported

    rate, size = rate_and_size(render_certificate, args.singles)
    widget_rate, widget_size = rate_and_size(render_with_widget, args.singles)
    small = max(args.bulk // 10, 10)
    bulk_rate, bulk_bytes, bulk_peak = bulk(render_many, args.bulk)
    _, _, bulk_peak_small = bulk(render_many, small)
    _, plain_bytes, plain_peak = bulk(render_many_plain_canvas, args.bulk)

    kb, mb = 1024, 1024 * 1024
    rows = [
        ("figure", "target", "measured", "reference", "ratio", "reference is"),
        ("single render rate", ">= 100 /s", f"{rate:.0f} /s", f"{widget_rate:.0f} /s",
         f"{rate / widget_rate:.2f}x", "QrCodeWidget"),
        ("bytes per certificate", "<= 40 KB", f"{size / kb:.1f} KB", f"{widget_size / kb:.1f} KB",
         f"{size / widget_size:.2f}x", "QrCodeWidget"),
        (f"bulk peak heap, {args.bulk} pages", "constant", f"{bulk_peak / mb:.2f} MB",
         f"{plain_peak / mb:.2f} MB", f"{bulk_peak / plain_peak:.2f}x", "one canvas, save()"),
        (f"bulk peak {args.bulk} vs {small} pages", "~1.0x", f"{bulk_peak / bulk_peak_small:.2f}x",
         "", "", f"{bulk_peak_small / mb:.2f} MB at {small}"),
        ("bulk rate", "", f"{bulk_rate:.0f} pages/s", "", "", ""),
        ("bulk bytes per page", "", f"{bulk_bytes / args.bulk / kb:.1f} KB",
         f"{plain_bytes / args.bulk / kb:.1f} KB", f"{bulk_bytes / plain_bytes:.2f}x", "one canvas, save()"),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
    ok = rate >= 100 and size <= 40 * kb and bulk_peak / bulk_peak_small < 1.25
    from bench.report import record

    record("certificate render rate", "≥ 100 /s", round(rate), "/s", reference=round(widget_rate),
           ratio=round(rate / widget_rate, 2), met=rate >= 100, note="reference: reportlab QrCodeWidget")
    record("certificate size", "≤ 40 KB", round(size / kb, 1), "KB", reference=round(widget_size / kb, 1),
           ratio=round(size / widget_size, 2), met=size <= 40 * kb, note="reference: reportlab QrCodeWidget")
    record(f"bulk PDF peak memory, {args.bulk} pages", "flat", round(bulk_peak / mb, 2), "MB",
           reference=round(bulk_peak_small / mb, 2), ratio=round(bulk_peak / bulk_peak_small, 2),
           met=bulk_peak / bulk_peak_small < 1.25, note=f"reference: {small} pages; one canvas: {plain_peak / mb:.2f} MB")
    print("\nall targets met" if ok else "\nTARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
