"""A province comes online: 2,000 phones each send 40 queued events at once (issue 17).

Every device holds the events an offline learner gathers: for 20 lessons, reading
progress at 50 % then the lesson finished. When the signal returns it sends them as
the offline client does, in batches of 20 to `POST /api/v1/progress`, one batch at a
time per device, with its own API token. `--clients` devices send at once (the rest
wait their turn, as phones reconnect over the same few minutes).

Realistic retries: for one batch in ten the answer is lost on the way back (the client
drops it and sends the same batch again, as after a timeout), and any 5xx or socket
error is retried with exponential backoff (0.2 s, 0.4 s, … up to 5 tries).

The same load is sent to the floor (bench/floor_app.py: token lookup, one INSERT,
COMMIT) in the same run. Reported: time to drain, events a second and their ratio to
the floor (for the application, until every event is *applied*: with `PROGRESS_APPLY =
"background"`, the default, requests answer once events are stored and each worker's
applier writes their effect in groups), p95 batch latency, events stored against events sent (0 lost, 0 counted
twice), and `flask statistics recount` (counters equal to a recount).

    python bench/bench_province_online.py [--devices 2000] [--clients 64] [--postgres]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import PASSWORD, PYTHON, Postgres, Server, bench_env, load_reference_data, run  # noqa: E402

EVENTS_PER_DEVICE = 40
BATCH = 20
LOST_ANSWER_SHARE = 0.1


def prepare(env: dict, devices: int) -> dict:
    """Learners with tokens (one per device) and the lessons their events touch."""
    load_reference_data(env)
    script = f"""
import json
from lms import create_app
from lms.extensions import db
from lms.accounts.operations import sign_up_learner
from lms.api.auth import issue_token
from lms.learning.models import Lesson
from lms.units.queries import unit_by_code
from sqlalchemy import select
app = create_app()
with app.app_context():
    commune = unit_by_code("commune", "00070")
    tokens = []
    letters = "ABCDEGHIKLMNOPQRSTUVXY"
    for i in range({devices}):
        word = letters[i % 22] + letters[i // 22 % 22].lower() + letters[i // 484 % 22].lower()
        user = sign_up_learner(full_name="Người Thử " + word, login="prov%d" % i, password={PASSWORD!r},
                               commune=commune, village=None, consent_given=True, locale="vi")
        tokens.append(issue_token(user, "bench"))
        if i % 200 == 199:
            db.session.commit()
    lessons = list(db.session.scalars(select(Lesson.id).where(Lesson.is_active.is_(True)).order_by(Lesson.id)))
    db.session.commit()
    print(json.dumps({{"tokens": tokens, "lessons": lessons}}))
"""
    return json.loads(run([PYTHON, "-c", script], env).strip().splitlines()[-1])


def device_batches(device: int, lessons: list[int]) -> list[list[dict]]:
    chosen = [lessons[(device + k) % len(lessons)] for k in range(EVENTS_PER_DEVICE // 2)]
    events = []
    for k, lesson in enumerate(chosen):
        events.append({"id": f"device{device:05d}-p{k:02d}", "lesson_id": lesson, "kind": "progress", "progress": 50, "seconds": 40})
    for k, lesson in enumerate(chosen):
        events.append({"id": f"device{device:05d}-c{k:02d}", "lesson_id": lesson, "kind": "complete", "seconds": 40})
    return [events[i:i + BATCH] for i in range(0, len(events), BATCH)]


class Load:
    def __init__(self, port: int, tokens: list[str], lessons: list[int], clients: int):
        self.port, self.tokens, self.lessons, self.clients = port, tokens, lessons, clients
        self.latencies: list[float] = []
        self.retries = self.lost_answers = self.failures = 0
        self.shown = False
        self.lock = threading.Lock()
        self.local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        if getattr(self.local, "connection", None) is None:
            self.local.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        return self.local.connection

    def _post(self, token: str, body: bytes) -> int:
        connection = self._connection()
        try:
            connection.request("POST", "/api/v1/progress", body,
                               {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
            response = connection.getresponse()
            answer = response.read()
            if response.status != 200 and not self.shown:
                self.shown = True
                print(f"batch answered {response.status}: {answer[:300]!r}", file=sys.stderr)
            return response.status
        except (OSError, http.client.HTTPException):
            connection.close()
            self.local.connection = None
            return 0

    def device(self, device: int) -> None:
        rng = random.Random(device)
        token = self.tokens[device]
        for batch in device_batches(device, self.lessons):
            body = json.dumps({"events": batch}).encode()
            sends = 2 if rng.random() < LOST_ANSWER_SHARE else 1  # the first answer lost: sent again
            for send in range(sends):
                for attempt in range(5):
                    started = time.perf_counter()
                    status = self._post(token, body)
                    took = time.perf_counter() - started
                    if status == 200:
                        with self.lock:
                            self.latencies.append(took)
                            self.lost_answers += send
                        break
                    with self.lock:
                        self.retries += 1
                    time.sleep(0.2 * 2 ** attempt)
                else:
                    with self.lock:
                        self.failures += 1

    def run(self, devices: int) -> float:
        started = time.perf_counter()
        with ThreadPoolExecutor(self.clients) as pool:
            list(pool.map(self.device, range(devices)))
        return time.perf_counter() - started


def stored_events(env: dict) -> tuple[int, int]:
    script = ("from lms import create_app\nfrom lms.extensions import db\nfrom sqlalchemy import func, select\n"
              "from lms.learning.models import ProgressEvent\napp=create_app()\nwith app.app_context():\n"
              "    total = db.session.scalar(select(func.count()).select_from(ProgressEvent))\n"
              "    distinct = db.session.scalar(select(func.count()).select_from(select(ProgressEvent.learner_id,"
              " ProgressEvent.client_event_id).distinct().subquery()))\n"
              "    print(total, distinct)")
    total, distinct = run([PYTHON, "-c", script], env).split()[-2:]
    return int(total), int(distinct)


def clear_events(env: dict) -> None:
    script = ("from lms import create_app\nfrom lms.extensions import db\nfrom sqlalchemy import delete\n"
              "from lms.learning.models import ProgressEvent\napp=create_app()\nwith app.app_context():\n"
              "    db.session.execute(delete(ProgressEvent)); db.session.commit()")
    run([PYTHON, "-c", script], env)


def recount(env: dict) -> str:
    try:
        return run([PYTHON, "-m", "flask", "statistics", "recount", "--show", "0"], env).strip().splitlines()[-1]
    except Exception as error:  # noqa: BLE001 - reported, not hidden
        return f"recount failed: {getattr(error, 'stdout', '') or error}"


def wait_until_applied(url: str, started: float, limit: float = 600) -> float:
    """Seconds from the load's start until no stored event waits to be applied (the
    workers' appliers, `PROGRESS_APPLY = "background"`), polled straight from the database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        while True:
            with engine.connect() as connection:
                waiting = connection.execute(text("SELECT count(*) FROM progress_events WHERE applied_dt IS NULL")).scalar()
            if not waiting:
                return time.perf_counter() - started
            if time.perf_counter() - started > limit:
                raise RuntimeError(f"{waiting} events still waiting after {limit:.0f} s")
            time.sleep(0.05)
    finally:
        engine.dispose()


def effect(url: str) -> tuple[int, int]:
    """(lessons completed, reading seconds) summed over every progress row."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return tuple(connection.execute(text(
                "SELECT count(completed_dt), coalesce(sum(time_spent_seconds), 0) FROM lesson_progress")).one())
    finally:
        engine.dispose()


def one(label: str, app: str, port: int, env: dict, data: dict, devices: int, clients: int) -> dict:
    log = os.environ.get("BENCH_SERVER_LOG")  # the servers' own output, to see what they logged
    server = Server(app, port, env, log=Path(f"{log}.{label}") if log else None)
    applied_s = None
    try:
        load = Load(port, data["tokens"], data["lessons"], clients)
        started = time.perf_counter()
        seconds = load.run(devices)
        if label == "application":
            applied_s = wait_until_applied(env["DATABASE_URL"], started)
    finally:
        server.stop()
    total, distinct = stored_events(env)
    latencies = sorted(load.latencies) or [float("nan")]
    return {"label": label, "seconds": seconds, "applied_s": applied_s,
            "events_per_s": devices * EVENTS_PER_DEVICE / (applied_s or seconds),
            "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))], "median_ms": 1000 * statistics.median(latencies),
            "stored": total, "distinct": distinct, "sent": devices * EVENTS_PER_DEVICE, "retries": load.retries,
            "lost_answers": load.lost_answers, "failures": load.failures}


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lms-province-"))
    pg = None
    try:
        url = ""
        if args.postgres:
            pg = Postgres(Path(tempfile.mkdtemp(prefix="lms-province-pg-")), "lms_bench", free_port())
            url = pg.url
        env = bench_env(tmp, url)
        data = prepare(env, args.devices)
        app = one("application", "wsgi:app", free_port(), env, data, args.devices, args.clients)
        app["recount"] = recount(env)
        app["effect"] = effect(env["DATABASE_URL"])
        clear_events(env)
        floor = one("floor", "bench.floor_app:app", free_port(), env, data, args.devices, args.clients)
    finally:
        if pg:
            pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    engine = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{engine}: {args.devices} devices × {EVENTS_PER_DEVICE} events, batches of {BATCH}, {args.clients} at once")
    for row in (app, floor):
        applied = f" (all applied by {row['applied_s']:.1f} s)" if row.get("applied_s") else ""
        print(f"  {row['label']:12} answered in {row['seconds']:.1f} s{applied}, {row['events_per_s']:.0f} events/s, "
              f"batch p95 {row['p95_ms']:.0f} ms (median {row['median_ms']:.0f}), stored {row['stored']} of "
              f"{row['sent']} ({row['distinct']} distinct), {row['lost_answers']} answers lost and resent, "
              f"{row['retries']} retries, {row['failures']} gave up")
    print(f"  application / floor: {app['events_per_s'] / floor['events_per_s']:.0%}; {app['recount']}")
    # Every device finished its 20 lessons, 40 s of reading twice each: no event lost, none doubled.
    wanted = (sum(len({e["lesson_id"] for batch in device_batches(d, data["lessons"]) for e in batch})
                  for d in range(args.devices)), args.devices * EVENTS_PER_DEVICE * 40)
    print(f"  lessons completed and reading seconds: {app['effect']} (expected {wanted})")
    ok = (app["stored"] == app["distinct"] == app["sent"] and app["failures"] == 0 and app["effect"] == wanted
          and "0 counters differ" in app["recount"])
    print("  0 lost, 0 counted twice" if ok else "  EVENTS LOST OR COUNTED TWICE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
