"""Vietnamese text: normalisation, diacritic-insensitive search keys and sorting.

Keyboards send NFD ("tổ hợp" mode) or NFC, and tone marks sit on different vowels
("Hòa" / "Hoà"), so every input is normalised to NFC and compared through a folded key.
Python's `sorted()` gets Vietnamese order wrong (ă, â, đ, ê, ô, ơ, ư are letters of
their own); `sort_key` implements the alphabet and the tone order a → à → ả → ã → á → ạ
as an ASCII string, so the database can order by it with a plain binary collation.

`clean_text` lives in `certificates.text`, the lowest room (plain Python, no Flask, no
lms imports), so the forms, the operations and the certificate renderer normalise a name
with the same function; it is re-exported here for the app.
"""

from __future__ import annotations

import re
import unicodedata

from certificates.text import clean_text

__all__ = ["clean_text", "fold", "person_sort_key", "sort_key", "sort_vietnamese"]

def fold(value: str | None) -> str:
    """Search key: NFC → casefold → NFD → drop combining marks → đ to d."""
    text = unicodedata.normalize("NFC", value or "").casefold()
    text = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("đ", "d")
    return " ".join(text.split())


# --- Sorting ---------------------------------------------------------------------------

_ALPHABET = (
    "a ă â b c d đ e ê f g h i j k l m n o ô ơ p q r s t u ư v w x y z".split()
)
_TONES = {  # combining tone mark → rank (no mark = 0)
    "\u0300": 1,  # huyền
    "\u0309": 2,  # hỏi
    "\u0303": 3,  # ngã
    "\u0301": 4,  # sắc
    "\u0323": 5,  # nặng
}
_LETTER_MODS = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn
# Primary weights as printable ASCII from '0' up, letters after digits.
_WEIGHTS = {str(d): chr(0x30 + d) for d in range(10)}
_WEIGHTS.update({letter: chr(0x3A + i) for i, letter in enumerate(_ALPHABET)})


def _letters(word: str) -> list[tuple[str, int]]:
    """Split a word into (base letter with its vowel modifiers, tone rank)."""
    out: list[tuple[str, int]] = []
    for ch in unicodedata.normalize("NFD", word.casefold()):
        if ch in _TONES:
            if out:
                out[-1] = (out[-1][0], _TONES[ch])
        elif ch in _LETTER_MODS and out:
            out[-1] = (unicodedata.normalize("NFC", out[-1][0] + ch), out[-1][1])
        elif unicodedata.combining(ch):
            continue
        else:
            out.append((ch, 0))
    return out


def sort_key(text: str | None) -> str:
    """ASCII key that orders Vietnamese text correctly under a binary collation.

    Letters compare first over the whole text, then tones, as in a dictionary.
    """
    words = (text or "").split()
    primary, secondary = [], []
    for word in words:
        letters = _letters(word)
        primary.append("".join(_WEIGHTS.get(base, "~") for base, _ in letters))
        secondary.append("".join(str(tone) for _, tone in letters))
    return "!".join(primary) + " " + "".join(secondary)


def person_sort_key(full_name: str | None) -> str:
    """People are listed by given name, then middle names, then family name."""
    words = (full_name or "").split()
    if len(words) > 1:
        words = [words[-1], *words[1:-1], words[0]]
    return sort_key(" ".join(words))


def sort_vietnamese(items, key=lambda item: item):
    """Sort any iterable by a Vietnamese text attribute."""
    return sorted(items, key=lambda item: sort_key(key(item)))


# --- Names of people ---------------------------------------------------------------------
# The rule, and why, is in docs/decisions.md ("Names: what is accepted"). In short: the
# letters of the Vietnamese alphabet (f, j, w, z included) with every tone mark, in
# both cases, plus the breve vowels ĕ ĭ ŏ ŭ of the Latin scripts of Êđê, Jrai and
# M'nông; words separated by a space, an apostrophe or a hyphen ("H'Hen Niê",
# "K' Sor", "Nguyễn-Trần"). Every one of these is a single glyph of the certificate
# fonts (tests/certificates check it against the font files), so every accepted name
# prints, and prints as typed.

_VOWELS = "aăâeêioôơuưy"
_TONE_MARKS = ("", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323")
_LOWER_LETTERS = (
    set("abcdefghijklmnopqrstuvwxyzđ")
    | {unicodedata.normalize("NFC", vowel + tone) for vowel in _VOWELS for tone in _TONE_MARKS}
    | set("ĕĭŏŭ")
)
NAME_LETTERS = frozenset(_LOWER_LETTERS | {letter.upper() for letter in _LOWER_LETTERS})
NAME_SEPARATORS = frozenset(" '-")
_NAME_VARIANTS = str.maketrans({
    "\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u02b9": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
    "\u2010": "-", "\u2011": "-",
})
_NAME_SHAPE = re.compile(r"[^ '\-]+(?:(?:' |[ '\-])[^ '\-]+)*")
NAME_MIN, NAME_MAX = 2, 120


def normalise_name(value: str | None) -> str:
    """`clean_text`, then one apostrophe (') and one hyphen (-) for their look-alikes."""
    return clean_text(value).translate(_NAME_VARIANTS)


def describe_character(ch: str) -> dict:
    """How a message shows one character: itself (on a dotted circle if it is a mark) and U+XXXX."""
    return {"char": "\u25cc" + ch if unicodedata.combining(ch) else ch, "codepoint": f"U+{ord(ch):04X}"}


def name_problem(name: str) -> tuple[str, dict] | None:
    """Why a normalised full name is refused, as (code, params), or None if it is a name.

    Codes: "name-invalid" (length or shape) and "name-character" with the first
    character outside the rule in `char` and `codepoint` (e.g. "😀", "U+1F600").
    """
    if not NAME_MIN <= len(name) <= NAME_MAX:
        return "name-invalid", {}
    for ch in name:
        if ch not in NAME_LETTERS and ch not in NAME_SEPARATORS:
            return "name-character", describe_character(ch)
    if not _NAME_SHAPE.fullmatch(name):
        return "name-shape", {}
    return None
