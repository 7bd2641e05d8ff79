"""The background applier for real: a worker's thread, its own SQLite file, phones at once.

The rest of the suite runs in one rolled-back transaction, which a second thread cannot
share; here a child process builds a database of its own (the real migrations, units
and courses), runs the app with `PROGRESS_APPLY = "background"` and sends batches from
four threads at once, some twice. Every answer must say `accepted`; then, within
seconds and with no request asking, every event must be applied exactly once: each
learner's lessons complete with the reading time sent (not doubled by the retries),
`/api/v1/me/progress` agrees, nothing waits, and the counters equal a recount.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, sys, threading, time
from sqlalchemy import func, select
from lms import create_app
from lms.config import TestConfig
from lms.extensions import db

app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite:///" + sys.argv[1], PROGRESS_APPLY="background")
runner = app.test_cli_runner()
for args in (["db", "upgrade"], ["units", "load"], ["courses", "load"]):
    result = runner.invoke(args=args)
    assert result.exit_code == 0, (args, result.output, result.exception)

from lms.accounts.operations import sign_up_learner
from lms.api.auth import issue_token
from lms.learning.applier import EXTENSION
from lms.learning.models import Enrollment, LessonProgress, ProgressEvent
from lms.learning.queries import course_by_slug
from lms.statistics.recount import compare
from lms.units.queries import unit_by_code

with app.app_context():
    commune = unit_by_code("commune", "00070")
    learners = []
    for n in range(12):
        user = sign_up_learner(full_name="Người Học " + "ABCDEFGHIJKL"[n], login=f"phone{n}", password="correct horse 42",
                               commune=commune, village=None, consent_given=True, locale="vi")
        learners.append((user.learner.id, issue_token(user, "phone")))
    lessons = [lesson.id for lesson in course_by_slug("scam-safety").lessons]
    db.session.commit()

statuses, failures = [], []

def phone(token, number):
    client = app.test_client()
    headers = {"Authorization": "Bearer " + token}
    events = ([{"id": f"p{number}-half-{i}", "lesson_id": lesson, "kind": "progress", "progress": 50, "seconds": 30}
               for i, lesson in enumerate(lessons)]
              + [{"id": f"p{number}-done-{i}", "lesson_id": lesson, "kind": "complete", "seconds": 30}
                 for i, lesson in enumerate(lessons)])
    for start in range(0, len(events), 4):
        batch = {"events": events[start:start + 4]}
        for _ in range(2 if start % 8 == 0 else 1):  # every other batch sent twice: its answer was lost
            response = client.post("/api/v1/progress", json=batch, headers=headers)
            if response.status_code != 200:
                failures.append(response.status_code)
            else:
                statuses.extend(r["status"] for r in response.get_json()["results"])

threads = []
for n, (_, token) in enumerate(learners):
    threads.append(threading.Thread(target=phone, args=(token, n)))
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()

deadline = time.monotonic() + 60
with app.app_context():
    while db.session.scalar(select(func.count()).select_from(ProgressEvent).where(ProgressEvent.applied_dt.is_(None))):
        assert time.monotonic() < deadline, "events still waiting after 60 s"
        db.session.rollback()
        time.sleep(0.05)
    db.session.rollback()
    rows = db.session.execute(select(LessonProgress.learner_id, func.count(), func.sum(LessonProgress.time_spent_seconds),
                                     func.count(LessonProgress.completed_dt)).group_by(LessonProgress.learner_id)).all()
    enrolled = db.session.scalar(select(func.count()).select_from(Enrollment))
    events = db.session.scalar(select(func.count()).select_from(ProgressEvent))
    differences = compare()
applier = app.extensions[EXTENSION]
me = app.test_client().get("/api/v1/me/progress", headers={"Authorization": "Bearer " + learners[0][1]}).get_json()
print(json.dumps({"statuses": sorted(set(statuses)), "failures": failures, "lessons": len(lessons),
                  "rows": sorted([list(r[1:]) for r in rows]), "learners": len(rows), "enrolled": enrolled,
                  "events": events, "differences": len(differences), "applied": applier.applied,
                  "rounds": applier.rounds, "me": [(c["lessons_done"], c["lessons_total"]) for c in me["courses"]]}))
"""


def test_phones_syncing_at_once_are_applied_in_the_background_exactly_once(tmp_path):
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "LMS_INSTANCE_DIR": str(tmp_path / "instance"),
           "LMS_LOG_LEVEL": "WARNING", "LMS_LOG_REQUESTS": "0"}
    done = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "lms.sqlite3")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    lessons = found["lessons"]
    assert found["failures"] == []
    assert found["statuses"] == ["accepted", "duplicate"]  # nothing applied in a request
    assert found["events"] == 12 * 2 * lessons  # every event stored once, retries included
    assert found["applied"] == found["events"] and found["rounds"] >= 1
    # Each learner: every lesson complete, 30 s twice (the retried batches not counted again).
    assert found["learners"] == 12
    assert found["rows"] == [[lessons, 60 * lessons, lessons]] * 12
    assert found["enrolled"] == 12
    assert found["me"] == [[lessons, lessons]]
    assert found["differences"] == 0
