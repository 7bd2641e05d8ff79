"""Interface wording from the subject review (issue 18), checked in the real gettext catalogs.

"Next"/"Previous" mean the next lesson in a lesson and the next page in a list, so they carry message
contexts; the card is "thẻ căn cước" and its number "số định danh cá nhân" (Luật Căn cước, in force
since 1 July 2024), never "CCCD"; one word for learner ("người học"); consent reads "Đồng ý sử dụng
dữ liệu"; the catalogs keep no obsolete entries and a filled header.
"""

from pathlib import Path

from babel.messages.pofile import read_po
from flask_babel import force_locale, pgettext
from sqlalchemy import select

from lms.extensions import db
from lms.learning.models import Course

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = {lang: ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po" for lang in ("vi", "en")}


def _catalog(lang: str):
    with CATALOGS[lang].open("rb") as handle:
        return read_po(handle, locale=lang)


def test_next_and_previous_depend_on_what_they_page(app):
    with app.test_request_context(), force_locale("vi"):
        assert (pgettext("lesson", "Next"), pgettext("lesson", "Previous")) == ("Bài sau", "Bài trước")
        assert (pgettext("list", "Next"), pgettext("list", "Previous")) == ("Trang sau", "Trang trước")
    with app.test_request_context(), force_locale("en"):
        assert (pgettext("lesson", "Next"), pgettext("list", "Previous")) == ("Next", "Previous")


def test_lesson_pages_say_bai_sau_and_the_certificate_list_pages_by_trang(client):
    course = db.session.scalar(select(Course).where(Course.slug == "scam-safety"))
    first, second = course.lessons[:2]
    page = client.get(f"/courses/{course.slug}/lessons/{first.slug}").get_data(as_text=True)
    assert "Bài sau" in page and "Trang sau" not in page
    page = client.get(f"/courses/{course.slug}/lessons/{second.slug}").get_data(as_text=True)
    assert "Bài trước" in page
    issued = (ROOT / "lms" / "certs" / "templates" / "certs" / "issued.html").read_text(encoding="utf-8")
    assert 'import pagination' in issued and "{{ pagination(" in issued  # the one list pager
    pager = (ROOT / "lms" / "templates" / "_pagination.html").read_text(encoding="utf-8")
    assert 'pgettext("list", "Next")' in pager and 'pgettext("list", "Previous")' in pager
    for template in ROOT.glob("lms/**/templates/**/*.html"):
        text = template.read_text(encoding="utf-8")
        assert '_("Next")' not in text and '_("Previous")' not in text, template


def test_vietnamese_wording_is_one_word_per_thing():
    translations = {message.id: message.string for message in _catalog("vi") if message.id}
    texts = " ".join(str(text) for text in translations.values())
    assert "CCCD" not in texts
    assert "học viên" not in texts.lower()
    assert "Thôn, bản hoặc tổ dân phố" not in texts
    assert translations["Consent"] == "Đồng ý sử dụng dữ liệu"
    assert translations["National ID number"] == "Số định danh cá nhân"


def test_catalogs_have_a_header_and_no_obsolete_entries():
    for lang in CATALOGS:
        catalog = _catalog(lang)
        assert not catalog.obsolete, lang
        headers = dict(catalog.mime_headers)
        assert headers["Project-Id-Version"] == "Binh dan hoc vu so 2026.12"
        for value in headers.values():
            assert not any(filler in value for filler in ("PROJECT", "EMAIL@ADDRESS", "FULL NAME", "LL@li.org"))
