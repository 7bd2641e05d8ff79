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
    def missing(message) -> bool:  # plural entries carry a tuple of forms
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        return not all(forms)

    untranslated = [m.id for m in catalog if m.id and missing(m)]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == []


def test_placeholders_survive_translation():
    for message in _catalog():
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if ids[0]:
            for form in forms:
                assert sorted(set(PLACEHOLDER.findall(ids[-1]))) == sorted(set(PLACEHOLDER.findall(form))), ids[0]


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
