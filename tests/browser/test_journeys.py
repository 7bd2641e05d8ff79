"""The three journeys of the product, clicked through in a real Chromium.

Each test starts from a fresh browser profile and uses only what a person would: it
types into fields, picks from lists, presses buttons and follows links. Files come
back as real browser downloads (or, for content types, fetched with the browser's own
cookies through Playwright's request context).
"""

from __future__ import annotations

import csv
import io
import unicodedata

import pypdf
from openpyxl import load_workbook

from tests.browser.conftest import log_in
from tests.conftest import right_answers

NFC = "NFC"


def _app_data(live_server, read):
    """Read something from the live server's database, in its own app context."""
    with live_server.app.app_context():
        return read()


def _course(live_server, slug: str = "scam-safety") -> dict:
    """The course as the app loaded it from courses/: slug, title, lessons, right answers."""
    from lms.learning.queries import course_by_slug

    def read():
        course = course_by_slug(slug)
        return {"slug": course.slug, "title": course.title("vi"), "lessons": len(course.lessons),
                "answers": right_answers(course)}

    return _app_data(live_server, read)


def _unit_name(live_server, level: str, code: str) -> str:
    from lms.units.queries import unit_by_code

    return _app_data(live_server, lambda: unit_by_code(level, code).name)


def _download(page, selector: str) -> tuple[str, bytes]:
    """Click a link that downloads a file; the file's suggested name and bytes."""
    with page.expect_download() as info:
        page.click(selector)
    download = info.value
    assert download.failure() is None, download.failure()
    with open(download.path(), "rb") as handle:
        return download.suggested_filename, handle.read()


def _pdf_text(data: bytes) -> tuple[int, str]:
    assert data.startswith(b"%PDF"), data[:40]
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), unicodedata.normalize(NFC, text)


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, so Excel reads the diacritics
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def _submit(page, form_selector: str) -> None:
    """Press the form's button and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(f"{form_selector} button")


def _follow(page, link_selector: str) -> None:
    """Follow a link and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(link_selector)


# --- Citizen ---------------------------------------------------------------------------

def test_citizen_signs_up_learns_passes_and_downloads_the_certificate(page, live_server):
    course = _course(live_server)
    # Typed the way a Unikey "tổ hợp" keyboard sends it (NFD): the app stores NFC.
    name = "Nguyễn Thị Mai Anh"
    page.goto(live_server("/"))
    _follow(page, "main a[href='/signup']")

    # Sign-up in three steps; site.js moves on as soon as a place is picked.
    with page.expect_navigation():
        page.select_option("#province", "01")
    with page.expect_navigation():
        page.select_option("#commune", "00070")
    page.fill("#full_name", unicodedata.normalize("NFD", name))
    page.fill("#login", "mai.anh.browser")
    page.fill("#password", "mat khau cua toi 1")
    page.fill("#birth_year", "1962")
    page.select_option("#sex", "female")
    page.select_option("#village", index=1)
    page.check("#consent")
    _submit(page, "main form[method=post]")
    assert page.url == live_server("/")
    assert page.locator(".flash-success").count() == 1

    # Choose the course in the catalogue and start it.
    _follow(page, "nav a[href='/courses']")
    _follow(page, f"main a[href='/courses/{course['slug']}']")
    assert page.inner_text("h1") == course["title"]
    _submit(page, f"form[action='/courses/{course['slug']}/enroll']")

    # Read every lesson, pressing "done, next" at the end of each.
    for number in range(1, course["lessons"] + 1):
        assert f"/courses/{course['slug']}/lessons/" in page.url
        assert f"{number}/{course['lessons']}" in page.inner_text(".breadcrumb")
        _submit(page, "form[action$='/complete']")
    assert page.url == live_server(f"/courses/{course['slug']}/quiz")

    # The quiz, with the right answers read from courses/ through the app's loader.
    for key, indexes in course["answers"].items():
        for index in indexes:
            page.check(f"#{key}-{index}")
    _submit(page, "form.quiz")
    assert page.locator(".flash-success").count() == 1, page.inner_text("main")[:500]
    assert page.locator(".quiz-review li.wrong").count() == 0

    # My certificates: download the Vietnamese PDF.
    _follow(page, "nav a[href='/certificates']")
    assert page.locator(".cards .card").count() == 1
    filename, pdf = _download(page, "main a[lang=vi][href$='.pdf?lang=vi']")
    assert filename.endswith("-vi.pdf")
    pages, text = _pdf_text(pdf)
    assert pages == 1
    assert name in text and course["title"] in text.replace("\n", " ")


def test_demo_learner_logs_in_and_resumes_after_logging_out(page, live_server):
    course = _course(live_server, "e-payments")
    log_in(page, live_server, "demo-learner")
    _follow(page, "nav a[href='/courses']")
    assert page.locator(".cards .card").count() == 5  # the five courses in courses/
    _follow(page, f"main a[href='/courses/{course['slug']}']")
    _submit(page, f"form[action='/courses/{course['slug']}/enroll']")
    first_lesson = page.url
    _submit(page, "form[action$='/complete']")
    second_lesson = page.url
    assert second_lesson != first_lesson and "/lessons/" in second_lesson

    _submit(page, "form[action='/logout']")
    assert page.locator(".resume").count() == 0
    log_in(page, live_server, "demo-learner")
    assert page.url == live_server("/")
    resume = page.locator(".resume a.button")
    assert resume.get_attribute("href") == second_lesson.removeprefix(live_server.url)
    _follow(page, ".resume a.button")
    assert page.url == second_lesson
    _follow(page, "nav a[href='/my-learning']")
    assert 0 < int(page.get_attribute("main progress", "value")) < 100


# --- Community team member -------------------------------------------------------------

IMPORT_CSV = (
    "Họ và tên,Năm sinh,Giới tính,Số điện thoại,Thôn/Tổ dân phố\n"
    "Lò Văn Páo,1968,Nam,,Tổ dân phố số 1\n"
    "H'Mai Ê Ban,1985,Nữ,0987 654 321,Tổ dân phố số 2\n"
    "Đinh Thị Ngọc,năm ngoái,Nữ,,\n"
)


def test_team_member_registers_imports_and_prints_certificates(page, live_server, context):
    log_in(page, live_server, "demo-team")

    # One-screen registration, then the login card.
    _follow(page, "nav a[href='/team/learners']")
    _follow(page, "main a[href='/team/learners/new']")
    page.fill("#full_name", "Trần Văn Đức")
    page.fill("#birth_year", "1955")
    page.select_option("#sex", "male")
    page.select_option("#village", index=1)
    page.check("#consent")
    _submit(page, "main form[method=post]")
    card = page.inner_text(".login-card")
    assert "Trần Văn Đức" in card
    assert page.locator(".login-card dd strong").count() == 2  # username and first password

    # Import a CSV file: the preview shows the bad row, then two learners are registered.
    _follow(page, "nav a[href='/team/learners']")
    _follow(page, "main a[href='/team/import']")
    page.set_input_files("#file", files=[{"name": "danh-sach.csv", "mimeType": "text/csv",
                                           "buffer": IMPORT_CSV.encode("utf-8")}])
    _submit(page, "main form[enctype]")
    assert "/team/import/" in page.url
    problems = page.locator("main table tbody tr")
    assert problems.count() == 1 and problems.first.locator("td").first.inner_text() == "4"
    page.check("#consent")
    _submit(page, "form[action$='/confirm']")
    assert page.locator("form[action$='/cards'] button").inner_text().split()[1] == "2"  # "print 2 login cards"

    # The imported learners are in the list, names intact.
    _follow(page, "nav a[href='/team/learners']")
    page.fill("#q", "H'Mai Ê Ban")
    _submit(page, "form.filters")
    assert page.locator("main table tbody tr").count() == 1
    assert page.inner_text("main table tbody tr td a") == "H'Mai Ê Ban"
    export = context.request.get(live_server(page.get_attribute("main a[href*='/team/learners/export.csv']", "href")))
    assert export.headers["content-type"] == "text/csv; charset=utf-8"
    rows = _csv_rows(export.body())
    assert [row[0] for row in rows[1:]] == ["H'Mai Ê Ban"] and rows[1][3] == "0987 654 321"

    # Bulk certificate printing: one PDF with every certificate the page counts.
    _follow(page, "nav a[href='/certificates/issued']")
    count = int(page.get_attribute("#certificate-count", "data-count"))
    assert count >= 4  # the demo learners who passed
    filename, pdf = _download(page, "main a[href*='/certificates/print.pdf']")
    assert filename == "certificates-1-of-1.pdf"
    pages, text = _pdf_text(pdf)
    assert pages == count
    assert "Nguyễn Văn An" in text and "H'Hen Niê" in text


# --- Officials ---------------------------------------------------------------------------

def test_admin_drills_down_from_the_nation_to_a_commune_and_exports(page, live_server, context):
    province, commune = _unit_name(live_server, "province", "01"), _unit_name(live_server, "commune", "00070")
    log_in(page, live_server, "demo-admin")
    _follow(page, "nav a[href='/statistics/']")
    nation = page.inner_text("h1")
    assert page.locator("nav.breadcrumbs li").count() == 1

    _follow(page, f"main p.no-print a:text-is('{province}')")
    assert province in page.inner_text("h1")
    assert page.locator("nav.breadcrumbs li a").first.inner_text() in nation

    _follow(page, f"main p.no-print a:text-is('{commune}')")
    assert commune in page.inner_text("h1")
    assert [item.inner_text() for item in page.locator("nav.breadcrumbs li").all()][1:] == [province, commune]
    registered = int(page.inner_text("#totals [data-metric=registered] strong").replace(".", ""))
    assert registered >= 9  # the demo learners

    # The villages table as CSV: UTF-8 (with BOM for Excel), Vietnamese names intact.
    link = page.locator("#table-units ~ .exports a").first
    assert link.inner_text() == "CSV"
    response = context.request.get(live_server(link.get_attribute("href")))
    assert response.status == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = _csv_rows(response.body())
    assert "Tổ dân phố Hàng Bạc" in [row[0] for row in rows[1:]]
    filename, body = _download(page, "#table-units ~ .exports a:text-is('CSV')")
    assert filename.endswith("-units.csv") and body == response.body()

    # Every table as one Excel workbook.
    xlsx = context.request.get(live_server(page.get_attribute("main a[href$='/all.xlsx']", "href")))
    assert xlsx.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(xlsx.body()), read_only=True)
    cells = {str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row}
    book.close()
    assert "Tổ dân phố Hàng Bạc" in cells


def test_province_official_drills_down_to_a_commune(page, live_server):
    province, commune = _unit_name(live_server, "province", "01"), _unit_name(live_server, "commune", "00070")
    log_in(page, live_server, "demo-province")
    _follow(page, "nav a[href='/statistics/']")
    assert province in page.inner_text("h1")
    assert page.locator("nav.breadcrumbs li a").count() == 0  # the nation is not theirs to open
    _follow(page, f"main p.no-print a:text-is('{commune}')")
    assert commune in page.inner_text("h1")
    filename, data = _download(page, "#table-courses ~ .exports a:text-is('CSV')")
    assert filename.endswith("-courses.csv")
    assert _csv_rows(data)[0][0] == "Khóa học"
