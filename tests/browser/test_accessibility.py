"""Every page a person can reach, checked in Chromium at 360 × 740 (a small phone):

- axe-core finds no violation of impact "serious" or "critical" (the failure lists the
  page, the rule and the offending elements);
- the page does not scroll sideways (wide tables scroll inside their own container);
- a full-page screenshot goes to build/screenshots/ for a person to look at.

axe-core comes bundled in the `axe-playwright-python` package (see docs/decisions.md).
Pages that need a few clicks first (a form sent with errors, an import preview, a
printed card) are reached by those clicks, and each page on the way is checked too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.browser.conftest import MOBILE, log_in
from tests.conftest import right_answers

FAILING_IMPACTS = ("serious", "critical")
CERTIFIED_LEARNER = "demo-hoc-vien-1"  # passed the first course's quiz
QUIZ_LEARNER = "demo-hoc-vien-3"  # read every lesson of the first course, has not passed its quiz


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe  # imported here: skipped without Playwright

    return Axe()


@pytest.fixture(scope="module")
def ids(live_server) -> dict:
    """Ids, codes and slugs the page addresses need, read from the live server's database."""
    from sqlalchemy import select

    from lms.accounts.operations import find_by_login
    from lms.certs.models import Certificate
    from lms.extensions import db
    from lms.learning.queries import published_courses
    from lms.units.operations import ensure_nation
    from lms.units.queries import unit_by_code

    with live_server.app.app_context():
        course = published_courses()[0]
        certificate = db.session.scalars(select(Certificate).order_by(Certificate.id)).first()
        return {
            "course": course.slug, "lesson": course.lessons[0].slug, "answers": right_answers(course),
            "serial": certificate.serial, "code": certificate.verification_code,
            "learner_id": find_by_login("demo-learner").learner.id,
            "nation_id": ensure_nation().id, "province_id": unit_by_code("province", "01").id,
            "commune_id": unit_by_code("commune", "00070").id,
        }


@pytest.fixture(scope="module")
def contexts(browser, live_server) -> Callable[[str | None, str], object]:
    """One browser context per account and language, logged in once for the module."""
    opened: dict[tuple, object] = {}

    def context_for(login: str | None, locale: str):
        if (login, locale) not in opened:
            context = browser.new_context(viewport=MOBILE, locale=locale)
            context.set_default_timeout(15_000)
            if login:
                page = context.new_page()
                log_in(page, live_server, login)
                page.close()
            opened[login, locale] = context
        return opened[login, locale]

    yield context_for
    for context in opened.values():
        context.close()


# --- Pages reached by a few clicks ---------------------------------------------------------
# A flow checks each page it passes through with `check(name)`; the test checks the last.

def _press(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def send_empty_form(page, ids, check, name: str):
    """Check the form, then press its button without filling anything in: the errors."""
    check(name)
    _press(page, "main form[method=post][novalidate] button")
    assert page.locator(".error, .has-error").count() > 0


def sign_up_steps(page, ids, check):
    """The three sign-up steps (site.js moves on when a place is picked), then errors."""
    check("signup-province")
    with page.expect_navigation():
        page.select_option("#province", "01")
    check("signup-commune")
    with page.expect_navigation():
        page.select_option("#commune", "00070")
    send_empty_form(page, ids, check, "signup-details")


def register_learner(page, ids, check):
    """The registration form, the same form with errors, then the login card."""
    send_empty_form(page, ids, check, "team-register")
    check("team-register-errors")
    page.fill("#full_name", "Lý Thị Hạnh")
    page.fill("#birth_year", "1971")
    page.select_option("#sex", "female")
    page.check("#consent")
    _press(page, "main form[method=post][novalidate] button")
    assert page.locator(".login-card").count() == 1


def import_and_print_cards(page, ids, check):
    """Upload a list with one good row and one bad row, confirm, print the login card."""
    check("team-import")
    data = "Họ và tên,Năm sinh,Giới tính\nMa Văn Thào,1950,Nam\nLò Thị Sen,,Nữ\n".encode()
    page.set_input_files("#file", files=[{"name": "danh-sach.csv", "mimeType": "text/csv", "buffer": data}])
    _press(page, "main form[enctype] button")
    assert page.locator("main table").count() == 1  # the bad row
    check("team-import-preview")
    page.check("#consent")
    _press(page, "form[action$='/confirm'] button")
    check("team-import-done")
    _press(page, "form[action$='/cards'] button")
    assert page.locator(".login-card").count() == 1


def import_a_large_file(page, ids, check):
    """A file large enough for the streamed progress page: the browser shows it while
    the rows are checked, then follows it on to the preview by itself."""
    import re

    from bench.bench_import import make_csv
    from lms.team.importer import STREAM_FROM_ROWS

    data = make_csv(STREAM_FROM_ROWS + 100)
    page.set_input_files("#file", files=[{"name": "lon.csv", "mimeType": "text/csv", "buffer": data}])
    page.click("main form[enctype] button")
    page.wait_for_url(re.compile(r".*/team/import/\d+$"), timeout=60_000)
    assert page.locator("form[action$='/confirm']").count() == 1
    check("team-import-large-preview")


def answer_quiz_wrongly(page, ids, check):
    check("quiz")
    for key, right in ids["answers"].items():
        page.check(f"#{key}-{0 if 0 not in right else 1}")
    _press(page, "form.quiz button")
    assert page.locator(".quiz-review li.wrong").count() > 0


def save_course_offline(page, ids, check):
    """The offline controls: the size before saving, then "saved on this phone" with remove."""
    page.locator(".offline-save .offline-size").filter(has_text="KB").wait_for()
    check("learner-course-offline")
    page.click(".offline-save [data-action=save]")
    page.locator(".offline-save .offline-saved").wait_for(state="visible", timeout=30_000)


def form_errors(name: str):
    return lambda page, ids, check: send_empty_form(page, ids, check, name)


@dataclass(frozen=True)
class Visit:
    name: str  # of the last page; screenshots are build/screenshots/<name>.png
    path: str  # formatted with `ids`
    login: str | None = None
    then: Callable | None = None  # clicks that lead from `path` to the last page
    locale: str = "vi-VN"
    status: int = 200  # of `path`

    def __str__(self) -> str:
        return self.name


PAGES = [
    # Anyone
    Visit("home", "/"),
    Visit("home-en", "/", locale="en-US"),
    Visit("courses", "/courses"),
    Visit("course", "/courses/{course}"),
    Visit("lesson", "/courses/{course}/lessons/{lesson}"),
    Visit("login-errors", "/login", then=form_errors("login")),
    Visit("signup-errors", "/signup", then=sign_up_steps),
    Visit("privacy", "/privacy"),
    Visit("verify", "/verify"),
    Visit("verify-valid", "/verify/{code}"),
    Visit("verify-mistyped", "/verify/K7XM3FHP9", status=400),
    Visit("open-data", "/open-data/statistics"),
    Visit("open-data-province", "/open-data/statistics?province=01"),
    Visit("error-404", "/no-such-page", status=404),
    # Learners
    Visit("learner-home", "/", login="demo-learner"),
    Visit("my-learning", "/my-learning", login="demo-learner"),
    Visit("my-certificates", "/certificates", login=CERTIFIED_LEARNER),
    Visit("my-data", "/my-data", login="demo-learner"),
    Visit("account-errors", "/account", login="demo-learner", then=form_errors("account")),
    Visit("learner-lesson", "/courses/{course}/lessons/{lesson}", login=QUIZ_LEARNER),
    Visit("learner-course-saved", "/courses/{course}", login="demo-learner", then=save_course_offline),
    Visit("offline-help", "/help/offline"),
    Visit("offline-help-en", "/help/offline", locale="en-US"),
    Visit("quiz-review", "/courses/{course}/quiz", login=QUIZ_LEARNER, then=answer_quiz_wrongly),
    # Community team
    Visit("team-learners", "/team/learners", login="demo-team"),
    Visit("team-login-card", "/team/learners/new", login="demo-team", then=register_learner),
    Visit("team-learner", "/team/learners/{learner_id}", login="demo-team"),
    Visit("team-learner-edit", "/team/learners/{learner_id}/edit", login="demo-team"),
    Visit("team-learner-move", "/team/learners/{learner_id}/move", login="demo-team"),
    Visit("team-cards", "/team/import", login="demo-team", then=import_and_print_cards),
    Visit("team-import-large", "/team/import", login="demo-team", then=import_a_large_file),
    Visit("team-certificates", "/certificates/issued", login="demo-team"),
    Visit("team-villages", "/villages", login="demo-team"),
    Visit("team-statistics", "/statistics/units/{commune_id}", login="demo-team"),
    Visit("error-403", "/statistics/units/{nation_id}", login="demo-team", status=403),
    # Officials
    Visit("certificate-manage", "/certificates/manage/{serial}", login="demo-commune"),
    Visit("audit-log", "/team/audit", login="demo-commune"),
    Visit("statistics-province", "/statistics/units/{province_id}", login="demo-province"),
    Visit("statistics-nation", "/statistics/units/{nation_id}", login="demo-admin"),
]


def _serious(results: dict) -> list[str]:
    lines = []
    for violation in results["violations"]:
        if violation["impact"] not in FAILING_IMPACTS:
            continue
        lines.append(f"  {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:8]:
            lines.append(f"    {' '.join(node['target'])}: {node['html'][:160]}")
            if node.get("failureSummary"):
                lines.append("      " + node["failureSummary"].replace("\n", " ")[:300])
    return lines


def _console_errors(page, errors: list[str]):
    """Errors the page itself reports (a script error, a resource refused by the CSP)."""
    def on_console(message):
        if message.type != "error":
            return
        # An error status of the page itself (404, 422) is reported as a failed load, and
        # so is the favicon Chromium asks for on its own (the site has none).
        url = message.location.get("url", "")
        if message.text.startswith("Failed to load resource") and (url == page.url or url.endswith("/favicon.ico")):
            return
        errors.append(f"{message.text} ({url})")
    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))


@pytest.mark.parametrize("visit", PAGES, ids=str)
def test_page_is_accessible_and_fits_a_small_phone(visit, live_server, contexts, ids, axe, screenshots):
    page = contexts(visit.login, visit.locale).new_page()
    errors: list[str] = []
    problems: dict[str, list[str]] = {}
    _console_errors(page, errors)

    def check(name: str) -> None:
        page.wait_for_load_state("load")
        width, viewport = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
        found = _serious(axe.run(page).response)
        if width > viewport:
            found.append(f"  scrolls sideways at {viewport} px: the page is {width} px wide")
        found += [f"  console: {error}" for error in errors]
        errors.clear()
        problems[f"{name} ({page.url.removeprefix(live_server.url)})"] = found

    try:
        response = page.goto(live_server(visit.path.format(**ids)))
        assert response.status == visit.status, (visit.name, response.status)
        if visit.then:
            visit.then(page, ids, check)
        check(visit.name)
    finally:
        page.close()
    failing = [f"{name}:\n" + "\n".join(found) for name, found in problems.items() if found]
    assert not failing, "\n".join(failing)
