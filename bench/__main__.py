"""`make bench`: every benchmark, one after the other, then one table of every figure.

Each script measures its figures against a reference run in the same process or the
same minute and reports them through `bench.report.record`; this runner collects them,
prints one table (figure, target, measured, reference, ratio, met) and writes it, with
the machine it ran on, between the markers of docs/performance.md. The national
statistics dataset (1,000,000 learners) is generated into bench/data/ when missing and
reused afterwards, on SQLite and on PostgreSQL.

    python -m bench              everything (the first run builds the datasets: long)
    python -m bench --quick      smaller sizes and shorter runs, to try the scripts
    python -m bench --only statistics,import
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PERFORMANCE = ROOT / "docs" / "performance.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def runs(quick: bool) -> list[tuple[str, str, list[str]]]:
    """(group, script, arguments) in the order they run."""
    learners = ["--learners", "100000"] if quick else []
    return [
        ("certificates", "bench_certificates.py", ["--singles", "100", "--bulk", "300"] if quick else []),
        ("import", "bench_import.py", []),
        ("learning", "bench_learning.py", ["--seconds", "5" if quick else "10", "--postgres"]),
        ("statistics", "bench_statistics.py", ["--learners", "10000" if quick else "100000",
                                               "--repeat", "20" if quick else "40", "--pages-only"]),
        ("statistics", "bench_statistics.py", [*learners, "--repeat", "20" if quick else "40",
                                               "--flat-against", "10000" if quick else "100000"]),
        ("statistics", "bench_statistics.py", ["--learners", "10000" if quick else "100000",
                                               "--repeat", "20" if quick else "40", "--pages-only", "--postgres"]),
        ("statistics", "bench_statistics.py", [*learners, "--repeat", "20" if quick else "40", "--postgres",
                                               "--flat-against", "10000" if quick else "100000"]),
        ("quality", "bench_quality.py", ["--rounds", "4", "--flags", "2000"] if quick else []),
        ("load", "load_mixed.py", ["--quick"] if quick else ["--seconds", "180"]),
    ]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    import sqlite3

    return (f"{platform.node() or 'host'}: {cpu}, {os.cpu_count()} cores{memory}; {platform.platform()}; "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")


def table(rows: list[dict]) -> str:
    lines = ["| figure | target | measured | reference | ratio | met |", "|---|---|---|---|---|---|"]
    for row in rows:
        reference = "" if row["reference"] is None else f"{row['reference']:,} {row['unit']}"
        ratio = "" if row["ratio"] is None else f"{row['ratio']:,}"
        met = {True: "yes", False: "**no**", None: ""}[row["met"]]
        lines.append(f"| {row['figure']} | {row['target']} | {row['measured']:,} {row['unit']} | {reference} "
                     f"| {ratio} | {met} |")
    return "\n".join(lines)


def write_performance(text: str) -> None:
    current = PERFORMANCE.read_text(encoding="utf-8") if PERFORMANCE.exists() else "# Performance\n"
    block = f"{START}\n{text}\n{END}"
    if START in current and END in current:
        current = current[:current.index(START)] + block + current[current.index(END) + len(END):]
    else:
        current = current.rstrip() + "\n\n## Latest `make bench`\n\n" + block + "\n"
    PERFORMANCE.write_text(current, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", help="comma-separated groups: certificates,import,learning,statistics,load")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    results = Path(tempfile.mkstemp(prefix="bench-results-", suffix=".jsonl")[1])
    env = {**os.environ, "BENCH_RESULTS": str(results), "PYTHONPATH": str(ROOT)}
    failed = []
    started = time.perf_counter()
    for group, script, arguments in runs(args.quick):
        if only and group not in only:
            continue
        print(f"\n== {script} {' '.join(arguments)}", flush=True)
        if subprocess.call([sys.executable, str(HERE / script), *arguments], env=env, cwd=ROOT):
            failed.append(f"{script} {' '.join(arguments)}".strip())
    rows = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines() if line.strip()]
    results.unlink()
    text = table(rows)
    print("\n" + text)
    minutes = (time.perf_counter() - started) / 60
    if failed:
        print("\nscripts that exited with an error: " + "; ".join(failed))
    if not args.no_write and not args.quick and not only:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        write_performance(f"Run {stamp} in {minutes:.0f} min on {machine()}.\n\n{text}"
                          + (f"\n\nScripts that exited with an error: {'; '.join(failed)}." if failed else ""))
        print(f"\nwritten to {PERFORMANCE.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
