"""Learning throughput against a bare Flask route, in the same run.

Starts gunicorn (the project's gunicorn.conf.py) on loopback twice: once with a bare
Flask route (bench/bare_app.py, the reference) and once with the application, and
drives each with wrk (32 connections). Measures:

- lesson page: a logged-in learner reading a lesson (target ≥ 50 % of the bare route);
- progress batches: POST /api/v1/progress, 5 events a batch, 64 learners with their own
  API tokens, each learner sending one batch at a time (as one phone does), each event
  id unique (target ≥ 30 % of the bare route on PostgreSQL);
- the floor (bench/floor_app.py): the same batches stored by the leanest durable code
  (token lookup, one INSERT, COMMIT), a second reference: what any implementation of
  the endpoint could reach on this machine.

Usage:
    python bench/bench_learning.py [--seconds 10] [--postgres]

With --postgres a throw-away PostgreSQL server is started with tools/postgres.sh;
otherwise a fresh SQLite database in a temporary folder. Needs `wrk` (Debian package).
Prints one table and, with --json FILE, writes the figures there.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import PASSWORD, PYTHON, Postgres, Server, bench_env, load_reference_data, run  # noqa: E402

CONNECTIONS = 32
LEARNERS = 64


def prepare_database(env: dict) -> dict:
    """Schema, units, courses, learners with tokens; returns what the load needs."""
    load_reference_data(env)
    script = f"""
import json
import os
from lms import create_app
from lms.extensions import db
from lms.accounts.operations import sign_up_learner
from lms.api.auth import issue_token
from lms.learning.queries import course_by_slug
from lms.units.queries import unit_by_code
app = create_app()
with app.app_context():
    commune = unit_by_code("commune", "00070")
    tokens = []
    for i in range({LEARNERS}):
        user = sign_up_learner(full_name="Người Thử " + "".join("abcdefghij"[int(d)] for d in str(i)).title(), login="bench%d" % i, password={PASSWORD!r},
                               commune=commune, village=None, consent_given=True, locale="vi")
        tokens.append(issue_token(user, "bench"))
    course = course_by_slug("scam-safety")
    lessons = [(lesson.id, lesson.slug) for lesson in course.lessons]
    db.session.commit()
    print(json.dumps({{"tokens": tokens, "lessons": lessons, "course": course.slug}}))
"""
    return json.loads(run([PYTHON, "-c", script], env).strip().splitlines()[-1])


# One User-Agent for the login and for wrk: Flask-Login's session protection ties a
# session to the browser's address and agent, and a cookie replayed by another agent is
# marked not fresh and re-signed on every answer, which no real browser causes.
BENCH_AGENT = "lms-bench"


def wrk(url: str, seconds: int, headers: dict | None = None, script: str | None = None) -> dict:
    cmd = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    for name, value in {"User-Agent": BENCH_AGENT, **(headers or {})}.items():
        cmd += ["-H", f"{name}: {value}"]
    if script:
        cmd += ["-s", script]
    done = subprocess.run(cmd + [url], check=True, capture_output=True, text=True)
    out = done.stdout
    if done.stderr:
        print(done.stderr.strip(), file=sys.stderr)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}
    return {"rate": rate, "requests": total, "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": sum(map(int, errors.groups())) if errors else 0,
            "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else None}


def login_cookie(base: str, warm_up: str | None = None) -> str:
    """Log in through the real form (and visit `warm_up`); return the cookie header."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", BENCH_AGENT)]  # the agent wrk sends too
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "login": "bench0", "password": PASSWORD}).encode()
    opener.open(base + "/login", data)
    if warm_up:
        opener.open(base + warm_up)
    return "; ".join(f"{c.name}={c.value}" for c in jar)


PROGRESS_SCRIPT = """
local tokens = {%(tokens)s}
local lessons = {%(lessons)s}
-- setup() runs in the main Lua state; thread:set() gives each thread its own global
-- thread_no (a local here would be shared by name only, and ids would collide).
local next_thread = 0
function setup(thread)
  thread:set("thread_no", next_thread)
  next_thread = next_thread + 1
end
local counter = 0
function request()
  counter = counter + 1
  -- Each thread has its own half of the learners, used in turn: one learner's device
  -- sends one batch at a time, so no two connections write for the same learner at once.
  local half = math.floor(#tokens / 2)
  local token = tokens[thread_no * half + counter %% half + 1]
  local events = {}
  for i = 1, %(batch)d do
    local lesson = lessons[(counter + i) %% #lessons + 1]
    events[i] = string.format('{"id":"b%%d-%%d-%%d-%%d","lesson_id":%%d,"kind":"progress","progress":%%d,"seconds":20}',
      thread_no, counter, i, math.random(1, 1000000000), lesson, math.min(99, 10 * i))
  end
  local body = '{"events":[' .. table.concat(events, ",") .. ']}'
  return wrk.format("POST", "/api/v1/progress",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
local shown = 0
function response(status, headers, body)
  if status ~= 200 and shown < 3 then
    shown = shown + 1
    io.stderr:write("progress batch answered " .. status .. ": " .. body .. string.char(10))
  end
end
"""


def measure(seconds: int, database_url: str, label: str, batch: int = 5) -> list[dict]:
    tmp = Path(tempfile.mkdtemp(prefix="lms-bench-"))
    env = bench_env(tmp, database_url)
    data = prepare_database(env)
    first_slug = data["lessons"][0][1]
    lesson_path = f"/courses/{data['course']}/lessons/{first_slug}"
    rows = []
    bare = Server("bench.bare_app:app", 5101, env)
    try:
        reference = wrk(bare.url + "/", seconds)
    finally:
        bare.stop()
    lms = Server(os.environ.get("BENCH_APP", "wsgi:app"), 5102, env)
    try:
        # The first visit records the lesson as started and updates the session cookie,
        # as a browser would keep it; wrk then sends that cookie on every request.
        cookie = login_cookie(lms.url, warm_up=lesson_path)
        lesson = wrk(lms.url + lesson_path, seconds, headers={"Cookie": cookie})
        script = tmp / "progress.lua"
        script.write_text(PROGRESS_SCRIPT % {
            "tokens": ",".join(f'"{t}"' for t in data["tokens"]),
            "lessons": ",".join(str(lesson_id) for lesson_id, _ in data["lessons"]), "batch": batch})
        progress = wrk(lms.url + "/api/v1/progress", seconds, script=str(script))
        stored = count_events(env)
    finally:
        lms.stop()
    floor_server = Server("bench.floor_app:app", 5103, env)
    try:
        floor = wrk(floor_server.url + "/api/v1/progress", seconds, script=str(script))
    finally:
        floor_server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    for name, result, target in (("lesson page", lesson, 0.5), (f"progress batch ({batch} events)", progress, 0.3),
                                 ("floor: leanest durable batch", floor, None)):
        rows.append({"database": label, "figure": name, "target": target, "rate": result["rate"],
                     "reference": reference["rate"], "ratio": result["rate"] / reference["rate"],
                     "p99_ms": result["p99_ms"], "errors": result["non_2xx"], "socket_errors": result["socket_errors"],
                     "requests": result["requests"]})
    rows[1]["events_stored"] = stored
    rows[1]["floor_rate"] = floor["rate"]
    return rows


def count_events(env: dict) -> int:
    script = ("from lms import create_app\nfrom lms.extensions import db\nfrom lms.learning.models import "
              "ProgressEvent\napp=create_app()\nwith app.app_context():\n"
              "    print(db.session.query(ProgressEvent).count())")
    return int(run([PYTHON, "-c", script], env).strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--postgres", action="store_true", help="also run against a throw-away PostgreSQL")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--batch", type=int, default=5, help="events per progress batch (the offline sync sends 20)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    rows = measure(args.seconds, "", "SQLite", args.batch)
    if args.postgres:
        server = Postgres(Path(tempfile.mkdtemp(prefix="lms-bench-pg-")), "lms_bench", 55433)
        try:
            rows += measure(args.seconds, server.url, "PostgreSQL", args.batch)
        finally:
            server.stop()
    print(f"{'database':11} {'figure':29} {'target':>7} {'req/s':>8} {'bare req/s':>10} {'ratio':>6} "
          f"{'p99 ms':>7} {'non-2xx':>7} {'sock err':>8}")
    for row in rows:
        target = "" if row["target"] is None else f"{row['target']:.0%}"
        print(f"{row['database']:11} {row['figure']:29} {target:>7} {row['rate']:>8.0f} "
              f"{row['reference']:>10.0f} {row['ratio']:>6.0%} {row['p99_ms'] or 0:>7.1f} {row['errors']:>7} "
              f"{row['socket_errors']:>8}")
    for row in rows:
        if "events_stored" in row:
            acknowledged = row["requests"] - row["errors"]
            print(f"{row['database']}: {acknowledged} batches acknowledged, {row['events_stored']} events stored "
                  f"(at least {args.batch * acknowledged} expected; batches still in flight when wrk stopped add more); "
                  f"the application's batches run at {row['rate'] / row['floor_rate']:.0%} of the floor's")
    from bench.report import record

    for row in rows:
        if row["target"] is None:  # the floor: a reference, no target of its own
            record(f"{row['figure']} ({row['database']})", "(reference)", round(row["rate"]), "req/s",
                   reference=round(row["reference"]), ratio=round(row["ratio"], 3), met=None,
                   note="bench/floor_app.py: token lookup + one INSERT + COMMIT; the most a batch could reach here")
            continue
        record(f"{row['figure']} ({row['database']})", f"≥ {row['target']:.0%} of bare route", round(row["rate"]),
               "req/s", reference=round(row["reference"]), ratio=round(row["ratio"], 3),
               met=row["ratio"] >= row["target"] and row["errors"] == 0 and row["socket_errors"] == 0,
               note=f"reference: bare Flask route, same gunicorn; {row['errors']} non-2xx")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
