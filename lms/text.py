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
