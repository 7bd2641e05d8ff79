"""What the data-quality flags cost: the write paths with the checks on and off, and the
dashboards with the flagged-learner count, alternated in the same run.

Builds a fresh SQLite database in a temporary folder (or uses --database-url, e.g. a
PostgreSQL from tools/postgres.sh), then, in rounds that alternate "off" (the checks
switched off with `set_flagging(app, False)`: today's write path) and "on":

- completion: a learner completes a course (every lesson, then the quiz), one commit
  per step as the pages do; with a helper, so the helper check runs too. Every one of
  these completions is flagged (fast course and fast quiz): the worst case, flags written;
- registration: a team member registers one learner (duplicate check at commit);
- import: a file of 2,100 rows with sequential phones confirmed (duplicates checked and,
  the rows looking generated, 2,100 flags written: the worst case again).

Target: "on" at most 10 % slower than "off" (median of the rounds).

Then dashboards (nation, province, commune pages as a national administrator, p95 of
`--pages` loads) with `--flags` flagged learners spread over one province, against the
same pages with the count switched off (the page as before this change), alternated.
Target: the count adds little, and the pages stay within docs/performance.md's 10 ms.

    python bench/bench_quality.py [--rounds 5] [--import-rounds 5] [--only import] [--flags 20000]
                                  [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import record  # noqa: E402

COMPLETIONS = 4  # per round and mode
REGISTRATIONS = 20
IMPORT_ROWS = 2_100


def csv_rows(count: int, offset: int, *, generated: bool = True) -> bytes:
    """`generated`: phones one after another (every row flagged); else scattered phones."""
    given = ["An", "Bình", "Cường", "Dung", "Hoà", "Lan", "Minh", "Nga", "Phúc", "Tâm"]
    family = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"]
    middle = ["Văn", "Thị", "Hữu", "Đức", "Ngọc", "Minh", "Quang", "Thanh", "Xuân", "Kim"]
    second = ["Anh", "Bảo", "Gia", "Hải", "Khánh", "Mai", "Như", "Phương", "Thu", "Yến"]
    lines = ["Họ và tên,Năm sinh,Giới tính,Số điện thoại,Số định danh cá nhân,Thôn/Tổ dân phố"]
    for n in range(count):
        i = offset + n
        year = 1940 + (i + i // 10_000) % 60  # with the names (every 10,000 rows): no repeat for 600,000 rows
        name = f"{family[i // 1000 % 10]} {middle[i // 100 % 10]} {second[i // 10 % 10]} {given[i % 10]}"
        phone = f"09{i:08d}" if generated else f"03{(i * 7919 + 12345) % 10**8:08d}"  # 7919 is prime: no repeats
        lines.append(f"{name},{year},{'Nữ' if i % 2 else 'Nam'},{phone},,")
    return ("\n".join(lines) + "\n").encode()


class Bench:
    def __init__(self, app, db):
        from lms.accounts.operations import create_staff
        from lms.learning.models import Course
        from lms.units.queries import unit_by_code

        self.app, self.db = app, db
        self.commune = unit_by_code("commune", "00070")
        self.member = create_staff(role="team_member", unit=self.commune, username="bench-member",
                                   password="bench password 42", display_name="Bench")
        db.session.commit()
        self.course = db.session.scalar(db.select(Course).where(Course.slug == "scam-safety"))
        self.serial = 0

    def _next(self) -> int:
        self.serial += 1
        return self.serial

    def completion(self) -> None:
        from lms.accounts.operations import sign_up_learner
        from lms.learning.operations import complete_lesson, submit_quiz

        db = self.db
        user = sign_up_learner(full_name="Học Viên Bench", login=f"bench{self._next()}", password="bench password 42",
                               commune=self.commune, village=None, consent_given=True, locale="vi")
        db.session.commit()
        learner = user.learner
        start = time.perf_counter()
        for lesson in self.course.lessons:
            complete_lesson(learner, lesson, helper=self.member)
            db.session.commit()
        answers = {q.key: sorted(q.correct_indexes) for q in _questions(self.course)}
        submit_quiz(learner, self.course, answers, helper=self.member)
        db.session.commit()
        return time.perf_counter() - start

    def registration(self) -> float:
        from lms.team.operations import register_learner

        n = self._next()
        start = time.perf_counter()
        given = ["An", "Bình", "Cường", "Dung", "Hoà", "Lan", "Minh", "Nga", "Phúc", "Tâm"]
        register_learner(self.member, commune=self.commune, village=None,
                         full_name=f"Lê {given[n // 100 % 10]} {given[n // 10 % 10]} {given[n % 10]}",
                         birth_year=1930 + n // 1000 % 70, sex="female", phone=None, national_id=None, consent_given=True,
                         locale="vi", register_anyway=True)
        self.db.session.commit()
        return time.perf_counter() - start

    def import_file(self, offset: int, generated: bool = True) -> float:
        from lms.team import importer

        table = importer.read_table("bench.csv", csv_rows(IMPORT_ROWS, offset, generated=generated))
        validated = importer.validate_rows(table, commune=self.commune, villages=[], allowed_village_ids=None,
                                           this_year=2026)
        staged = importer.stage_import(self.member, self.commune, "bench.csv", validated)
        self.db.session.commit()
        start = time.perf_counter()
        created = importer.commit_import(staged, self.member, "vi")
        self.db.session.commit()
        assert created == IMPORT_ROWS, created
        return time.perf_counter() - start


def _questions(course):
    from lms.learning.operations import active_questions

    return active_questions(course)


def alternate(app, rounds: int, measure, label: str) -> dict[str, list[float]]:
    from sqlalchemy import event

    from lms.extensions import db
    from lms.quality.operations import set_flagging

    times: dict[str, list[float]] = {"off": [], "on": []}
    cpu: dict[str, list[float]] = {"off": [], "on": []}
    statements = {"off": 0, "on": 0}
    seen = []

    def count(*_args) -> None:
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    for round_number in range(rounds):
        order = ("off", "on") if round_number % 2 == 0 else ("on", "off")
        for mode in order:
            set_flagging(app, mode == "on")
            seen.clear()
            started = time.process_time()
            times[mode].append(measure())
            cpu[mode].append(time.process_time() - started)
            statements[mode] += len(seen)
    event.remove(db.engine, "before_cursor_execute", count)
    set_flagging(app, True)
    print(f"{label}: SQL statements off {statements['off'] / rounds:.0f}, on {statements['on'] / rounds:.0f} a round")
    off, on = statistics.median(times["off"]), statistics.median(times["on"])
    print(f"{label}: off {off * 1000:.1f} ms, on {on * 1000:.1f} ms, ratio {on / off:.3f} "
          f"(off {min(times['off']) * 1000:.1f}–{max(times['off']) * 1000:.1f}, "
          f"on {min(times['on']) * 1000:.1f}–{max(times['on']) * 1000:.1f})")
    record(f"quality flags: {label}, checks on vs off", "≤ 1.10×", round(on * 1000, 2), "ms",
           reference=round(off * 1000, 2), ratio=round(on / off, 3), met=on / off <= 1.10)
    # CPU time of this process: what the checks cost, without the other sessions' load on the disk.
    cpu_off, cpu_on = statistics.median(cpu["off"]), statistics.median(cpu["on"])
    print(f"{label}: CPU off {cpu_off * 1000:.1f} ms, on {cpu_on * 1000:.1f} ms, ratio {cpu_on / cpu_off:.3f}")
    # Each round's own on/off ratio (the two ran next to each other): the drift of a growing
    # database and of the machine cancels within a round; median and middle half of them.
    for name, series in (("wall", times), ("CPU", cpu)):
        paired = sorted(on_ / off_ for on_, off_ in zip(series["on"], series["off"], strict=True))
        quarter = len(paired) // 4
        print(f"{label}: {name} ratio of each round: median {statistics.median(paired):.3f}, middle half "
              f"{paired[quarter]:.3f}–{paired[-1 - quarter]:.3f}, all {paired[0]:.3f}–{paired[-1]:.3f}")
    record(f"quality flags: {label}, CPU time, checks on vs off", "≤ 1.10×", round(cpu_on * 1000, 2), "ms",
           reference=round(cpu_off * 1000, 2), ratio=round(cpu_on / cpu_off, 3), met=cpu_on / cpu_off <= 1.10)
    return times


def seed_flags(db, count: int) -> None:
    """`count` learners spread over the communes of Hà Nội, each with one open flag."""
    from sqlalchemy import insert, select

    from lms.db import utcnow
    from lms.learners.models import Learner
    from lms.quality.models import FAST_COURSE, QualityFlag
    from lms.units.models import Unit
    from lms.units.queries import unit_by_code

    province = unit_by_code("province", "01")
    communes = db.session.scalars(select(Unit.id).where(Unit.level == "commune",
                                                        Unit.province_id == province.id)).all()
    now = utcnow()
    ids = db.session.scalars(insert(Learner).returning(Learner.id, sort_by_parameter_order=True), [
        {"full_name": "Bench", "name_folded": "bench", "name_sort_key": "bench", "birth_year": 1970,
         "province_id": province.id, "commune_id": communes[i % len(communes)], "registered_dt": now,
         "is_deleted": False} for i in range(count)]).all()
    db.session.execute(insert(QualityFlag), [
        {"kind": FAST_COURSE, "learner_id": learner_id, "subject": "course:1", "reason": {},
         "province_id": province.id, "commune_id": communes[i % len(communes)], "village_id": None,
         "status": "open", "created_dt": now} for i, learner_id in enumerate(ids)])
    db.session.commit()


def dashboards(app, db, pages: int, rounds: int) -> None:
    from lms.accounts.operations import create_staff
    from lms.quality import queries as quality_queries
    from lms.statistics import views as statistics_views
    from lms.units.operations import ensure_nation
    from lms.units.queries import unit_by_code

    nation = ensure_nation()
    create_staff(role="national_admin", unit=nation, username="bench-admin", password="bench password 42",
                 display_name="Bench")
    db.session.commit()
    units = {"nation": nation.id, "province": unit_by_code("province", "01").id,
             "commune": unit_by_code("commune", "00070").id}
    db.session.commit()  # this context's transaction (BEGIN IMMEDIATE outside requests) must not block the pages
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
    assert client.post("/login", data={"csrf_token": token, "login": "bench-admin",
                                       "password": "bench password 42"}).status_code == 302
    real = statistics_views.flagged_counts
    for level, unit_id in units.items():
        url = f"/statistics/units/{unit_id}"
        for _ in range(5):
            client.get(url)
        p95: dict[str, list[float]] = {"off": [], "on": []}
        for round_number in range(rounds):
            for mode in (("off", "on") if round_number % 2 == 0 else ("on", "off")):
                statistics_views.flagged_counts = real if mode == "on" else (
                    lambda unit: quality_queries.FlaggedCounts())
                times = []
                for _ in range(pages):
                    start = time.perf_counter()
                    assert client.get(url).status_code == 200
                    times.append(time.perf_counter() - start)
                p95[mode].append(statistics.quantiles(times, n=20)[-1])
        statistics_views.flagged_counts = real
        off, on = statistics.median(p95["off"]), statistics.median(p95["on"])
        print(f"dashboard {level} page p95: without the count {off * 1000:.2f} ms, with it {on * 1000:.2f} ms "
              f"(on {min(p95['on']) * 1000:.2f}–{max(p95['on']) * 1000:.2f})")
        record(f"dashboard {level} page p95 with the flagged count ({db.engine.dialect.name})", "≤ 10 ms",
               round(on * 1000, 2), "ms", reference=round(off * 1000, 2), ratio=round(on / off, 3), met=on <= 0.010)
        from lms.units.models import Unit

        unit = db.session.get(Unit, unit_id)
        quality_queries.forget_flagged_counts()
        start = time.perf_counter()
        counted = quality_queries.flagged_counts(unit)
        print(f"  flagged_counts({level}) = {counted.total}: the query alone (not kept) "
              f"{(time.perf_counter() - start) * 1000:.2f} ms")
        db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--flags", type=int, default=20_000)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--import-rounds", type=int, default=5)
    parser.add_argument("--only", choices=["completion", "registration", "import", "dashboards"], default=None)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-quality-"))
    os.environ["LMS_INSTANCE_DIR"] = str(folder)
    from lms import create_app
    from lms.config import TestConfig

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}",
                     PASSWORD_HASH_METHOD="scrypt:4096:8:1")
    with app.app_context():
        from flask_migrate import upgrade

        from lms.extensions import db
        from lms.learning.content import sync_courses
        from lms.units.operations import load_official_units

        upgrade()
        load_official_units()
        sync_courses(app.config["COURSES_DIR"])
        db.session.commit()
        bench = Bench(app, db)
        print(f"engine: {db.engine.dialect.name}")
        if args.only in (None, "completion"):
            alternate(app, args.rounds, lambda: sum(bench.completion() for _ in range(COMPLETIONS)),
                      f"{COMPLETIONS} course completions with a helper")
        if args.only in (None, "registration"):
            alternate(app, args.rounds, lambda: sum(bench.registration() for _ in range(REGISTRATIONS)),
                      f"{REGISTRATIONS} registrations")
        if args.only in (None, "import"):
            offsets = iter(range(0, 10**7, IMPORT_ROWS))
            alternate(app, args.import_rounds, lambda: bench.import_file(next(offsets), generated=False),
                      f"import of {IMPORT_ROWS:,} rows, none flagged")
            alternate(app, args.import_rounds, lambda: bench.import_file(next(offsets)),
                      f"import of {IMPORT_ROWS:,} rows with sequential phones, every row flagged")
        if args.only in (None, "dashboards"):
            seed_flags(db, args.flags)
            dashboards(app, db, args.pages, args.rounds)


if __name__ == "__main__":
    main()
