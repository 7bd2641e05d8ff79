"""The incremental statistics check on the national synthetic dataset (issue 14.3).

Uses the dataset of `bench_statistics.py` (built into bench/data/ when missing, reused
otherwise; upgraded in place to the current schema). Measures, in one run:

- a full check of every unit (`check_communes`, each unit in its own snapshot and
  committed alone, as `flask statistics check` does): total time, time per commune
  (median, p95, max) and the longest transaction (one unit's read and repair);
- 20 communes' counters made wrong on purpose (and marked changed, as a write there
  would): a check with `--repair` within `--seconds`, which takes them first, then a
  check that finds nothing;
- dashboard page p95 (nation, largest province, largest commune) while
  `flask statistics check` runs in another process, against the p95 with nothing
  running, alternated (quiet, busy, quiet, busy); the check both at full speed
  (`--pace 1 --no-nice`) and as the command runs by default (lower priority, half
  of the time at work). `--pages-only` measures only this, on a dataset already built.

Targets: a unit's transaction ≤ 1 s (so a check every few minutes never holds a writer
up for long), dashboards ≤ 10 ms p95 while it runs.

Usage: python bench/bench_check.py [--learners 1000000] [--seconds 120] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import bench_statistics as stats  # noqa: E402
from bench.harness import bench_env  # noqa: E402


def dataset(url: str, learners: int, progress: float):
    app = stats.make_app(url)
    sizes = stats.dataset_ready(app, learners, progress)
    if sizes is None:
        started = time.perf_counter()
        stats.prepare_schema(app)
        sizes = stats.generate(app, learners, progress)
        sizes["built_seconds"] = round(time.perf_counter() - started)
        stats.mark_dataset(app, learners, progress, sizes)
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()  # a dataset built before the check's tables gets them
    return app, sizes


def full_check(app, repair: bool = False, seconds: float = 10_000) -> dict:
    from lms.extensions import db
    from lms.statistics.check import check_communes

    timings: list = []
    with app.app_context():
        started = time.perf_counter()
        run = check_communes(seconds, repair=repair, isolated=True, timings=timings)
        total = time.perf_counter() - started
        result = {"seconds": total, "units": run.units_checked, "differing": run.units_differing,
                  "differences": run.differences, "longest_ms": run.longest_unit_ms}
        db.session.remove()
    communes = sorted(ms for level, ms, _snapshot in timings if level == "commune") or [0.0]
    result.update(commune_median=statistics.median(communes), commune_p95=stats.p95(communes),
                  commune_max=communes[-1], communes_read=len(communes),
                  province_max=max((ms for level, ms, _snapshot in timings if level == "province"), default=0.0),
                  nation_ms=max((ms for level, ms, _snapshot in timings if level == "nation"), default=0.0),
                  longest_snapshot_ms=max((snapshot for _level, _ms, snapshot in timings), default=0.0))
    return result


def spoil(app, count: int) -> list[int]:
    """Make one counter row of `count` populated communes wrong (as a write that bypassed
    the writer would): the check must find exactly those."""
    from sqlalchemy import select, update

    from lms.extensions import db
    from lms.statistics.models import StatCounter
    from lms.statistics.operations import mark_changed

    with app.app_context():
        communes = list(db.session.scalars(select(StatCounter.commune_id).distinct()
                                           .order_by(StatCounter.commune_id).limit(count)))
        for commune_id in communes:
            row = db.session.scalar(select(StatCounter.id).where(StatCounter.commune_id == commune_id).limit(1))
            db.session.execute(update(StatCounter).where(StatCounter.id == row).values(value=StatCounter.value + 1))
        mark_changed(db.session.connection(), communes)  # as if written there a moment ago: checked first
        db.session.commit()
        db.session.remove()
    return communes


# How the check is run while the pages are timed: as it was first (all out), and as the
# command runs by default now (lower CPU priority, working half of the time).
CHECK_VARIANTS = {"full speed": ["--pace", "1", "--no-nice"], "paced (default)": []}


def pages_while(app, url: str, units: dict, repeat: int, rounds: int, seconds: float) -> dict:
    """Dashboard p95 with nothing else running and while the check runs in another
    process (each variant of CHECK_VARIANTS), alternated round by round.
    {unit: {"quiet": (p95 of all rounds' loads, worst round's p95), variant: (...), ...}}."""
    env = bench_env(Path(tempfile.mkdtemp(prefix="lms-bench-check-")), url)
    found: dict = {name: {"quiet": []} | {variant: [] for variant in CHECK_VARIANTS} for name in units}
    for _ in range(rounds):
        for variant, options in CHECK_VARIANTS.items():
            for name, value in stats.time_pages(app, units, repeat, raw=True).items():
                found[name]["quiet"].append(value)
            check = subprocess.Popen([sys.executable, "-m", "flask", "statistics", "check", "--seconds", str(seconds),
                                      *options], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
            time.sleep(2)  # past its start-up, into the units
            for name, value in stats.time_pages(app, units, repeat, raw=True).items():
                found[name][variant].append(value)
            still_running = check.poll() is None
            # Left to end its budget: a check killed mid-write leaves SQLite a write-ahead
            # log to recover, and the next connections wait for that (503s).
            out, err = check.communicate(timeout=3600)
            if not still_running:
                print("warning: the check finished before the pages were timed", out[-300:], err[-300:])
    return {name: {key: (stats.p95([x for one in rounds_ for x in one]), max(stats.p95(one) for one in rounds_))
                   for key, rounds_ in times.items()} for name, times in found.items()}


def main() -> None:
    from bench.report import record

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=1_000_000)
    parser.add_argument("--progress-per-learner", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=120,
                        help="budget of the repair runs and of the check the pages are timed against")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / "data")
    parser.add_argument("--pages-only", action="store_true", help="only the dashboards while the check runs")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("LMS_INSTANCE_DIR", tempfile.mkdtemp(prefix="lms-bench-check-"))
    name = f"stats-{args.learners}-{args.progress_per_learner:g}"
    url = f"sqlite:///{args.data_dir / (name + '.sqlite3')}"
    app, sizes = dataset(url, args.learners, args.progress_per_learner)
    print(f"dataset: {sizes['learners']:,} learners, {sizes['enrollments']:,} enrolments, "
          f"{sizes['certificates']:,} certificates, {sizes['counter_rows']:,} counter + rollup rows", flush=True)
    if args.pages_only:
        units = stats.pick_units(app, sizes["learners"])
        for unit, times in pages_while(app, url, units, args.repeat, args.rounds, args.seconds).items():
            print(f"{unit:10} page p95 of all loads (worst round's): " + ", ".join(
                f"{key} {pooled * 1000:.1f} ({worst * 1000:.1f}) ms" for key, (pooled, worst) in times.items()))
        return
    clean = full_check(app)
    print(f"full check: {clean['units']:,} units in {clean['seconds']:.1f} s; {clean['communes_read']:,} communes "
          f"read: median {clean['commune_median']:.1f} ms, p95 {clean['commune_p95']:.1f} ms, max "
          f"{clean['commune_max']:.0f} ms; province max {clean['province_max']:.0f} ms, nation "
          f"{clean['nation_ms']:.0f} ms; longest unit {clean['longest_ms']:.0f} ms, of which its snapshot "
          f"(the longest transaction) {clean['longest_snapshot_ms']:.0f} ms; "
          f"{clean['differences']} differences", flush=True)
    spoiled = spoil(app, 20)
    repaired = full_check(app, repair=True, seconds=args.seconds)
    after = full_check(app, seconds=args.seconds)
    print(f"with {len(spoiled)} communes spoiled: {repaired['differing']} units, {repaired['differences']} rows "
          f"found and repaired in {repaired['seconds']:.1f} s; the next check finds {after['differences']}", flush=True)
    units = stats.pick_units(app, sizes["learners"])
    pages = pages_while(app, url, units, args.repeat, args.rounds, args.seconds)
    where = f"SQLite, {sizes['learners']:,} learners"
    record(f"statistics check, every unit ({where})", "a few minutes", round(clean["seconds"], 1), "s",
           note=f"{clean['units']:,} units; {clean['communes_read']:,} communes with rows read")
    record(f"statistics check, per commune p95 ({where})", "≤ 1 s", round(clean["commune_p95"], 1), "ms",
           reference=round(clean["commune_median"], 1), met=clean["commune_p95"] <= 1000, note="reference: median")
    record(f"statistics check, longest transaction ({where})", "≤ 1 s", round(clean["longest_snapshot_ms"]), "ms",
           met=clean["longest_snapshot_ms"] <= 1000,
           note=f"one unit's snapshot read; the longest unit with its comparison {clean['longest_ms']:.0f} ms")
    record(f"statistics check finds and repairs spoiled communes ({where})", f"{len(spoiled)} communes",
           repaired["differing"], "units", met=after["differences"] == 0 and repaired["differing"] >= len(spoiled),
           note=f"{repaired['differences']} rows; the next check finds {after['differences']}")
    for unit, times in pages.items():
        print(f"{unit:10} page p95 of all loads (worst round's): " + ", ".join(
            f"{key} {pooled * 1000:.1f} ({worst * 1000:.1f}) ms" for key, (pooled, worst) in times.items()))
        for variant in CHECK_VARIANTS:
            (busy, worst), (quiet, _worst) = times[variant], times["quiet"]
            record(f"dashboard {unit} page p95 while the check runs, {variant} ({where})", "≤ 10 ms",
                   round(busy * 1000, 1), "ms", reference=round(quiet * 1000, 1), ratio=round(busy / quiet, 2),
                   met=busy <= 0.010, note="p95 of every round's loads (the worst round's own p95: "
                   f"{worst * 1000:.1f} ms); reference: the same pages with nothing else running, alternated")

if __name__ == "__main__":
    main()
