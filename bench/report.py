"""One line per measured figure, collected by `python -m bench` into a single table.

A benchmark script calls `record(...)` for each figure it measured against its target;
when run by `python -m bench` (BENCH_RESULTS names a file) the lines are appended to that
file as JSON, otherwise they are only printed. The ratio is always measured against a
reference run in the same process or the same minute, never a stored number.
"""

from __future__ import annotations

import json
import os


def record(figure: str, target: str, measured: float, unit: str, *, reference: float | None = None,
           ratio: float | None = None, met: bool | None = None, note: str = "") -> None:
    """`ratio`: measured against `reference` (or a ratio of its own, e.g. "share of the
    bare route"); `met`: whether the target is met, as the script judges it."""
    row = {"figure": figure, "target": target, "measured": measured, "unit": unit, "reference": reference,
           "ratio": ratio, "met": met, "note": note}
    path = os.environ.get("BENCH_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
