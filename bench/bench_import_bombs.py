"""Worker memory while an import reads a 5 MB decompression bomb (issue 15.1).

Each case runs in a fresh Python process that builds the app (SQLite in a temporary
folder), builds the file, resets the kernel's peak-RSS mark (/proc/self/clear_refs),
reads the upload the way `/team/import` does (lms.team.importer.read_table inside a
request) and prints how far the peak resident set rose above where it stood. Target:
under 50 MB for every bomb, each one just under the 5 MB upload limit.

The reference in the same run is a legitimate upload: a 10,000-row workbook written
by openpyxl. `--openpyxl` adds what the old reader (openpyxl read-only mode) took on
the 400 MB inline cell of the original report, for the before/after comparison.

    python bench/bench_import_bombs.py [--openpyxl]
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MB = 1024 * 1024

# name → (builder in tests/team/xlsx_bombs.py, unpacked bytes). The first four are
# each ≈ 4.7 MB, just under the upload limit, and refused from the sizes the archive
# declares; the last four stay under the part bounds (64 MB a part, 16 MB of shared
# strings), so the reader streams them and must stop on the cell or row itself.
CASES = {
    "5 MB file: inline string cell": ("inline_bomb", 4800 * MB),
    "5 MB file: shared-strings cell": ("shared_strings_bomb", 4800 * MB),
    "5 MB file: shared strings, tiny entries": ("many_strings_bomb", 1900 * MB),
    "5 MB file: row of empty cells": ("wide_row_bomb", 4800 * MB),
    "streamed: 60 MB inline cell": ("inline_bomb", 60 * MB),
    "streamed: 15 MB shared-strings cell": ("shared_strings_bomb", 15 * MB),
    "streamed: 14 MB of tiny shared strings": ("many_strings_bomb", 14 * MB),
    "streamed: 60 MB row of empty cells": ("wide_row_bomb", 60 * MB),
}


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def _legit_workbook(rows: int = 10_000) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Họ và tên", "Năm sinh", "Giới tính", "Số điện thoại"])
    for i in range(rows):
        sheet.append([f"Nguyễn Văn {'ABCDEFGHIK'[i % 10]}", 1940 + i % 60, "Nam", f"09{i:08d}"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def child(case: str) -> None:
    """Runs in its own process; prints one JSON line."""
    folder = Path(tempfile.mkdtemp(prefix="bench-bombs-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{folder / 'bench.sqlite3'}")
    from lms import create_app
    from lms.team.importer import LearnerImportError, read_table

    app = create_app()
    if case == "legit":
        data = _legit_workbook()
    elif case == "openpyxl":
        from tests.team import xlsx_bombs

        data = xlsx_bombs.inline_bomb(400 * MB)
    else:
        from tests.team import xlsx_bombs

        builder, size = CASES[case]
        data = getattr(xlsx_bombs, builder)(size)
    with app.test_request_context():  # warm: imports, translations, the parser
        try:
            read_table("warm.xlsx", _legit_workbook(10))
        except LearnerImportError:
            pass
    Path("/proc/self/clear_refs").write_text("5")  # peak RSS := current RSS
    before = _status("VmRSS")
    outcome = "read"
    if case == "openpyxl":
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        for _row in book.active.iter_rows(values_only=True):
            pass
    else:
        with app.test_request_context():
            try:
                read_table("upload.xlsx", data)
            except LearnerImportError as error:
                outcome = error.code
    peak = _status("VmHWM")
    print(json.dumps({"case": case, "file_mb": round(len(data) / MB, 2), "growth_mb": round((peak - before) / MB, 1),
                      "outcome": outcome}))


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
        return
    cases = ["legit", *CASES]
    if "--openpyxl" in sys.argv:
        cases.append("openpyxl")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    print(f"{'case':42} {'file MB':>8} {'peak RSS growth MB':>19}  outcome")
    worst = 0.0
    for case in cases:
        line = subprocess.run([sys.executable, __file__, "--child", case], env=env, check=True,
                              capture_output=True, text=True).stdout.strip().splitlines()[-1]
        result = json.loads(line)
        label = {"legit": "reference: 10,000-row workbook", "openpyxl": "old reader (openpyxl), 400 MB inline cell"}
        print(f"{label.get(case, case):42} {result['file_mb']:>8} {result['growth_mb']:>19}  {result['outcome']}")
        if case in CASES:
            worst = max(worst, result["growth_mb"])
    print(f"worst bomb: {worst} MB (target: under 50 MB)")


if __name__ == "__main__":
    main()
