"""The import layering stays as designed: no cycles, no lower room importing a higher one.

Imports are read from the source with `ast` (at any depth: an import inside a function
is still a dependency, and hiding a cycle there is what this forbids), including those
under `if TYPE_CHECKING:`.

Rooms are ranked from the bottom up (`RANK`). A module may import modules of its own
room and of rooms ranked at most as high. Views, forms, command-line and the app
factory sit on top (`TOP`): they may import any room. `certificates/` is plain Python:
no Flask, no database, nothing from `lms`.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Shared helpers (0) → units (1) → people and their audit trail (2) → who may see what
# (3) → learning and certificates (4) → statistics (5) → workspaces and API (6).
RANK = {
    **dict.fromkeys(["lms.extensions", "lms.db", "lms.text", "lms.numbers", "lms.cache", "lms.config",
                     "lms.validation", "lms.errors", "lms.i18n", "lms.dbsetup", "lms.urls", "lms.forms",
                     "lms.pagination", "lms.security", "lms.signing", "lms.exports", "lms.core.page_cache",
                     "lms.core.streaming"], 0),
    "lms.units": 1,
    "lms.accounts": 2, "lms.learners": 2, "lms.audit": 2,
    "lms.access": 3, "lms.audit.queries": 3, "lms.duplicates": 3,
    "lms.learning": 4, "lms.certs": 4,
    "lms.statistics": 5, "lms.quality": 5,
    "lms.team": 6, "lms.privacy": 6, "lms.api": 6, "lms.backup": 6, "lms.core": 6,
}
TOP = 7
TOP_MODULES = {"views", "forms", "cli"}  # a room's pages and commands: may use every room
# lms.learning.read_again answers a page before Flask does (WSGI middleware): it is the
# lesson view's front, on the views' level.
TOP_EXACT = {"lms", "lms.models", "lms.cli", "lms.core.errors", "lms.core.navigation", "lms.learning.read_again"}

# Upward edges that remain, each with its reason; a new one fails the test.
KNOWN = {
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(package: str) -> dict[str, Path]:
    return {module_name(path): path for path in (ROOT / package).rglob("*.py")}


MODULES = _modules("lms")


def imports_of(path: Path, known: dict[str, Path] | None = None) -> set[str]:
    """Every module `path` imports, resolved to a module of `known` where one matches."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if known is not None and full in known else node.module)
    return found


def graph() -> dict[str, set[str]]:
    return {name: {m for m in imports_of(path, MODULES) if m in MODULES and m != name}
            for name, path in MODULES.items()}


def rank(module: str) -> int:
    parts = module.split(".")
    if module in TOP_EXACT or (len(parts) > 2 and parts[-1] in TOP_MODULES):
        return TOP
    name = module
    while name:
        if name in RANK:
            return RANK[name]
        name = name.rpartition(".")[0]
    raise AssertionError(f"{module} has no rank in tests/test_layers.py: add its room to RANK")


def room(module: str) -> str:
    return ".".join(module.split(".")[:2])


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_room_imports_a_higher_one():
    upward = {(a, b) for a, outs in graph().items() for b in outs
              if room(a) != room(b) and rank(b) > rank(a)}
    assert upward - KNOWN.keys() == set(), "lower rooms import higher ones: move the shared piece down, or signal up"
    assert KNOWN.keys() - upward == set(), "an exception in KNOWN is fixed: remove it"


def test_units_import_only_shared_helpers():
    """The lowest domain room: units → statistics was the example of issue 16.6."""
    for name, path in MODULES.items():
        if name.startswith("lms.units.") and rank(name) < TOP:
            assert {m for m in imports_of(path, MODULES) if m.startswith("lms.") and rank(m) > 0
                    and not m.startswith("lms.units")} == set(), name


def test_certificates_stay_plain_python():
    for name, path in _modules("certificates").items():
        bad = {m for m in imports_of(path) if m.split(".")[0] in {"flask", "flask_babel", "flask_login",
                                                                   "sqlalchemy", "lms", "werkzeug"}}
        assert bad == set(), f"{name} imports {bad}"
