"""Lessons an elderly first-time smartphone user can read: short sentences, no unexplained jargon.

Two checks on every lesson of the real courses, in both languages:
- sentences stay short (at most 40 words, and about 16 on average per lesson), counting list items
  and the clauses after ":" or ";" as sentences, because that is how they are read aloud;
- every term of the glossary below is explained where a course first uses it: right after the term
  comes "là", "tức là", "nghĩa là", a colon or a bracket ("is", "means", …), or just before it "gọi là"
  ("called"). Later lessons of the same course may then use it freely.
Add a term to GLOSSARY when a lesson introduces a new word a first-time user would not know.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

COURSES_DIR = Path(__file__).resolve().parents[2] / "courses"
MAX_SENTENCE_WORDS = 40
MAX_MEAN_WORDS = 16
GLOSSARY = [  # (Vietnamese, English)
    ("OTP", "OTP"),
    ("sinh trắc học", "biometrics"),
    ("tên miền", "domain name"),
    ("liên thông", "linked procedure"),
    ("trạm phát sóng giả", "fake cell tower"),
    ("deepfake", "deepfake"),
    ("Trợ năng", "Accessibility"),
    ("xác thực hai bước", "two-step verification"),
    ("hạn mức", "transfer limit"),
    ("nhà phát triển", "developer"),
    ("dữ liệu di động", "mobile data"),
    (".apk", ".apk"),
    ("tra soát", "trace"),
    ("thu hộ", "cash on delivery"),
    ("quyền truy cập", "access permission"),
    ("thuê bao", "subscriber"),
    ("kiểm soát của cha mẹ", "parental controls"),
]
AFTER = {"vi": re.compile(r"^\W{0,4}(\s*\(|\s*:|,? tức là|,? nghĩa là|,? là |,? hay còn gọi|,? còn gọi|,? có thể hiểu)",
                         re.IGNORECASE),
         "en": re.compile(r"^( name)?\W{0,4}(\s*\(|\s*:|,? which means|,? meaning|,? means| is | are |,? that is|,? the one)",
                          re.IGNORECASE)}
# "… gọi là deepfake", or the term in brackets after what it means: "mã xác thực (mã OTP)"
BEFORE = {"vi": re.compile(r"(gọi là|tức là|nghĩa là|\((mã )?)\W{0,4}$", re.IGNORECASE),
          "en": re.compile(r"(called( an?)?|known as|means|\((an? )?)\W{0,4}$", re.IGNORECASE)}
LESSONS = sorted(COURSES_DIR.glob("*/lessons/*.md"))


def paragraphs(markdown: str, quotes: bool = True) -> list[str]:
    """Text blocks as a reader meets them: paragraphs and list items, without Markdown marks.

    Without `quotes`, quoted messages (a scammer's SMS, a caller's words) are left out: they are
    examples of what people receive, not the lesson's own words, so they need not explain terms.
    """
    blocks = []
    for line in markdown.split("\n")[1:]:
        line = line.strip()
        if not line or line.startswith(("#", "![")) or (not quotes and line.startswith(">")):
            continue
        blocks.append(re.sub(r"[*_`]", "", re.sub(r"^([-*>]|\d+\.)\s+", "", line)))
    return blocks


def sentences(markdown: str) -> list[str]:
    return [part for block in paragraphs(markdown) for part in re.split(r"(?<=[.!?…;:])\s+", block) if part.strip()]


def test_sentences_are_split_where_a_reader_pauses():
    assert sentences("# T\n\nMột câu. Hai: ba; bốn!\n- năm sáu\n") == ["Một câu.", "Hai:", "ba;", "bốn!", "năm sáu"]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: f"{p.parts[-3]}/{p.name}")
def test_sentences_are_short(lesson):
    lengths = {text: len(text.split()) for text in sentences(lesson.read_text(encoding="utf-8"))}
    too_long = [f"{count} words: {text[:80]}…" for text, count in lengths.items() if count > MAX_SENTENCE_WORDS]
    assert not too_long, "split these sentences:\n" + "\n".join(too_long)
    mean = sum(lengths.values()) / len(lengths)
    assert mean <= MAX_MEAN_WORDS, f"sentences average {mean:.1f} words; keep it to {MAX_MEAN_WORDS} or fewer"


def first_use(course: Path, term: str, lang: str) -> tuple[str, str] | None:
    """(lesson file, paragraph) where the course first uses `term`, in lesson order."""
    pattern = re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE)
    for lesson in sorted((course / "lessons").glob(f"*.{lang}.md")):
        for block in paragraphs(lesson.read_text(encoding="utf-8"), quotes=False):
            if pattern.search(block):
                return lesson.name, block
    return None


def is_explained(block: str, term: str, lang: str) -> bool:
    match = re.search(rf"(?<!\w){re.escape(term)}(?!\w)", block, re.IGNORECASE)
    before, after = block[:match.start()], block[match.end():]
    return bool(AFTER[lang].match(after) or BEFORE[lang].search(before))


def test_the_explanation_rule():
    assert is_explained("OTP là mã xác thực dùng một lần", "OTP", "vi")
    assert is_explained("Loại video giả này gọi là deepfake.", "deepfake", "vi")
    assert is_explained("tên miền (tên riêng của trang web)", "tên miền", "vi")
    assert not is_explained("Hãy đọc tên miền từ phải sang trái.", "tên miền", "vi")
    assert is_explained("An OTP is a one-time code", "OTP", "en")
    assert not is_explained("Never give your OTP to anyone.", "OTP", "en")
    assert is_explained("Ứng dụng yêu cầu mã xác thực (mã OTP).", "OTP", "vi")
    assert is_explained("This kind of fake video is called a deepfake.", "deepfake", "en")


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("course", sorted(p for p in COURSES_DIR.iterdir() if (p / "lessons").is_dir()),
                         ids=lambda p: p.name)
def test_glossary_terms_are_explained_where_first_used(course, lang):
    unexplained = []
    for pair in GLOSSARY:
        term = pair[0] if lang == "vi" else pair[1]
        found = first_use(course, term, lang)
        if found and not is_explained(found[1], term, lang):
            unexplained.append(f"{found[0]}: {term!r} is not explained here: {found[1][:100]}…")
    assert not unexplained, "\n".join(unexplained)
