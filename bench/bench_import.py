"""Bulk import of 10,000 learners (validate + import) against a naive executemany insert.

Builds a fresh SQLite database in a temporary folder, generates a CSV of 10,000 valid
rows (with phones and national ID numbers), then measures:

- reference: the same rows inserted with one plain `executemany` into a scratch table;
- import: lms.team.importer read_table + validate_rows + stage_import + commit_import.

Prints both times and their ratio. Target: the import under 10 s.

Then it issues the login cards of the 10,000 imported learners the way a member does,
one printed page of `MAX_CARDS` (500) at a time (lms.team.operations.issue_login_cards
plus rendering team/cards.html, committed per page), and prints the time per page and
in total. Target: a page of 500 cards in a few seconds (first PINs use the cheaper
salted scrypt, see lms/team/operations.py). `BENCH_CARDS=0` skips this part.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ROWS = 10_000


def make_csv(count: int) -> bytes:
    given = ["An", "Bình", "Cường", "Dung", "Hoà", "Lan", "Minh", "Nga", "Phúc", "Tâm"]
    family = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"]
    middle = ["Văn", "Thị", "Hữu", "Đức", "Ngọc", "Minh", "Quang", "Thanh", "Xuân", "Kim"]
    second = ["Anh", "Bảo", "Gia", "Hải", "Khánh", "Mai", "Như", "Phương", "Thu", "Yến"]
    lines = ["Họ và tên,Năm sinh,Giới tính,Số điện thoại,Số CCCD,Thôn/Tổ dân phố"]
    for i in range(count):
        year = 1940 + i % 60
        female = i % 2
        sex = "Nữ" if female else "Nam"
        number = f"001{female}{year % 100:02d}{i:06d}"
        name = f"{family[i // 1000 % 10]} {middle[i // 100 % 10]} {second[i // 10 % 10]} {given[i % 10]}"
        lines.append(f"{name},{year},{sex},09{i:08d},{number},")
    return ("\n".join(lines) + "\n").encode()


def reference(data: bytes, folder: Path) -> float:
    rows = [line.split(",") for line in data.decode().splitlines()[1:]]
    start = time.perf_counter()
    conn = sqlite3.connect(folder / "reference.sqlite3")
    conn.execute("CREATE TABLE t (name TEXT, year INT, sex TEXT, phone TEXT, nid TEXT, village TEXT)")
    conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    return time.perf_counter() - start


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    os.environ["LMS_INSTANCE_DIR"] = str(folder)
    from lms import create_app
    from lms.config import TestConfig

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'bench.sqlite3'}")
    with app.app_context():
        from flask_migrate import upgrade

        from lms.accounts.operations import create_staff
        from lms.extensions import db
        from lms.team import importer
        from lms.units.operations import load_official_units
        from lms.units.queries import unit_by_code

        upgrade()
        load_official_units()
        commune = unit_by_code("commune", "00070")
        member = create_staff(role="team_member", unit=commune, username="bench", password="bench password 42",
                              display_name="Bench")
        db.session.commit()
        data = make_csv(ROWS)
        ref = reference(data, folder)
        with app.test_request_context():
            start = time.perf_counter()
            table = importer.read_table("bench.csv", data)
            validated = importer.validate_rows(table, commune=commune, villages=[], allowed_village_ids=None,
                                               this_year=2026)
            staged = importer.stage_import(member, commune, "bench.csv", validated)
            db.session.commit()
            mid = time.perf_counter()
            created = importer.commit_import(staged, member, "vi")
            db.session.commit()
            end = time.perf_counter()
        assert created == ROWS, (created, validated.problems[:3])
        cards = pages = None
        if os.environ.get("BENCH_CARDS", "1") != "0":
            cards, pages = issue_cards(app, member, staged.id)
    print(f"rows: {ROWS}")
    print(f"reference executemany: {ref:.3f} s")
    print(f"validate + stage: {mid - start:.3f} s; import: {end - mid:.3f} s; total {end - start:.3f} s")
    print(f"ratio (import / reference): {(end - start) / ref:.1f}x; target total < 10 s: "
          f"{'OK' if end - start < 10 else 'MISSED'}")
    from bench.report import record

    record(f"import {ROWS:,} rows (check + register, SQLite)", "< 10 s", round(end - start, 2), "s",
           reference=round(ref, 3), ratio=round((end - start) / ref, 1), met=end - start < 10,
           note="reference: plain executemany of the same rows")
    if cards is not None:
        worst = max(pages)
        record("login cards, slowest page of 500", "< 10 s", round(worst, 2), "s", met=worst < 10)
        print(f"login cards: {ROWS} in {len(pages)} pages of at most 500: {cards:.3f} s in total, "
              f"{cards / len(pages):.3f} s per page on average, slowest page {worst:.3f} s; "
              f"target a page < 10 s: {'OK' if worst < 10 else 'MISSED'}")


def issue_cards(app, member, import_id: int) -> tuple[float, list[float]]:
    """Print every card of the import, a page at a time, as the import result page does."""
    from flask import render_template
    from flask_login import login_user

    from lms.extensions import db
    from lms.team import operations, queries
    from lms.team.models import LearnerImport
    from lms.team.views import _card_texts

    ids = db.session.get(LearnerImport, import_id).payload["learner_ids"]
    pages: list[float] = []
    with app.test_request_context():
        login_user(member)
        while True:
            start = time.perf_counter()
            chosen, _total = queries.without_card_among(member, ids, operations.MAX_CARDS)
            if not chosen:
                break
            batch = operations.issue_login_cards(chosen, by=member, unit_id=member.scope_unit_id, source="import")
            body = render_template("team/cards.html", cards=batch.cards, batch=batch, remaining=0, back="/",
                                   vi=_card_texts(), other=None, site="http://localhost/login")
            db.session.commit()
            pages.append(time.perf_counter() - start)
            assert body.count('class="card-pin"') == len(batch.cards)
    return sum(pages), pages


if __name__ == "__main__":
    main()
