"""Shared pieces for property-based fuzzing: nasty text, raw form bodies, the catalog
check for error messages, and a snapshot of what is stored.

Each Hypothesis example runs inside a savepoint that is rolled back afterwards, so
every example starts from the same data (the test's own transaction is rolled back
at the end as usual).
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import cache
from pathlib import Path
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from sqlalchemy import select

from lms.extensions import db
from tests.conftest import csrf_token, rolled_back  # noqa: F401 - used by the fuzz tests

# Bounded so the whole folder runs in well under a minute; no shrinking (each example
# makes several requests, and shrinking one failure took minutes): a failure reports
# the example as generated.
FUZZ = settings(max_examples=25, deadline=None, derandomize=True,
                phases=[Phase.explicit, Phase.reuse, Phase.generate],
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

VIETNAMESE = ["Nguyễn Thị Hoà", "Trần Văn Đức", "Lê Thị Ánh Tuyết", "H'Hen Niê", "Phạm Ngọc Ẩn", "Đặng Thùy Dương"]
LONG = ["A" * 10_000, "ễ" * 10_000, ("Nguyễn " * 1_500)[:10_000], "\u0301" * 10_000, "9" * 10_000]
SPECIAL = ["", " ", "\x00", "\ud800", "\udfff", "a\ud800b", "\u202eNguyễn", "Ng\u200buyễn", "\ufeffLê", "\u200d",
           "\u202a\u202b\u202c", "\u0000\u0001\u001f", "\u00a0\u2028\u2029", "=1+2", "@SUM(A1)", "-1", "+84",
           "' OR 1=1 --", "<script>alert(1)</script>", "%s%n{0}{name}", "\\x00", "😀👩‍👩‍👧", "\U000e0041",
           "\U0010ffff", "\uffff", "A\u0300\u0301\u0302\u0303\u0309\u0323" * 20]

nasty_text = st.one_of(
    st.sampled_from(SPECIAL),
    st.sampled_from(LONG),
    st.sampled_from(VIETNAMESE).map(lambda name: unicodedata.normalize("NFD", name)),
    st.sampled_from(VIETNAMESE).map(lambda name: "\u200b".join(name)),
    st.text(alphabet=st.characters(categories=("Mn", "Me", "Cf", "Cc", "Zs", "Zl", "Zp", "Co")), max_size=40),
    st.text(alphabet=st.characters(codec=None, categories=("L", "M", "N", "P", "S", "Z", "C")), max_size=60),
    st.text(max_size=200),
)
# A field value: text (encoded as UTF-8, lone surrogates included as invalid bytes) or raw bytes.
field_value = st.one_of(nasty_text, nasty_text, st.binary(max_size=64),
                        st.sampled_from([b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80"]))


def encode_form(fields: dict) -> bytes:
    """An application/x-www-form-urlencoded body, byte for byte (invalid UTF-8 allowed)."""
    parts = []
    for name, values in fields.items():
        for value in values if isinstance(values, list) else [values]:
            raw = value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")
            parts.append(f"{name}=".encode() + quote_from_bytes(raw).encode())
    return b"&".join(parts)


def post_raw(client, url: str, fields: dict, *, token: str | None = None, language: str = "vi"):
    """POST `fields` as a raw body with the session's CSRF token, as a browser would send it."""
    body = encode_form({"csrf_token": token or csrf_token(client, "/privacy"), **fields})
    return client.post(url, data=body, content_type="application/x-www-form-urlencoded",
                       headers={"Accept-Language": language})


# --- Error messages must come from the catalog of the page's language ----------------------

_PLACEHOLDER = re.compile(r"\\\{[a-z_]+\\\}|%\\\([a-z_]+\\\)[sd]")


@cache
def catalog_patterns(language: str) -> list[re.Pattern]:
    from babel.support import Translations

    root = Path(__file__).resolve().parents[2] / "translations"
    # English is the source language: its messages are the keys of the Vietnamese catalog.
    catalog = Translations.load(str(root), ["vi"])._catalog  # noqa: SLF001 - read-only look at the catalog
    texts = {(key[0] if isinstance(key, tuple) else key) if language == "en" else value
             for key, value in catalog.items() if key}
    return [re.compile(_PLACEHOLDER.sub(".+?", re.escape(text)), re.S) for text in texts if text]


ERROR = re.compile(r'<p class="(?:error|flash flash-error)"[^>]*>(.*?)</p>', re.S)


def error_texts(page: str) -> list[str]:
    return [" ".join(html.unescape(m).split()) for m in ERROR.findall(page)]


def page_language(page: str) -> str:
    return re.search(r'<html lang="(\w+)"', page).group(1)


def assert_translated_errors(page: str, language: str, where: str) -> list[str]:
    """The page has at least one error, in `language`, each one a message of our catalog."""
    assert page_language(page) == language, f"{where}: page in {page_language(page)}, not {language}"
    errors = error_texts(page)
    assert errors, f"{where}: refused without saying why"
    patterns = catalog_patterns(language)
    for error in errors:
        assert any(p.fullmatch(error) for p in patterns), f"{where}: {error!r} is not a {language} message"
    return errors


# --- What is stored -------------------------------------------------------------------------

STATIC_TABLES = {"courses", "lessons", "quiz_questions", "alembic_version"}


def snapshot(*, ignore: tuple[str, ...] = ()) -> dict[str, list]:
    """Every row that a request could change (official units and course content left out)."""
    from lms.units.models import VILLAGE, Unit

    tables = {}
    for table in db.metadata.sorted_tables:
        if table.name in STATIC_TABLES or table.name in ignore:
            continue
        query = select(table)
        if table.name == "units":
            query = query.where(Unit.__table__.c.level == VILLAGE)
        tables[table.name] = sorted(tuple(map(repr, row)) for row in db.session.execute(query).all())
    return tables


def changed_tables(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after.get(name)]




@pytest.fixture
def fresh(app):
    """A new browser for each example."""
    return lambda: app.test_client()
