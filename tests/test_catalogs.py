"""The Vietnamese catalog is complete: every message in the code is translated."""

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "translations" / "vi" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)[sd]")


def _catalog():
    with CATALOG.open("rb") as handle:
        return read_po(handle, locale="vi")


def test_no_untranslated_or_fuzzy_vietnamese_messages():
    catalog = _catalog()
    untranslated = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == []


def test_placeholders_survive_translation():
    for message in _catalog():
        if message.id and isinstance(message.id, str):
            assert sorted(PLACEHOLDER.findall(message.id)) == sorted(PLACEHOLDER.findall(message.string)), message.id


def test_every_message_in_the_code_is_in_the_catalog(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
                    "-k", "_l", "-k", "N_", "--no-location", "-o", str(pot), "."],
                   cwd=ROOT, check=True)
    with pot.open("rb") as handle:
        in_code = {m.id for m in read_po(handle) if m.id}
    assert len(in_code) > 100  # the extraction really read the code
    in_catalog = {m.id for m in _catalog() if m.id}
    assert sorted(in_code - in_catalog) == [], "run `make translations-update` and translate"
