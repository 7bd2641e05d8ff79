"""Learning with no connection, in a real Chromium with a real service worker.

A learner saves a course while online, loses the connection (the browser context goes
offline: the pages, the service worker and `navigator.onLine` all see it), reloads,
reads and completes every lesson and the quiz, comes back online, and the phone's queue
is sent: the server's records, the certificate and `/api/v1/me/progress` agree. Two
phones of one learner overlap; the site still works with JavaScript off.
"""

from __future__ import annotations

import itertools
import time

import pytest
from sqlalchemy import func, select

from tests.browser.conftest import MOBILE, PASSWORD, log_in
from tests.conftest import right_answers

SLUG = "scam-safety"
_numbers = itertools.count(1)


def _in_app(live_server, work):
    with live_server.app.app_context():
        return work()


def _new_learner(live_server) -> str:
    """A learner of our own (the demo ones have progress already), committed in the live database."""
    from lms.accounts.operations import sign_up_learner
    from lms.extensions import db
    from lms.units.queries import unit_by_code

    login = f"offline-learner-{next(_numbers)}"

    def work():
        sign_up_learner(full_name="Lò Văn Pả", login=login, password=PASSWORD, commune=unit_by_code("commune", "00070"),
                        village=None, consent_given=True, locale="vi")
        db.session.commit()

    _in_app(live_server, work)
    return login


def _course_facts(live_server) -> dict:
    from lms.learning.queries import course_by_slug

    def work():
        course = course_by_slug(SLUG)
        return {"lessons": len(course.lessons), "answers": right_answers(course)}

    return _in_app(live_server, work)


def _server_state(live_server, login: str) -> dict:
    from lms.accounts.models import User
    from lms.certs.models import Certificate
    from lms.extensions import db
    from lms.learning.models import Enrollment, LessonProgress, ProgressEvent, QuizAttempt
    from lms.learning.queries import course_by_slug

    def work():
        learner = db.session.scalar(select(User).where(User.username == login)).learner
        course = course_by_slug(SLUG)
        enrollment = db.session.scalar(select(Enrollment).where(
            Enrollment.learner_id == learner.id, Enrollment.course_id == course.id))
        count = lambda model, *where: db.session.scalar(  # noqa: E731
            select(func.count()).select_from(model).where(model.learner_id == learner.id, *where))
        return {
            "completed": enrollment is not None and enrollment.completed_dt is not None,
            "lessons_done": count(LessonProgress, LessonProgress.completed_dt.is_not(None)),
            "events": count(ProgressEvent),
            "attempts": count(QuizAttempt),
            "certificates": count(Certificate),
        }

    return _in_app(live_server, work)


def _counters_agree(live_server) -> bool:
    """The statistics counters equal a recount from the raw rows: nothing counted twice."""
    from lms.statistics.recount import expected_counters, stored_counters

    return _in_app(live_server, lambda: stored_counters() == expected_counters())


def _save_course(page, live_server) -> None:
    page.goto(live_server(f"/courses/{SLUG}"))
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    box = page.locator(".offline-save")
    box.wait_for(state="visible")
    page.locator(".offline-size").filter(has_text="KB").wait_for()  # the size, before anything is kept
    page.click("[data-action=save]")
    page.locator(".offline-saved").wait_for(state="visible", timeout=30_000)
    assert page.evaluate("navigator.storage.persisted ? navigator.storage.persisted() : true") in (True, False)
    page.reload()  # now controlled by the worker, whatever the timing of its first start
    assert page.evaluate("navigator.serviceWorker.controller !== null")


def _pending(page) -> int:
    return page.evaluate("LmsOffline.pending().then(p => p.total)")


def _learn_offline(page, live_server, lessons: int, answers: dict | None) -> None:
    page.context.set_offline(True)
    page.reload()  # the saved course page, from the phone
    assert "Lưu khoá học" in page.inner_text("main") or page.locator(".offline-saved").count()
    with page.expect_navigation():
        page.click("ol.lessons li:first-child a")
    for _ in range(lessons):
        assert page.locator("article.lesson h1").inner_text()
        with page.expect_navigation():
            page.click("form.lesson-complete button")
    assert "/quiz" in page.url
    if answers is None:
        return
    page.locator(".offline-quiz-note").wait_for(state="visible")
    for key, indexes in answers.items():
        for index in indexes:
            page.check(f"#{key}-{index}")
    page.click("form.quiz button")
    page.locator(".offline-quiz-message").wait_for()
    assert "khi có mạng trở lại" in page.inner_text(".offline-quiz-message")
    status = page.locator("#offline-status")
    status.wait_for(state="visible")
    assert f"{lessons} bài học đang chờ gửi" in status.inner_text()
    assert "1 bài kiểm tra đang chờ gửi" in status.inner_text()


def _come_back_online(page) -> None:
    """The signal returns but the server does not answer at first (every automatic send,
    from the page load, the "online" event and Background Sync, fails and backs off); then
    it answers, and the learner presses "Gửi ngay" (Send now) on the waiting line.

    Held this way so that the button is what sends: with the server answering at once, the
    page load's own send empties the queue first and hides the button (a race CI lost)."""
    unreachable = lambda route: route.fulfill(status=503, body="")  # noqa: E731
    page.context.route("**/offline/session", unreachable)
    page.context.set_offline(False)
    page.reload()
    button = page.locator("#offline-status [data-action=sync]")
    button.wait_for(state="visible")
    # The back-off now says "not before an hour": no timer of the page sends on its own.
    page.evaluate("LmsOffline.setMeta('backoff', {failures: 9, until: Date.now() + 3600e3})")
    page.context.unroute("**/offline/session", unreachable)
    assert _pending(page) > 0
    button.click()
    _wait_until_sent(page)


def _wait_until_sent(page) -> None:
    """Until the phone's queue is empty (asked in Python: `page.evaluate` awaits the promise)."""
    deadline = time.monotonic() + 30
    while _pending(page):
        assert time.monotonic() < deadline, f"{_pending(page)} events still waiting after 30 s"
        page.wait_for_timeout(250)


def test_a_saved_course_is_learned_offline_and_sent_once_back_online(context, live_server):
    facts = _course_facts(live_server)
    login = _new_learner(live_server)
    page = context.new_page()
    log_in(page, live_server, login)
    _save_course(page, live_server)
    _learn_offline(page, live_server, facts["lessons"], facts["answers"])
    assert _server_state(live_server, login)["lessons_done"] == 0  # nothing reached the server yet

    _come_back_online(page)
    state = _server_state(live_server, login)
    assert state["completed"] and state["certificates"] == 1 and state["attempts"] == 1
    assert state["lessons_done"] == facts["lessons"] and _counters_agree(live_server)
    page.goto(live_server(f"/courses/{SLUG}"))
    page.locator(".offline-result").filter(has_text="bạn đạt").wait_for()
    token = page.request.get(live_server("/offline/session")).json()["csrf_token"]
    api = page.request.get(live_server("/api/v1/me/progress"), headers={"X-CSRFToken": token}).json()
    mine = next(item for item in api["courses"] if item["course"] == SLUG)
    assert mine["status"] == "completed" and mine["passed"] and mine["lessons_done"] == facts["lessons"]
    # Sending again (a retry, a tab that closed before it heard back) counts nothing twice.
    events = state["events"]
    page.evaluate("""() => LmsOffline.setMeta('lastSent', 0)""")
    page.evaluate("window.lmsSync(true)")
    assert _server_state(live_server, login)["events"] == events


def test_two_phones_of_one_learner_overlap_and_count_once(browser, live_server):
    facts = _course_facts(live_server)
    login = _new_learner(live_server)
    phones = [browser.new_context(viewport=MOBILE, locale="vi-VN") for _ in range(2)]
    try:
        pages = [phone.new_page() for phone in phones]
        for page in pages:
            log_in(page, live_server, login)
            _save_course(page, live_server)
        for page in pages:  # both read every lesson offline; neither takes the quiz
            _learn_offline(page, live_server, facts["lessons"], None)
        for page in pages:
            page.context.set_offline(False)
        for page in pages:
            page.evaluate("window.lmsSync(true)")
            _wait_until_sent(page)
        state = _server_state(live_server, login)
        assert state["lessons_done"] == facts["lessons"]  # each lesson completed once, not twice
        assert not state["completed"]
        assert _counters_agree(live_server)
    finally:
        for phone in phones:
            phone.close()


def _applied_but_not_heard(route) -> None:
    """The request reaches the server, the answer never reaches the phone. The browser may
    have given up on the request meanwhile (the page's send and Background Sync overlap,
    the tab closes): then it is handled already and there is nothing left to drop."""
    from playwright.sync_api import Error as PlaywrightError  # here: without playwright the tests skip

    route.fetch()
    try:
        route.abort()
    except PlaywrightError as error:
        if "already handled" not in str(error):
            raise


def test_a_tab_closed_mid_sync_loses_nothing_and_counts_nothing_twice(browser, live_server):
    facts = _course_facts(live_server)
    login = _new_learner(live_server)
    phone = browser.new_context(viewport=MOBILE, locale="vi-VN")
    try:
        page = phone.new_page()
        log_in(page, live_server, login)
        _save_course(page, live_server)
        _learn_offline(page, live_server, facts["lessons"], None)
        waiting = _pending(page)
        # The connection comes back, the first batch leaves, and the tab closes before the
        # answer: the server applied it, the phone still holds it.
        phone.route("**/api/v1/progress", _applied_but_not_heard)
        phone.set_offline(False)
        page.evaluate("window.lmsSync(true)")
        assert _pending(page) == waiting
        page.close()
        phone.unroute("**/api/v1/progress")
        page = phone.new_page()
        page.goto(live_server(f"/courses/{SLUG}"))  # the next page load sends (or its retry after the back-off)
        _wait_until_sent(page)
        assert _server_state(live_server, login)["lessons_done"] == facts["lessons"]
    finally:
        phone.close()


@pytest.fixture
def no_js_page(browser):
    ctx = browser.new_context(viewport=MOBILE, locale="vi-VN", java_script_enabled=False)
    yield ctx.new_page()
    ctx.close()


def test_without_javascript_nothing_offline_shows_and_learning_works(no_js_page, live_server):
    page = no_js_page
    login = _new_learner(live_server)
    log_in(page, live_server, login)
    page.goto(live_server(f"/courses/{SLUG}"))
    assert not page.locator(".offline-save").is_visible()
    assert not page.locator("#offline-status").is_visible()
    with page.expect_navigation():
        page.click("form[action$='/enroll'] button")
    assert not page.locator("[data-action=listen]").is_visible()
    with page.expect_navigation():
        page.click("form.lesson-complete button")
    assert _server_state(live_server, login)["lessons_done"] == 1


def test_listen_is_offered_only_where_the_phone_has_a_voice(context, live_server):
    page = context.new_page()
    page.goto(live_server(f"/courses/{SLUG}/lessons/otp-and-bank-messages"))
    page.wait_for_load_state("load")
    has_voice = page.evaluate("speechSynthesis.getVoices().some(v => v.lang.toLowerCase().startsWith('vi'))")
    assert page.locator("[data-action=listen]").is_visible() == has_voice
    # A phone with a Vietnamese voice: the same page offers the button.
    voiced = context.new_page()
    voiced.add_init_script("""speechSynthesis.getVoices = () => [{lang: 'vi-VN', name: 'Tiếng Việt'}];""")
    voiced.goto(live_server(f"/courses/{SLUG}/lessons/otp-and-bank-messages"))
    voiced.locator("[data-action=listen]").wait_for(state="visible")
    assert voiced.inner_text("[data-action=listen]") == "Nghe bài này"


def test_a_service_worker_update_keeps_the_saved_course(context, live_server):
    """New static files (a new version): the page registers the new worker, which replaces
    the old shell and keeps the learner's saved course; the course still opens offline."""
    login = _new_learner(live_server)
    page = context.new_page()
    log_in(page, live_server, login)
    _save_course(page, live_server)
    old = live_server.app.extensions["static_version"]
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL").endswith(f"v={old}")
    live_server.app.extensions["static_version"] = new = "0123456789ab"
    try:
        page.reload()
        page.wait_for_function(f"() => navigator.serviceWorker.controller && "
                               f"navigator.serviceWorker.controller.scriptURL.endsWith('v={new}')", timeout=30_000)
        for _ in range(120):
            names = page.evaluate("caches.keys()")
            if f"shell-{new}" in names and f"shell-{old}" not in names:
                break
            page.wait_for_timeout(250)
        assert f"shell-{new}" in names and f"shell-{old}" not in names, names
        assert "course-" + SLUG in page.evaluate("caches.keys()")
        page.context.set_offline(True)
        page.goto(live_server(f"/courses/{SLUG}/lessons/otp-and-bank-messages"))
        assert page.locator("form.lesson-complete").count() == 1
        # Styled: the saved page names the old styles' version, the shell has the new one.
        assert page.evaluate("getComputedStyle(document.querySelector('.site-header')).display") == "flex"
    finally:
        page.context.set_offline(False)
        live_server.app.extensions["static_version"] = old


def test_an_attempt_at_a_quiz_that_changed_is_refused_and_the_phone_says_so(context, live_server):
    """The phone kept answers to questions the server has since replaced: the server scores
    nothing, the attempt leaves the queue, and the course page asks to take the quiz again."""
    login = _new_learner(live_server)
    page = context.new_page()
    log_in(page, live_server, login)
    _save_course(page, live_server)
    _learn_offline(page, live_server, _course_facts(live_server)["lessons"], None)
    page.evaluate("""() => LmsOffline.add({type: 'quiz', course: 'scam-safety', version: 1,
                                           answers: {'a-question-since-retired': [0]}})""")
    page.context.set_offline(False)
    page.evaluate("window.lmsSync(true)")
    _wait_until_sent(page)
    page.goto(live_server(f"/courses/{SLUG}"))
    page.locator(".offline-result").filter(has_text="Bài kiểm tra đã thay đổi").wait_for()
    assert _server_state(live_server, login)["attempts"] == 0


def test_a_saved_page_kept_for_days_sends_its_form_with_a_fresh_token(context, live_server):
    """A lesson opened from the phone, its CSRF token long expired; the signal is back and
    the learner presses "Done": the page takes a fresh token and the server records it."""
    login = _new_learner(live_server)
    page = context.new_page()
    log_in(page, live_server, login)
    _save_course(page, live_server)
    page.context.set_offline(True)
    page.goto(live_server(f"/courses/{SLUG}/lessons/otp-and-bank-messages"))
    page.context.set_offline(False)
    page.evaluate("document.querySelector('form.lesson-complete input[name=csrf_token]').value = 'expired'")
    with page.expect_navigation():
        page.click("form.lesson-complete button")
    assert "/lessons/" in page.url and _pending(page) <= 1  # at most the offline visit's "view" event
    assert _server_state(live_server, login)["lessons_done"] == 1
