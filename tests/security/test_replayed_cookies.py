"""Issue 15.5: a kept session cookie ends with the session.

A lesson page read again is served without loading the account: its menu shows the
name from the signed cookie. A copy of that cookie, kept after the learner logged out,
changed their password, got a new login card, logged out everywhere or had their data
erased, must show nobody's name there (nor anywhere else).
"""

from __future__ import annotations

import pytest

from lms.extensions import db
from lms.learning.queries import course_by_slug
from tests.conftest import Factory, post_form

NAME = "Quàng Thị Lưu"


def _lesson_url() -> str:
    course = course_by_slug("scam-safety")
    return f"/courses/{course.slug}/lessons/{course.lessons[0].slug}"


def _end_by_logout(app, client, user):
    post_form(client, "/logout", {}, page="/account")


def _end_by_password_change(app, client, user):
    response = post_form(client, "/account", {"current_password": Factory.password, "new_password": "a new pass 77"})
    assert response.status_code == 302


def _end_by_logout_everywhere(app, client, user):
    assert post_form(client, "/account/logout-everywhere", {}, page="/account").status_code == 302


def _end_by_new_card(app, client, user):
    from lms.accounts.operations import create_staff
    from lms.team.operations import issue_login_card
    from lms.units.queries import unit_by_code

    member = create_staff(role="team_member", unit=unit_by_code("commune", "00070"), username="to.cong.nghe",
                          password=Factory.password, display_name="Tổ viên")
    issue_login_card(user.learner, by=member)
    db.session.commit()


def _end_by_erasure(app, client, user):
    assert post_form(client, "/my-data/delete", {"confirm": "y"}, page="/my-data").status_code == 302


@pytest.mark.parametrize("end", [_end_by_logout, _end_by_password_change, _end_by_logout_everywhere,
                                 _end_by_new_card, _end_by_erasure],
                         ids=["logout", "password", "logout-everywhere", "new-card", "erasure"])
def test_a_kept_cookie_shows_nobody_on_a_lesson_read_again(app, make, end):
    user = make.learner(full_name=NAME, login="quang.luu")
    db.session.commit()
    client = app.test_client()
    assert post_form(client, "/login", {"login": "quang.luu", "password": Factory.password}).status_code == 302
    url = _lesson_url()
    assert NAME in client.get(url).get_data(as_text=True)  # first visit: recorded
    assert NAME in client.get(url).get_data(as_text=True)  # read again: from the cookie
    kept = client.get_cookie("session").value

    end(app, client, user)

    replay = app.test_client()
    replay.set_cookie("session", kept)
    page = replay.get(url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert NAME not in text and "/logout" not in text  # no name, no account menu
    assert "/login" in text
    assert replay.get("/my-data").status_code == 302  # and every other page was already closed


def test_a_live_cookie_still_reads_the_lesson_with_its_name(app, make):
    """The check does not end sessions that are still valid."""
    make.learner(full_name=NAME, login="quang.luu")
    db.session.commit()
    client = app.test_client()
    post_form(client, "/login", {"login": "quang.luu", "password": Factory.password})
    url = _lesson_url()
    client.get(url)
    kept = client.get_cookie("session").value
    other = app.test_client()
    other.set_cookie("session", kept)
    assert NAME in other.get(url).get_data(as_text=True)
