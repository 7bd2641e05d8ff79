"""The README and the decisions describe the code and the pins as they are.

A newcomer reads the README's layout to find their way and docs/decisions.md to learn
which library does what: a domain missing from the one, or a library named in the other
that the locks do not install, sends them looking for something that is not there.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _section(text: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"no '## {heading}' section"
    return match.group(1)


def _locked(*files: str) -> set[str]:
    names = set()
    for name in files:
        for line in (ROOT / name).read_text().splitlines():
            match = re.match(r"^([A-Za-z0-9_.-]+)==", line)
            if match:
                names.add(_normalise(match.group(1)))
    return names


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_readme_layout_names_every_domain_and_top_level_folder():
    layout = _section((ROOT / "README.md").read_text(), "Layout")
    domains = sorted(path.parent.name for path in (ROOT / "lms").glob("*/__init__.py"))
    missing = [name for name in domains if f"`{name}/`" not in layout]
    assert not missing, f"README layout does not name lms/{missing}"
    for folder in ("lms", "courses", "certificates", "translations", "migrations", "tests", "bench", "docs"):
        assert f"`{folder}/`" in layout, folder


def test_every_library_the_decisions_name_is_locked():
    libraries = _section((ROOT / "docs" / "decisions.md").read_text(), "Libraries")
    named = {_normalise(name) for name in re.findall(r"\*\*([A-Za-z0-9_.-]+)\*\*", libraries)}
    locked = _locked("requirements.txt", "requirements-dev.txt")
    assert named and not named - locked, f"named in docs/decisions.md but not locked: {sorted(named - locked)}"


def test_every_locked_package_has_its_hashes_and_every_declared_one_is_locked():
    for name in ("requirements.txt", "requirements-dev.txt"):
        text = (ROOT / name).read_text()
        pins = re.findall(r"^([A-Za-z0-9_.-]+)==\S+ \\\n\s+--hash=sha256:[0-9a-f]{64}", text, re.M)
        assert len(pins) == len(re.findall(r"^[A-Za-z0-9_.-]+==", text, re.M)), f"{name}: a pin without hashes"
        source = (ROOT / name.replace(".txt", ".in")).read_text()
        declared = {_normalise(m) for m in re.findall(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==", source, re.M)}
        assert declared <= {_normalise(pin) for pin in pins}, f"{name} is older than its .in file: make lock"
