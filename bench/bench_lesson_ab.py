"""The lesson page read again, this tree against another checkout, alternated in one run.

For a change to the lesson page's path (issue 15.5 added the session check): both
versions are served at once by gunicorn (the project's gunicorn.conf.py) over the same
database and secrets, with the bare Flask route as the reference, and wrk (32
connections) drives them in turn, bare / old / new, for several rounds, so a minute in
which the shared machine is slow falls on both. Prints every round and the range of
each version's ratio to the bare route.

    git archive main | tar -x -C /tmp/old   # the version to compare with
    python bench/bench_lesson_ab.py --old /tmp/old [--rounds 4] [--seconds 5] [--postgres]
    python bench/bench_lesson_ab.py --old /tmp/old --in-process 1000 [--postgres]   # µs per page
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_learning import login_cookie, prepare_database, wrk  # noqa: E402
from bench.harness import PYTHON, ROOT, Postgres, Server, bench_env  # noqa: E402


def serve(root: Path, port: int, env: dict) -> subprocess.Popen:
    """gunicorn for the checkout at `root` (its own code and gunicorn.conf.py)."""
    process = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=root, env={**env, "PYTHONPATH": str(root)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)  # noqa: S310
            return process
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.3)
    stop(process)
    raise RuntimeError(f"{root} did not start")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


IN_PROCESS = """
import re, statistics, sys, time
from lms import create_app
app = create_app()
client = app.test_client()
page = client.get("/login").get_data(as_text=True)
token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
assert client.post("/login", data={"csrf_token": token, "login": "bench0", "password": %(password)r}).status_code == 302
for _ in range(300):
    client.get(%(path)r)
times = []
for _ in range(5):
    started = time.perf_counter()
    for _ in range(%(requests)d):
        response = client.get(%(path)r)
    times.append((time.perf_counter() - started) / %(requests)d * 1e6)
assert "Người Thử" in response.get_data(as_text=True)
print(statistics.median(times))
"""


def compare_in_process(old: Path, rounds: int, requests: int, database_url: str, label: str) -> dict[str, list[float]]:
    """Microseconds per lesson page read again in the Flask test client, old and new alternated
    (each in a fresh process of its own checkout): steadier than wrk on a busy machine."""
    from bench.harness import PASSWORD

    tmp = Path(tempfile.mkdtemp(prefix="lms-bench-ab-"))
    env = {**bench_env(tmp, database_url), "LMS_LOG_REQUESTS": "0", "LMS_LOG_LEVEL": "WARNING"}
    data = prepare_database(env)
    path = f"/courses/{data['course']}/lessons/{data['lessons'][0][1]}"
    script = IN_PROCESS % {"password": PASSWORD, "path": path, "requests": requests}
    micros: dict[str, list[float]] = {"old": [], "new": []}
    try:
        for round_no in range(rounds):
            line = []
            for name in (["old", "new"] if round_no % 2 == 0 else ["new", "old"]):
                root = old if name == "old" else ROOT
                done = subprocess.run([PYTHON, "-c", script], cwd=root, env={**env, "PYTHONPATH": str(root)},
                                      capture_output=True, text=True, check=True)
                micros[name].append(float(done.stdout.strip().splitlines()[-1]))
                line.append(f"{name} {micros[name][-1]:,.0f} µs")
            print(f"{label} in process, round {round_no + 1}: " + ", ".join(line), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return micros


def compare(old: Path, rounds: int, seconds: int, database_url: str, label: str) -> dict[str, list[float]]:
    tmp = Path(tempfile.mkdtemp(prefix="lms-bench-ab-"))
    env = bench_env(tmp, database_url)
    data = prepare_database(env)  # this tree's migrations: the newer schema serves both
    path = f"/courses/{data['course']}/lessons/{data['lessons'][0][1]}"
    bare = Server("bench.bare_app:app", 5111, env)
    servers = {"old": serve(old, 5112, env), "new": serve(ROOT, 5113, env)}
    ports = {"old": 5112, "new": 5113}
    ratios: dict[str, list[float]] = {"old": [], "new": []}
    try:
        cookies = {name: login_cookie(f"http://127.0.0.1:{port}", warm_up=path) for name, port in ports.items()}
        for round_no in range(rounds):
            order = ["old", "new"] if round_no % 2 == 0 else ["new", "old"]
            reference = wrk(bare.url + "/", seconds)["rate"]
            line = [f"{label} round {round_no + 1}: bare {reference:,.0f} req/s"]
            for name in order:
                rate = wrk(f"http://127.0.0.1:{ports[name]}{path}", seconds, headers={"Cookie": cookies[name]})["rate"]
                ratios[name].append(rate / reference)
                line.append(f"{name} {rate:,.0f} req/s ({rate / reference:.0%})")
            print(", ".join(line), flush=True)
    finally:
        for process in servers.values():
            stop(process)
        bare.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return ratios


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", required=True, help="a checkout of the version to compare with")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--in-process", type=int, metavar="REQUESTS", default=0,
                        help="instead of wrk: µs per page in the test client, REQUESTS per measure")
    args = parser.parse_args()
    old = Path(args.old).resolve()
    if args.in_process:
        def run(url: str, label: str) -> dict[str, list[float]]:
            return compare_in_process(old, args.rounds, args.in_process, url, label)
    else:
        def run(url: str, label: str) -> dict[str, list[float]]:
            return compare(old, args.rounds, args.seconds, url, label)
    results = {"SQLite": run("", "SQLite")}
    if args.postgres:
        server = Postgres(Path(tempfile.mkdtemp(prefix="lms-bench-pg-")), "lms_bench", 55434)
        try:
            results["PostgreSQL"] = run(server.url, "PostgreSQL")
        finally:
            server.stop()
    for label, values_by_name in results.items():
        for name, values in values_by_name.items():
            if args.in_process:
                print(f"{label} {name}: {min(values):,.0f}–{max(values):,.0f} µs per lesson page "
                      f"(median of medians {sorted(values)[len(values) // 2]:,.0f}, {len(values)} rounds)")
            else:
                print(f"{label} {name}: {min(values):.0%}–{max(values):.0%} of the bare route "
                      f"(mean {sum(values) / len(values):.0%}, {len(values)} rounds)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
