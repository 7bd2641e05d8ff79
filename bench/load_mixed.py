"""Mixed traffic at 64 concurrent clients against gunicorn and PostgreSQL, with faults.

Starts a throw-away PostgreSQL server (its own PGDATA and port) and the application under
gunicorn (gunicorn.conf.py, LMS_WORKERS workers) on loopback, creates staff in a few
communes and a pool of learners with API tokens, then runs closed-loop clients (threads,
one `requests` session each, no think time):

- learners log in through the form, read the catalogue and the lessons, post progress
  batches to /api/v1/progress (client event ids), mark lessons done (the form, with its
  CSRF token, or a `complete` event), pass the final quiz through the API (client attempt
  id; right answers from the course files via the content loader) and read their
  certificates page;
- team members register learners through the registration form and search the list;
- officials read the nation, province and commune dashboards and the open-data page.

Every client keeps what the server acknowledged (a 2xx answer, or the 302 of a form):
progress event ids, lessons done, quiz attempts, course completions, certificate serials
and registered usernames. A connection error or a 5xx is retried with the same payload
(the same client ids, so the server recognises a write it already made) with back-off,
for up to 30 s. Three phases: steady traffic; then one gunicorn worker is killed with
SIGKILL (the master starts a new one); then PostgreSQL is restarted (`pg_ctl restart -m
fast`) while traffic runs. Per phase: requests, req/s, 5xx, connection errors, p50/p95
latency, and after each fault the seconds until the last failed request (service back).

Afterwards every acknowledged write is looked up in the database and the statistics
counters are compared with a recount from the raw rows (`lms/statistics/recount.py`).
Exit status 1 if an acknowledged write is missing, a counter differs, a 5xx or a
connection error happened in the steady phase, or a client gave up retrying.

Usage:
    python bench/load_mixed.py [--seconds 180 | --quick] [--clients 64] [--json FILE]

Not named bench_*.py on purpose: `make bench` does not run it by itself.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    PASSWORD,
    PYTHON,
    Postgres,
    Server,
    bench_env,
    children_of,
    load_reference_data,
    run,
)

PG_PORT, WEB_PORT = 55440, 5120
RETRY_FOR_SECONDS = 30
REQUEST_TIMEOUT = (5, 60)  # connect, read: gunicorn's worker timeout is 60 s
PROVINCES = ("01", "79")  # Hà Nội, Hồ Chí Minh
TEAM_MEMBERS_PER_COMMUNE = 2
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SERIAL_RE = re.compile(r"\b(\d{4}-\d{6,})\b")
CARD_RE = re.compile(r"<dd><strong>([^<]+)</strong></dd>")


# --- Inside the application (run in a subprocess, with the instance's environment) -------

def prepare_in_app(learner_count: int) -> dict:
    """Staff in a few communes, learners with API tokens, the course plan and the right answers."""
    from flask import current_app

    from lms import create_app
    from lms.accounts.operations import create_staff, sign_up_learner
    from lms.api.auth import issue_token
    from lms.extensions import db
    from lms.learning.content import read_courses
    from lms.learning.operations import active_questions
    from lms.learning.queries import published_courses
    from lms.units.operations import ensure_nation
    from lms.units.queries import communes_of, unit_by_code

    app = create_app()
    with app.app_context():
        provinces = [unit_by_code("province", code) for code in PROVINCES]
        hoan_kiem = unit_by_code("commune", "00070")
        communes = [hoan_kiem, *[c for c in communes_of(provinces[0].id) if c.id != hoan_kiem.id][:2],
                    communes_of(provinces[1].id)[0]]
        nation = ensure_nation()
        team, officials = [], []
        for commune in communes:
            for n in range(TEAM_MEMBERS_PER_COMMUNE):
                user = create_staff(role="team_member", unit=commune, username=f"lm-team-{commune.code}-{n}",
                                    password=PASSWORD, display_name=f"Tổ công nghệ {commune.code}")
                team.append({"login": user.username})
            user = create_staff(role="commune_official", unit=commune, username=f"lm-commune-{commune.code}",
                                password=PASSWORD, display_name="Cán bộ xã")
            officials.append({"login": user.username, "units": [commune.id]})
        for province, communes_here in ((provinces[0], communes[:3]), (provinces[1], communes[3:])):
            user = create_staff(role="province_official", unit=province, username=f"lm-province-{province.code}",
                                password=PASSWORD, display_name="Cán bộ tỉnh")
            officials.append({"login": user.username, "units": [province.id, *[c.id for c in communes_here]]})
        user = create_staff(role="national_admin", unit=nation, username="lm-admin", password=PASSWORD,
                            display_name="Quản trị quốc gia")
        officials.append({"login": user.username, "units": [nation.id, provinces[0].id, provinces[1].id, hoan_kiem.id]})
        learners = []
        for i in range(learner_count):
            user = sign_up_learner(full_name=f"Học Viên Thử {i}", login=f"lm-learner-{i}", password=PASSWORD,
                                   commune=communes[i % len(communes)], village=None, consent_given=True,
                                   locale="vi", birth_year=1950 + i % 60, sex=("female", "male")[i % 2])
            learners.append({"index": i, "login": user.username, "token": issue_token(user, "load test")})
        sources = {source.slug: source for source in read_courses(current_app.config["COURSES_DIR"])}
        courses = []
        for course in published_courses():
            right = {q.key: [i for i, choice in enumerate(q.choices) if choice.get("correct")]
                     for q in sources[course.slug].questions}
            keys = {q.key for q in active_questions(course)}
            if keys != set(right):
                raise RuntimeError(f"{course.slug}: the database's quiz differs from the course files")
            courses.append({"slug": course.slug, "lessons": [[lesson.id, lesson.slug] for lesson in course.lessons],
                            "answers": right})
        db.session.commit()
        return {"team": team, "officials": officials, "learners": learners, "courses": courses}


def verify_in_app(acks: dict) -> dict:
    """Look up every acknowledged write; recount the statistics counters."""
    from sqlalchemy import func, select

    from lms import create_app
    from lms.accounts.models import User
    from lms.certs.models import Certificate
    from lms.extensions import db
    from lms.learners.models import Learner
    from lms.learning.models import Course, Enrollment, LessonProgress, ProgressEvent, QuizAttempt
    from lms.statistics.recount import compare

    app = create_app()
    with app.app_context():
        session = db.session
        login = User.username
        events = set(session.scalars(select(ProgressEvent.client_event_id)))
        attempts = set(session.scalars(select(QuizAttempt.client_event_id).where(
            QuizAttempt.client_event_id.is_not(None))))
        lessons = set(session.execute(
            select(login, LessonProgress.lesson_id).join(Learner, Learner.id == LessonProgress.learner_id)
            .join(User, User.id == Learner.user_id).where(LessonProgress.completed_dt.is_not(None))).tuples())
        completions = set(session.execute(
            select(login, Course.slug).select_from(Enrollment).join(Course, Course.id == Enrollment.course_id)
            .join(Learner, Learner.id == Enrollment.learner_id).join(User, User.id == Learner.user_id)
            .where(Enrollment.completed_dt.is_not(None))).tuples())
        certificates = set(session.execute(
            select(login, Certificate.serial).join(Learner, Learner.id == Certificate.learner_id)
            .join(User, User.id == Learner.user_id).where(Certificate.is_revoked.is_(False))).tuples())
        certified = set(session.execute(
            select(login, Course.slug).select_from(Certificate).join(Course, Course.id == Certificate.course_id)
            .join(Learner, Learner.id == Certificate.learner_id).join(User, User.id == Learner.user_id)
            .where(Certificate.is_revoked.is_(False))).tuples())
        usernames = set(session.scalars(select(User.username).where(User.username.is_not(None))))
        registered = session.scalar(select(func.count()).select_from(Learner).where(Learner.registered_by_id.is_not(None)))
        stored = {"progress events": events, "lessons done": lessons, "quiz attempts": attempts,
                  "course completions": completions, "certificates (serials seen)": certificates,
                  "certificates (of completions)": certified, "registrations": usernames}
        writes = {}
        for name, kept in stored.items():
            acknowledged = {tuple(item) if isinstance(item, list) else item for item in acks[name]}
            missing = acknowledged - kept
            # Stored may exceed acknowledged: a write can commit and its answer be lost (a
            # killed worker); the client's retry then finds it (same id), or gives up.
            writes[name] = {"acknowledged": len(acknowledged), "stored": registered if name == "registrations"
                            else len(kept), "missing": len(missing), "missing_examples": sorted(map(str, missing))[:5]}
        totals = {"progress_events": len(events), "quiz_attempts": len(attempts),
                  "completed_enrollments": len(completions), "certificates": len(certificates),
                  "learners": session.scalar(select(func.count()).select_from(Learner))}
        differences = compare()
        return {"writes": writes, "stored_totals": totals, "counter_differences": len(differences),
                "counter_difference_examples": [d.describe() for d in differences[:5]]}


# --- Clients ------------------------------------------------------------------------------

class GaveUpError(Exception):
    """A request still failed after RETRY_FOR_SECONDS of retries."""


@dataclass
class Acks:
    """What the server acknowledged to one client."""

    events: set = field(default_factory=set)
    lessons: set = field(default_factory=set)
    attempts: set = field(default_factory=set)
    completions: set = field(default_factory=set)
    certificates: set = field(default_factory=set)
    registrations: set = field(default_factory=set)


class Client(threading.Thread):
    """One simulated person (closed loop, no think time). Records every attempt as
    (started, ended, kind, status), status 0 for a connection error."""

    def __init__(self, number: int, role: str, base: str, plan: dict, stop: threading.Event, tag: str):
        super().__init__(name=f"client-{number}", daemon=True)
        self.number, self.role, self.base, self.plan, self.stop_event, self.tag = number, role, base, plan, stop, tag
        self.samples: list[tuple[float, float, str, int]] = []
        self.acks = Acks()
        self.counts: Counter = Counter()
        self.retries_ok: list[tuple[float, str]] = []  # (first attempt started, kind) of writes that needed a retry
        self._ids = itertools.count()
        self.random = random.Random(number)

    # -- plumbing --
    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{self.tag}-{self.number:02d}-{next(self._ids):06d}"

    def call(self, http, method: str, path: str, kind: str, expect=(200,), **kwargs):
        """Send, retrying connection errors and 5xx with the same payload; the last response."""
        import requests

        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", REQUEST_TIMEOUT)
        first = time.monotonic()
        delay, attempt = 0.1, 0
        while True:
            started = time.monotonic()
            try:
                response = http.request(method, self.base + path, **kwargs)
                status = response.status_code
            except requests.RequestException as error:
                response, status = None, 0
                self.counts[f"connection error: {type(error).__name__}"] += 1
            self.samples.append((started, time.monotonic(), kind, status))
            if status and status < 500:
                if attempt:
                    self.retries_ok.append((first, kind))
                if status not in expect:
                    self.counts[f"unexpected {status}: {kind}"] += 1
                response.retried = attempt > 0
                return response
            if time.monotonic() - first > RETRY_FOR_SECONDS:
                self.counts[f"gave up: {kind}"] += 1
                raise GaveUpError(kind)
            attempt += 1
            retry_after = response.headers.get("Retry-After") if response is not None else None
            time.sleep(min(delay, float(retry_after)) if retry_after and retry_after.isdigit() else delay)
            delay = min(delay * 2, 2.0)

    def page_token(self, http, path: str, kind: str) -> str:
        page = self.call(http, "GET", path, kind)
        match = CSRF_RE.search(page.text)
        if not match:
            raise RuntimeError(f"no CSRF token on {path} ({page.status_code})")
        return match.group(1)

    def log_in(self, login: str):
        import requests

        http = requests.Session()
        token = self.page_token(http, "/login", "login page")
        self.call(http, "POST", "/login", "login (form)", expect=(302,),
                  data={"csrf_token": token, "login": login, "password": PASSWORD})
        return http

    def run(self) -> None:
        work = {"learner": self.learner_loop, "team": self.team_loop, "official": self.official_loop}[self.role]
        while not self.stop_event.is_set():
            try:
                work()
            except GaveUpError:
                time.sleep(1)
            except Exception as error:  # noqa: BLE001 - count it, keep the load going
                self.counts[f"client error: {type(error).__name__}: {str(error)[:80]}"] += 1
                time.sleep(1)

    # -- learners --
    def learner_loop(self) -> None:
        mine = self.plan["learners"][self.number::self.plan["learner_clients"]]
        for learner in itertools.cycle(mine):
            if self.stop_event.is_set():
                return
            self.learn(learner)

    def learn(self, learner: dict) -> None:
        """A third of the learners use an app that syncs a course's progress in one batch
        (they finish courses quickly); the others read every lesson in the browser."""
        http = self.log_in(learner["login"])
        bearer = {"Authorization": f"Bearer {learner['token']}"}
        self.call(http, "GET", "/courses", "catalogue")
        courses = self.plan["courses"]
        start = learner["index"] % len(courses)
        for course in courses[start:] + courses[:start]:
            if self.stop_event.is_set():
                return
            if learner["index"] % 3 == 0:
                self.sync_course(http, bearer, learner, course)
            else:
                self.read_course(http, bearer, learner, course)
            if not self.stop_event.is_set():
                self.pass_quiz(http, bearer, learner, course)

    def sync_course(self, http, bearer: dict, learner: dict, course: dict) -> None:
        lessons = [lesson_id for lesson_id, _slug in course["lessons"]]
        self.call(http, "GET", f"/api/v1/courses/{course['slug']}", "course (API)", headers=bearer)
        kinds = [(lesson_id, kind, progress) for lesson_id in lessons
                 for kind, progress in (("view", 0), ("progress", 60), ("complete", 100))]
        if self.progress(http, bearer, kinds):
            self.acks.lessons.update((learner["login"], lesson_id) for lesson_id in lessons)

    def read_course(self, http, bearer: dict, learner: dict, course: dict) -> None:
        for position, (lesson_id, lesson_slug) in enumerate(course["lessons"]):
            if self.stop_event.is_set():
                return
            path = f"/courses/{course['slug']}/lessons/{lesson_slug}"
            token = self.page_token(http, path, "lesson page")
            self.progress(http, bearer, [(lesson_id, "view", 0), (lesson_id, "progress", 50)])
            if (position + learner["index"]) % 2 == 0:
                done = self.call(http, "POST", path + "/complete", "lesson done (form)", expect=(302,),
                                 data={"csrf_token": token})
                if done.status_code == 302:
                    self.acks.lessons.add((learner["login"], lesson_id))
            elif self.progress(http, bearer, [(lesson_id, "complete", 100)]):
                self.acks.lessons.add((learner["login"], lesson_id))

    def progress(self, http, bearer: dict, kinds: list[tuple[int, str, int]]) -> bool:
        """Post one batch of (lesson id, kind, progress) events; True if all were stored."""
        events = [{"id": self.new_id("ev"), "lesson_id": lesson_id, "kind": kind, "progress": progress,
                   "seconds": self.random.randint(5, 90)} for lesson_id, kind, progress in kinds]
        response = self.call(http, "POST", "/api/v1/progress", "progress batch (API)", headers=bearer,
                             json={"events": events})
        if response.status_code != 200:
            return False
        stored = [r["id"] for r in response.json()["results"] if r["status"] in ("applied", "duplicate")]
        self.acks.events.update(stored)
        self.counts["progress events rejected"] += len(events) - len(stored)
        return len(stored) == len(events)

    def pass_quiz(self, http, bearer: dict, learner: dict, course: dict) -> None:
        attempt_id = self.new_id("quiz")
        response = self.call(http, "POST", f"/api/v1/courses/{course['slug']}/quiz/attempts", "quiz (API)",
                             expect=(200, 201), headers=bearer, json={"id": attempt_id, "answers": course["answers"]})
        if response.status_code not in (200, 201):
            return
        self.acks.attempts.add(attempt_id)
        body = response.json()
        if body["course_completed"]:
            self.acks.completions.add((learner["login"], course["slug"]))
        else:
            self.counts["quiz passed without completing the course" if body["passed"] else "quiz failed"] += 1
        page = self.call(http, "GET", "/certificates", "my certificates")
        self.acks.certificates.update((learner["login"], serial) for serial in SERIAL_RE.findall(page.text))

    # -- community team members --
    def team_loop(self) -> None:
        teams = self.plan["team"]
        account = teams[self.number % len(teams)]
        http = self.log_in(account["login"])
        while not self.stop_event.is_set():
            token = self.page_token(http, "/team/learners/new", "registration form")
            n = next(self._ids)
            data = {"csrf_token": token, "full_name": f"Người Đăng Ký {self.tag} {self.number}-{n}",
                    "birth_year": str(1940 + (n * 7 + self.number) % 66), "sex": ("female", "male")[n % 2],
                    "village": "", "phone": "", "national_id": "", "consent": "y"}
            response = self.call(http, "POST", "/team/learners/new", "register learner (form)",
                                 expect=(200, 409), data=data)
            if response.status_code == 200:
                self.acks.registrations.add(CARD_RE.findall(response.text)[0])
            elif response.status_code == 409 and not response.retried:
                self.counts["registration refused as a duplicate"] += 1
            if n % 4 == 3:
                self.call(http, "GET", "/team/learners", "learner list", params={"q": "Người Đăng Ký"})

    # -- officials --
    def official_loop(self) -> None:
        officials = self.plan["officials"]
        account = officials[self.number % len(officials)]
        http = self.log_in(account["login"])
        for n in itertools.count():
            if self.stop_event.is_set():
                return
            self.call(http, "GET", f"/statistics/units/{account['units'][n % len(account['units'])]}", "dashboard")
            if n % 5 == 4:
                self.call(http, "GET", "/open-data/statistics", "open data")


def make_clients(count: int, base: str, data: dict, stop: threading.Event, tag: str) -> list[Client]:
    officials = max(1, count // 8)
    team = max(1, count // 8)
    learners = count - officials - team
    plan = {**data, "learner_clients": learners}
    roles = ["learner"] * learners + ["team"] * team + ["official"] * officials
    numbers = Counter()
    clients = []
    for role in roles:
        clients.append(Client(numbers[role], role, base, plan, stop, tag))
        numbers[role] += 1
    return clients


# --- Measuring ------------------------------------------------------------------------------

def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def phase_figures(name: str, start: float, end: float, samples: list, fault_at: float | None) -> dict:
    """Figures of the answers received in [start, end) (a request belongs to the phase it ended in)."""
    mine = [s for s in samples if start <= s[1] < end]
    latencies = [(s[1] - s[0]) * 1000 for s in mine]
    failures = [s for s in mine if s[3] == 0 or s[3] >= 500]
    figures = {"phase": name, "seconds": round(end - start, 1), "requests": len(mine),
               "rate": round(len(mine) / (end - start), 1) if end > start else 0.0,
               "http_5xx": sum(1 for s in mine if s[3] >= 500),
               "http_503": sum(1 for s in mine if s[3] == 503),
               "connection_errors": sum(1 for s in mine if s[3] == 0),
               "p50_ms": round(percentile(latencies, 0.50) or 0, 1), "p95_ms": round(percentile(latencies, 0.95) or 0, 1),
               "max_ms": round(max(latencies, default=0), 1)}
    if fault_at is not None:
        # Service back: the last failed request after the fault ended this long after it.
        last = max((s[1] for s in failures if s[1] >= fault_at), default=fault_at)
        figures["recovery_s"] = round(last - fault_at, 2)
    return figures


def by_kind(samples: list) -> dict:
    """Per request kind: count, failures, p50/p95 latency of the answers."""
    kinds: dict[str, list] = {}
    for sample in samples:
        kinds.setdefault(sample[2], []).append(sample)
    return {kind: {"requests": len(rows), "failed": sum(1 for r in rows if r[3] == 0 or r[3] >= 500),
                   "p50_ms": round(percentile([(r[1] - r[0]) * 1000 for r in rows], 0.5), 1),
                   "p95_ms": round(percentile([(r[1] - r[0]) * 1000 for r in rows], 0.95), 1)}
            for kind, rows in sorted(kinds.items(), key=lambda item: -len(item[1]))}


def cpu_seconds(root_pid: int) -> float:
    """CPU time used so far by a process and its children (live, and reaped ones)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in {root_pid, *children_of(root_pid)}:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15]) / tick  # utime stime cutime cstime
    return total


def kill_a_worker(server: Server) -> tuple[int, float | None]:
    """SIGKILL one gunicorn worker; (its pid, seconds until the master has replaced it)."""
    killed_at = time.monotonic()
    before = server.worker_pids()
    victim = sorted(before)[0]
    os.kill(victim, signal.SIGKILL)
    while time.monotonic() - killed_at < 30:
        now = server.worker_pids()
        if victim not in now and len(now) >= len(before):
            return victim, round(time.monotonic() - killed_at, 2)
        time.sleep(0.05)
    return victim, None


def acknowledged(crowd: list[Client]) -> dict[str, list]:
    """Every client's acknowledged writes, by the names `verify_in_app` checks them under."""
    acks = {"progress events": set(), "lessons done": set(), "quiz attempts": set(), "course completions": set(),
            "certificates (serials seen)": set(), "certificates (of completions)": set(), "registrations": set()}
    for client in crowd:
        acks["progress events"] |= client.acks.events
        acks["lessons done"] |= client.acks.lessons
        acks["quiz attempts"] |= client.acks.attempts
        acks["course completions"] |= client.acks.completions
        acks["certificates (serials seen)"] |= client.acks.certificates
        acks["certificates (of completions)"] |= client.acks.completions  # each completion issues one
        acks["registrations"] |= client.acks.registrations
    return {name: sorted(items) for name, items in acks.items()}


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def in_app(command: str, env: dict, payload: dict, tmp: Path) -> dict:
    """Run prepare/verify in a subprocess with the instance's environment (JSON in and out)."""
    source, target = tmp / f"{command}-in.json", tmp / f"{command}-out.json"
    source.write_text(json.dumps(payload))
    run([PYTHON, str(Path(__file__).resolve()), f"_{command}", str(source), str(target)], env)
    return json.loads(target.read_text())


def measure(seconds: int = 180, clients: int = 64, learners: int = 600, workers: int = 4,
            pg_port: int = PG_PORT, web_port: int = WEB_PORT, keep: bool = False, say=print) -> dict:
    """Run the whole scenario; the figures as a dict (see the module docstring)."""
    tmp = Path(tempfile.mkdtemp(prefix="lms-load-"))
    # Its own top-level folder: the server runs as the postgres user, who cannot enter `tmp`.
    pg = Postgres(Path(tempfile.mkdtemp(prefix="lms-load-pg-")), "lms_load", pg_port)
    server = None
    try:
        env = bench_env(tmp / "instance", pg.url, LMS_WORKERS=str(workers))
        say(f"PostgreSQL on {pg.url}; loading units and courses, creating {learners} learners …")
        load_reference_data(env)
        data = in_app("prepare", env, {"learners": learners}, tmp)
        server = Server("wsgi:app", web_port, env, log=tmp / "gunicorn.log")
        say(f"gunicorn on {server.url} with {len(server.worker_pids())} workers; {clients} clients for {seconds} s")
        stop = threading.Event()
        tag = f"{int(time.time()) % 100000:05d}"
        crowd = make_clients(clients, server.url, data, stop, tag)
        load_before = load_average()
        durations = {"steady": 0.4 * seconds, "worker SIGKILL": 0.3 * seconds, "PostgreSQL restart": 0.3 * seconds}
        began = time.monotonic()
        for client in crowd:
            client.start()
        marks = {"steady": (began, None)}
        cpu_before = cpu_seconds(server.process.pid), cpu_seconds(pg.postmaster_pid()), time.process_time()
        time.sleep(durations["steady"])
        cpu_after = cpu_seconds(server.process.pid), cpu_seconds(pg.postmaster_pid()), time.process_time()
        steady_cpu = {name: round((after - before) / (time.monotonic() - began), 2) for name, before, after
                      in zip(("gunicorn", "postgresql", "load clients"), cpu_before, cpu_after, strict=True)}
        kill_at = time.monotonic()
        marks["worker SIGKILL"] = (kill_at, kill_at)
        victim, replaced = kill_a_worker(server)
        time.sleep(max(0.0, durations["worker SIGKILL"] - (time.monotonic() - kill_at)))
        # Fault 2: restart PostgreSQL under the traffic.
        restart_at = time.monotonic()
        marks["PostgreSQL restart"] = (restart_at, restart_at)
        restart_seconds = pg.restart()
        time.sleep(max(0.0, durations["PostgreSQL restart"] - (time.monotonic() - restart_at)))
        ended = time.monotonic()
        stop.set()
        for client in crowd:
            client.join(timeout=RETRY_FOR_SECONDS + 60)
        load_after = load_average()
        stragglers = sum(client.is_alive() for client in crowd)
        samples = [sample for client in crowd for sample in client.samples]
        edges = [marks["steady"][0], marks["worker SIGKILL"][0], marks["PostgreSQL restart"][0], ended]
        phases = [phase_figures(name, edges[i], edges[i + 1], samples, marks[name][1])
                  for i, name in enumerate(marks)]
        tail = phase_figures("after stop", ended, float("inf"), samples, None)
        counts = sum((client.counts for client in crowd), Counter())
        retried = [kind for client in crowd for _first, kind in client.retries_ok]
        server.stop()
        server = None
        checked = in_app("verify", env, acknowledged(crowd), tmp)
        result = {
            "setup": {"clients": clients, "learner_clients": sum(c.role == "learner" for c in crowd),
                      "team_clients": sum(c.role == "team" for c in crowd),
                      "official_clients": sum(c.role == "official" for c in crowd),
                      "gunicorn_workers": workers, "gunicorn_threads": int(env.get("LMS_THREADS", 2)),
                      "learner_pool": learners, "seconds": seconds, "cpus": os.cpu_count(),
                      "load_average_before": load_before, "load_average_after": load_after,
                      "steady_cpu_cores_used": steady_cpu},
            "phases": phases, "after_stop": tail,
            "faults": {"worker_killed_pid": victim, "worker_replaced_s": replaced,
                       "postgres_restart_s": round(restart_seconds, 2)},
            "by_kind": by_kind(samples),
            "retried_then_succeeded": len(retried), "retried_by_kind": dict(Counter(retried).most_common()),
            "gave_up": sum(v for k, v in counts.items() if k.startswith("gave up")),
            "client_notes": dict(counts.most_common()), "clients_still_running": stragglers,
            **checked,
        }
        result["failures"] = failures_of(result)
        result["passed"] = not result["failures"]
        return result
    finally:
        if server is not None:
            server.stop()
        pg.stop()
        if keep:
            say(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def failures_of(result: dict) -> list[str]:
    failures = []
    steady = result["phases"][0]
    if steady["http_5xx"] or steady["connection_errors"]:
        failures.append(f"steady phase: {steady['http_5xx']} 5xx, {steady['connection_errors']} connection errors")
    for name, write in result["writes"].items():
        if write["missing"]:
            failures.append(f"{name}: {write['missing']} of {write['acknowledged']} acknowledged are not stored")
    if result["counter_differences"]:
        failures.append(f"{result['counter_differences']} statistics counters differ from the recount")
    if result["gave_up"]:
        failures.append(f"{result['gave_up']} requests still failed after {RETRY_FOR_SECONDS} s of retries")
    if result["clients_still_running"]:
        failures.append(f"{result['clients_still_running']} clients did not stop")
    if not result["writes"]["course completions"]["acknowledged"]:
        failures.append("no course was completed: the learners' journey did not work")
    return failures


def print_table(result: dict, say=print) -> None:
    setup = result["setup"]
    say(f"\n{setup['clients']} clients ({setup['learner_clients']} learners, {setup['team_clients']} team, "
        f"{setup['official_clients']} officials); gunicorn {setup['gunicorn_workers']}×{setup['gunicorn_threads']}; "
        f"{setup['cpus']} CPUs, load average {setup['load_average_before']} → {setup['load_average_after']}")
    say(f"{'phase':20} {'s':>5} {'requests':>8} {'req/s':>7} {'5xx':>5} {'503':>5} {'conn err':>8} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'back after s':>12}")
    for row in result["phases"]:
        back = f"{row['recovery_s']:.2f}" if "recovery_s" in row else "–"
        say(f"{row['phase']:20} {row['seconds']:>5.0f} {row['requests']:>8} {row['rate']:>7.1f} {row['http_5xx']:>5} "
            f"{row['http_503']:>5} {row['connection_errors']:>8} {row['p50_ms']:>7.1f} {row['p95_ms']:>7.1f} {back:>12}")
    say("CPU cores used in the steady phase: " + ", ".join(
        f"{name} {cores}" for name, cores in setup["steady_cpu_cores_used"].items()))
    say(f"{'request kind':28} {'count':>7} {'failed':>6} {'p50 ms':>7} {'p95 ms':>7}")
    for kind, row in result["by_kind"].items():
        say(f"{kind:28} {row['requests']:>7} {row['failed']:>6} {row['p50_ms']:>7.1f} {row['p95_ms']:>7.1f}")
    faults = result["faults"]
    say(f"worker {faults['worker_killed_pid']} killed, replaced after {faults['worker_replaced_s']} s; "
        f"pg_ctl restart took {faults['postgres_restart_s']} s; {result['retried_then_succeeded']} requests "
        f"succeeded on a retry, {result['gave_up']} gave up")
    say(f"{'write':32} {'acknowledged':>12} {'stored':>8} {'acknowledged, not stored':>24}")
    for name, write in result["writes"].items():
        say(f"{name:32} {write['acknowledged']:>12} {write['stored']:>8} {write['missing']:>24}")
    say(f"statistics counters differing from the recount: {result['counter_differences']}")
    for note, count in result["client_notes"].items():
        say(f"  note: {note}: {count}")
    say("PASSED" if result["passed"] else "FAILED: " + "; ".join(result["failures"]))


def record_figures(result: dict) -> None:
    """The figures of this run for the `make bench` table."""
    from bench.report import record

    steady = next(p for p in result["phases"] if p["phase"] == "steady")
    clients = result["setup"]["clients"]
    acknowledged = sum(w["acknowledged"] for w in result["writes"].values())
    missing = sum(w["missing"] for w in result["writes"].values())
    record(f"mixed load, {clients} clients: acknowledged writes missing", "0", missing, "writes",
           reference=acknowledged, met=missing == 0, note="reference: writes acknowledged")
    record(f"mixed load, {clients} clients: 5xx in the steady phase", "0", steady["http_5xx"], "answers",
           reference=steady["requests"], met=steady["http_5xx"] == 0, note="reference: requests")
    record(f"mixed load, {clients} clients: steady throughput (p95 {steady['p95_ms']:,.0f} ms)", "", steady["rate"],
           "req/s")
    record("mixed load: counters differing from a recount", "0", result["counter_differences"], "counters",
           met=result["counter_differences"] == 0)
    for phase in result["phases"]:
        if "recovery_s" in phase:
            recovered = phase["recovery_s"]
            record(f"mixed load: back after {phase['phase']}", "within seconds",
                   recovered if recovered is not None else -1, "s", met=recovered is not None and recovered < 10,
                   note=f"{phase['http_503']} answers 503 while it lasted")
    record("mixed load: clients that gave up after retrying", "0", result["gave_up"], "clients",
           met=result["gave_up"] == 0)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("_prepare", "_verify"):  # the in-app half, in its own process
        payload = json.loads(Path(argv[1]).read_text())
        out = prepare_in_app(payload["learners"]) if argv[0] == "_prepare" else verify_in_app(payload)
        Path(argv[2]).write_text(json.dumps(out))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=180, help="total traffic time (40%% steady, 30%% per fault)")
    parser.add_argument("--quick", action="store_true", help="30 seconds")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--learners", type=int, default=600, help="size of the pool of learner accounts")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("LMS_WORKERS", 4)))
    parser.add_argument("--pg-port", type=int, default=PG_PORT)
    parser.add_argument("--port", type=int, default=WEB_PORT)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, database)")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    result = measure(seconds=30 if args.quick else args.seconds, clients=args.clients, learners=args.learners,
                     workers=args.workers, pg_port=args.pg_port, web_port=args.port, keep=args.keep)
    print_table(result)
    record_figures(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
