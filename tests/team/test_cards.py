"""Printed login cards in bulk (after an import or from the learner list), and the
feedback a member gets while a large import is checked and registered."""

import html
import io
import json
import re

from sqlalchemy import func, select, text

from lms.accounts.models import User
from lms.audit.models import AuditEvent
from lms.extensions import db
from lms.learners.models import Learner
from lms.team import operations
from lms.team.models import LearnerImport
from tests.conftest import Factory, post_form

HEADER = "Họ và tên,Năm sinh,Giới tính,Số điện thoại,Số CCCD,Thôn/Tổ dân phố\n"
CARD_RE = re.compile(r'<dd class="card-name">(.*?)</dd>.*?<dd class="card-village">(.*?)</dd>.*?'
                     r'<dd class="card-username">(.*?)</dd>.*?<dd class="card-pin">(.*?)</dd>', re.S)
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Võ", "Đặng", "Bùi"]
GIVEN = ["An", "Bình", "Cường", "Dung", "Hoà", "Lan", "Minh", "Nga", "Phúc", "Tâm"]


def _csv(count: int, village: str = "") -> bytes:
    lines = [f"{FAMILY[i // 10 % 10]} Văn {GIVEN[i % 10]},{1940 + i // 100},Nam,,,{village}" for i in range(count)]
    return (HEADER + "\n".join(lines) + "\n").encode()


def _cards(response) -> list[tuple[str, str, str, str]]:
    return [tuple(html.unescape(part) for part in card) for card in CARD_RE.findall(response.get_data(as_text=True))]


def _import(client, count: int = 3, village: str = "Thôn Đông") -> str:
    response = post_form(client, "/team/import", {"file": (io.BytesIO(_csv(count, village)), "list.csv")},
                         content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    url = response.headers["Location"]
    confirmed = post_form(client, url + "/confirm", {"consent": "y"}, page=url)
    assert confirmed.status_code == 302 and confirmed.headers["Location"].endswith(url)
    return url


def _import_cards(client, url):
    return post_form(client, url + "/cards", {}, page=url)


def _login_with(app, login: str, password: str):
    other = app.test_client()
    return post_form(other, "/login", {"login": login, "password": password})


def _imported_ids(url) -> list[int]:
    staged = db.session.get(LearnerImport, int(url.rsplit("/", 1)[1]))
    return staged.payload["learner_ids"]


def test_cards_after_import_each_pin_logs_in_and_must_be_changed(app, client, team):
    url = _import(client, 3)
    preview = client.get(url).get_data(as_text=True)
    assert "/cards" in preview  # the result page offers the cards
    response = _import_cards(client, url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "<script" not in page  # a page to print, without JavaScript
    assert "cards.css" in page and "http://localhost/login" in page
    assert "Đổi mật khẩu này ở lần đăng nhập đầu tiên" in page
    cards = _cards(response)
    ids = _imported_ids(url)
    learners = {lr.full_name: lr for lr in db.session.scalars(select(Learner).where(Learner.id.in_(ids)))}
    assert sorted(c[0] for c in cards) == sorted(learners) and len(cards) == 3
    for name, village, username, pin in cards:
        assert re.fullmatch(r"\d{8}", pin) and "Thôn Đông" in village
        user = learners[name].user
        db.session.refresh(user)
        assert user.username == username and user.must_change_password
        assert user.password_hash.startswith("scrypt:4096:8:1$") and pin not in user.password_hash
        login = _login_with(app, username, pin)
        assert login.status_code == 302 and login.headers["Location"].endswith("/account/choose-password")
    # One audit row for the batch, with the learner ids and without any PIN.
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "learner.cards")))
    assert len(events) == 1
    assert sorted(events[0].details["learner_ids"]) == sorted(ids) and events[0].actor_id == team.id
    # No PIN anywhere in the database in clear.
    pins = [c[3] for c in cards]
    connection = db.session.connection()
    for table in db.metadata.sorted_tables:
        dump = json.dumps([list(map(str, row)) for row in connection.execute(text(f"SELECT * FROM {table.name}"))])
        assert not any(pin in dump for pin in pins), table.name
    # Printing again gives no second set of PINs for the same learners.
    again = _import_cards(client, url)
    assert again.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "learner.cards")) == 1


def test_card_text_in_vietnamese_and_english_when_the_ui_is_english(client, team):
    url = _import(client, 1)
    team.locale = "en"
    db.session.flush()
    page = _import_cards(client, url).get_data(as_text=True)
    assert "Change this password at your first login" in page
    assert "Đổi mật khẩu này ở lần đăng nhập đầu tiên" in page
    assert len(CARD_RE.findall(page)) == 1


def test_reissue_needs_an_explicit_choice_and_ends_old_sessions(app, client, team, make):
    user = make.learner(full_name="Đinh Thị Mai")
    db.session.flush()
    learner_client = app.test_client()
    assert post_form(learner_client, "/login", {"login": user.login_name, "password": Factory.password}).status_code == 302
    data = {"selection": "ticked", "learner": [str(user.learner.id)]}
    response = post_form(client, "/team/cards", data, page="/team/learners")
    assert response.status_code == 302  # left out: the learner already has a password
    old_hash = user.password_hash
    db.session.refresh(user)
    assert user.password_hash == old_hash
    response = post_form(client, "/team/cards", {**data, "reissue": "y"}, page="/team/learners")
    assert response.status_code == 200
    ((name, _village, username, pin),) = _cards(response)
    assert name == "Đinh Thị Mai"
    db.session.refresh(user)
    assert user.must_change_password and user.password_hash != old_hash
    assert _login_with(app, user.login_name, Factory.password).status_code == 422
    assert learner_client.get("/account").status_code == 302  # the old session has ended
    assert _login_with(app, username, pin).headers["Location"].endswith("/account/choose-password")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "learner.cards"))
    assert event.details["reissued_ids"] == [user.learner.id]


def test_cards_for_the_filtered_list_only_for_learners_without_a_card(client, team, make):
    make.learner(full_name="Trịnh Văn Quý")  # signed up alone: has a password
    db.session.flush()
    url = _import(client, 4)
    data = {"selection": "all", "card": "none"}
    response = post_form(client, "/team/cards", data, page="/team/learners?card=none")
    assert response.status_code == 200
    names = sorted(c[0] for c in _cards(response))
    imported = sorted(db.session.scalars(select(Learner.full_name).where(Learner.id.in_(_imported_ids(url)))))
    assert names == imported
    listed = client.get("/team/learners?card=none").get_data(as_text=True)
    assert "Trịnh Văn Quý" not in listed and imported[0] not in listed
    # A name filter narrows the batch.
    user = make.learner(full_name="Lý Thị Xuân").learner.user
    user.password_hash = ""
    db.session.flush()
    response = post_form(client, "/team/cards", {"selection": "all", "q": "xuân"}, page="/team/learners?q=xuan")
    assert [c[0] for c in _cards(response)] == ["Lý Thị Xuân"]


def test_a_member_of_another_commune_cannot_print_these_cards(app, client, team, make, other_commune):
    url = _import(client, 2)
    ids = _imported_ids(url)
    stranger = make.staff("team_member", unit=other_commune)
    db.session.flush()
    other = app.test_client()
    post_form(other, "/login", {"login": stranger.login_name, "password": Factory.password})
    response = post_form(other, "/team/cards", {"selection": "ticked", "learner": [str(i) for i in ids]},
                         page="/team/learners")
    assert response.status_code == 403
    assert _import_cards(other, url).status_code == 404  # the import is not theirs
    post_form(other, "/team/cards", {"selection": "all", "card": "none"}, page="/team/learners")
    hashes = set(db.session.scalars(select(User.password_hash).join(Learner, Learner.user_id == User.id)
                                    .where(Learner.id.in_(ids))))
    assert hashes == {""}  # nothing was issued for them
    assert not db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "learner.cards"))


def test_a_member_limited_to_villages_cannot_print_cards_of_another_village(app, client, team, make):
    url = _import(client, 1)
    (learner_id,) = _imported_ids(url)
    west = make.village(name="Thôn Tây")
    limited = make.staff("team_member", villages=[west])
    db.session.flush()
    other = app.test_client()
    post_form(other, "/login", {"login": limited.login_name, "password": Factory.password})
    response = post_form(other, "/team/cards", {"selection": "ticked", "learner": [str(learner_id)]},
                         page="/team/learners")
    assert response.status_code == 403


def test_a_batch_of_200_cards(app, client, team):
    url = _import(client, 200, village="")
    response = _import_cards(client, url)
    assert response.status_code == 200
    cards = _cards(response)
    assert len(cards) == 200 and len({c[3] for c in cards}) > 190 and len({c[2] for c in cards}) == 200
    page = response.get_data(as_text=True)
    assert page.count('class="card-sheet"') == 25  # eight cards per A4 sheet
    ids = _imported_ids(url)
    assert db.session.scalar(select(func.count()).select_from(User).join(Learner, Learner.user_id == User.id)
                             .where(Learner.id.in_(ids), User.password_hash == "")) == 0
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "learner.cards"))
    assert event.details["count"] == 200 and len(event.details["learner_ids"]) == 200
    _name, _village, username, pin = cards[137]
    assert _login_with(app, username, pin).headers["Location"].endswith("/account/choose-password")


def test_large_selections_are_printed_a_page_at_a_time(client, team, monkeypatch):
    monkeypatch.setattr(operations, "MAX_CARDS", 2)
    url = _import(client, 3)
    first = _import_cards(client, url)
    assert len(_cards(first)) == 2
    second = _import_cards(client, url)
    assert len(_cards(second)) == 1
    assert _import_cards(client, url).status_code == 302
    # Reissuing for more learners than fit on one page is refused, not done in part.
    response = post_form(client, "/team/cards", {"selection": "all", "reissue": "y"}, page="/team/learners")
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "learner.cards")) == 2


def test_form_without_csrf_token_issues_nothing(client, team):
    url = _import(client, 1)
    assert client.post(url + "/cards").status_code in (302, 400)
    assert not db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "learner.cards"))


# --- Feedback while a large import works ----------------------------------------------

def test_upload_page_says_large_files_take_a_few_seconds(client, team):
    page = client.get("/team/import").get_data(as_text=True)
    assert "vài giây" in page


def test_preview_shows_counts_and_the_expected_time_of_registering(client, team):
    response = post_form(client, "/team/import", {"file": (io.BytesIO(_csv(300)), "list.csv")},
                         content_type="multipart/form-data")
    url = response.headers["Location"]
    staged = db.session.get(LearnerImport, int(url.rsplit("/", 1)[1]))
    assert staged.payload["check_seconds"] > 0  # the check measured itself
    page = client.get(url).get_data(as_text=True)
    assert "300" in page and "import-expected" not in page  # quick: nothing to wait for
    staged.payload = {**staged.payload, "check_seconds": 3.2}  # as a 20,000-row file on a slow server
    db.session.flush()
    page = client.get(url).get_data(as_text=True)
    assert 'class="import-expected"' in page
    assert re.search(r'class="import-expected">[^<]*\b7\b', page)  # 3.2 s × 2, rounded up
    post_form(client, url + "/confirm", {"consent": "y"}, page=url)
    finished = client.get(url).get_data(as_text=True)
    assert "300" in finished and "giây" in finished  # how long registering took


def test_expected_seconds(app):
    from lms.team.importer import expected_seconds

    staged = LearnerImport(row_count=10_000, valid_count=5_000, payload={"check_seconds": 2.0})
    assert expected_seconds(staged) == 2
    assert expected_seconds(LearnerImport(row_count=10, valid_count=10, payload={})) == 0
