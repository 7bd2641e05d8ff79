"""Issue 15.8: a stranger's wrong passwords must not lock the owner out, and guessing
stays expensive.

Through the real login form, with addresses set per request the way a proxy would
pass them, and the device cookie kept by the test client as a browser keeps it.
"""

from __future__ import annotations

from lms.accounts.devices import COOKIE_NAME
from tests.conftest import Factory, post_form

THROTTLED = "Thử sai quá nhiều lần"


def _login(client, login: str, password: str, address: str):
    return post_form(client, "/login", {"login": login, "password": password},
                     environ_base={"REMOTE_ADDR": address})


def _owner_device(app, login: str, address: str):
    """The owner's phone: it logged in once, so it holds a device cookie; then logs out."""
    phone = app.test_client()
    assert _login(phone, login, Factory.password, address).status_code == 302
    assert phone.get_cookie(COOKIE_NAME) is not None
    post_form(phone, "/logout", {}, page="/account")
    return phone


def test_a_strangers_guesses_from_one_address_do_not_lock_the_owner_elsewhere(app, make):
    make.learner(login="0912345678")
    stranger = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_PAIR"] + 3):
        _login(stranger, "0912345678", "wrong password", "203.0.113.9")
    # The stranger is stopped, even with the right password...
    assert THROTTLED in _login(stranger, "0912345678", Factory.password, "203.0.113.9").get_data(as_text=True)
    # ...the owner, on a phone that never logged in before and another address, is not.
    assert _login(app.test_client(), "0912345678", Factory.password, "198.51.100.7").status_code == 302


def test_guessing_from_many_addresses_hits_the_account_limit(app, make):
    make.learner(login="bac.hung")
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for i in range(limit):
        response = _login(app.test_client(), "bac.hung", "wrong password", f"203.0.113.{i}")
        assert response.status_code == 422 and THROTTLED not in response.get_data(as_text=True), i
    # From a new address, the right password does not help any more: guessing stays expensive.
    page = _login(app.test_client(), "bac.hung", Factory.password, "198.51.100.1").get_data(as_text=True)
    assert THROTTLED in page and "một giờ" in page


def test_the_owners_known_device_passes_the_account_limit(app, make):
    make.learner(login="bac.hung")
    phone = _owner_device(app, "bac.hung", "198.51.100.7")
    for i in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        _login(app.test_client(), "bac.hung", "wrong password", f"203.0.113.{i}")
    assert THROTTLED in _login(app.test_client(), "bac.hung", Factory.password, "198.51.100.8").get_data(as_text=True)
    # The phone it always uses, even from a new address (mobile networks change them).
    assert _login(phone, "bac.hung", Factory.password, "198.51.100.99").status_code == 302


def test_a_known_device_still_guesses_slowly(app, make):
    """A copied device cookie is no skeleton key: its own attempts have the per-pair limit."""
    make.learner(login="bac.hung")
    phone = _owner_device(app, "bac.hung", "198.51.100.7")
    for i in range(app.config["LOGIN_MAX_FAILURES_PER_PAIR"]):
        _login(phone, "bac.hung", "wrong password", f"203.0.113.{i}")
    assert THROTTLED in _login(phone, "bac.hung", Factory.password, "203.0.113.200").get_data(as_text=True)


def test_a_device_cookie_helps_only_the_accounts_that_logged_in_on_it(app, make):
    make.learner(login="bac.hung")
    make.learner(login="co.lan")
    phone = _owner_device(app, "bac.hung", "198.51.100.7")
    for i in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        _login(app.test_client(), "co.lan", "wrong password", f"203.0.113.{i}")
    assert THROTTLED in _login(phone, "co.lan", Factory.password, "198.51.100.7").get_data(as_text=True)


def test_a_forged_device_cookie_is_ignored(app, make):
    make.learner(login="bac.hung")
    for i in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        _login(app.test_client(), "bac.hung", "wrong password", f"203.0.113.{i}")
    forger = app.test_client()
    forger.set_cookie(COOKIE_NAME, "eyJkIjoieCIsImEiOltdfQ.forged.signature")
    assert THROTTLED in _login(forger, "bac.hung", Factory.password, "198.51.100.8").get_data(as_text=True)


def test_the_owners_login_does_not_reset_the_account_count(app, make):
    """Otherwise a stranger would get a fresh allowance every time the owner logs in."""
    make.learner(login="bac.hung")
    phone = _owner_device(app, "bac.hung", "198.51.100.7")
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for i in range(limit - 1):
        _login(app.test_client(), "bac.hung", "wrong password", f"203.0.113.{i}")
    assert _login(phone, "bac.hung", Factory.password, "198.51.100.7").status_code == 302
    _login(app.test_client(), "bac.hung", "wrong password", "203.0.113.250")
    assert THROTTLED in _login(app.test_client(), "bac.hung", Factory.password, "198.51.100.9").get_data(as_text=True)
