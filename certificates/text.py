"""Text normalisation shared by the certificate renderer and the app (``lms.text``).

One function, so what a form stores, what an operation compares and what a
certificate prints are the same string: NFC, no control or invisible characters,
spaces collapsed. Plain Python: ``certificates`` imports nothing from Flask or ``lms``,
and ``lms.text`` re-exports it.
"""

from __future__ import annotations

import re
import unicodedata

# Control characters (Cc), format characters (Cf: zero-width, bidi overrides, BOM),
# private use and unassigned code points never belong in a name or an answer.
_DROP_CATEGORIES = {"Cc", "Cf", "Co", "Cn", "Cs"}
_KEEP_CONTROLS = {"\n", "\t"}
_SPACES = re.compile(r"[^\S\n]+")


def clean_text(value: str | None, *, multiline: bool = False) -> str:
    """NFC-normalise, drop control/invisible characters and collapse spaces."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", value)
    if not multiline:
        text = text.replace("\t", " ").replace("\r", " ").replace("\n", " ")
    keep = _KEEP_CONTROLS if multiline else set()
    text = "".join(
        ch
        for ch in text
        if ch in keep or unicodedata.category(ch) not in _DROP_CATEGORIES
        or ch in ("\u00a0",)
    )
    text = text.replace("\u00a0", " ")
    if multiline:
        lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r", "").split("\n")]
        return "\n".join(lines).strip()
    return _SPACES.sub(" ", text.replace("\n", " ").replace("\t", " ")).strip()
