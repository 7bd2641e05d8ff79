"""Session states kept per process on PostgreSQL (lms.accounts.session_states), for real.

The rest of the suite runs in one rolled-back transaction, where no NOTIFY is ever
delivered; here a child process gets a database of its own on the test server (the real
migrations, so the real trigger), logs a learner in, reads a lesson again and then ends the
session from another connection with plain SQL, as any write path might. The kept state
must be forgotten within a second, a change rolled back must not be heard, and when the
listener's connection is cut the pages read the database again until it is back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

URL = os.environ.get("TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(not URL.startswith("postgresql"), reason="needs TEST_DATABASE_URL (PostgreSQL)")

PROBE = r"""
import json, re, sys, time
from sqlalchemy import text
from lms import create_app
from lms.config import TestConfig
from lms.extensions import db

app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=sys.argv[1])
runner = app.test_cli_runner()
for args in (["db", "upgrade"], ["units", "load"], ["courses", "load"]):
    result = runner.invoke(args=args)
    assert result.exit_code == 0, (args, result.output, result.exception)

from lms.accounts import session_states
from lms.accounts.operations import sign_up_learner
from lms.units.queries import unit_by_code

with app.app_context():
    user = sign_up_learner(full_name="Người Thử Nghiệm", login="states1", password="correct horse 42",
                           commune=unit_by_code("commune", "00070"), village=None, consent_given=True, locale="vi")
    db.session.commit()
    user_id = user.id
    engine = db.engine

LESSON = "/courses/scam-safety/lessons/fake-police-and-officials"
client = app.test_client()
page = client.get("/login").get_data(as_text=True)
token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
assert client.post("/login", data={"csrf_token": token, "login": "states1", "password": "correct horse 42"}).status_code == 302
client.get(LESSON)  # first visit
client.get(LESSON)  # read again: the state read and kept
cookie = client.get_cookie("session").value
found = {"listening": session_states.wait_until_listening()}

from lms.accounts import session as account_session
reads = []
real_read = account_session._read_session_state

def counted_read(*args):  # the page's read of the account's state, on a raw DBAPI cursor
    reads.append(1)
    return real_read(*args)

account_session._read_session_state = counted_read

def read_again():
    reads.clear()
    other = app.test_client()
    other.set_cookie("session", cookie)
    shown = "Người Thử Nghiệm" in other.get(LESSON).get_data(as_text=True)
    return shown, len(reads)

client.get(LESSON)  # kept from here on (the read above may have raced the LISTEN)
found["kept"] = read_again()

with engine.connect() as connection:  # a change rolled back: never heard
    connection.execute(text("UPDATE users SET session_token = 'rolled-back' WHERE id = :id"), {"id": user_id})
    connection.rollback()
time.sleep(0.2)
found["after_rollback"] = read_again()

with engine.begin() as connection:  # the session ended by plain SQL from another connection
    connection.execute(text("UPDATE users SET session_token = 'ended' WHERE id = :id"), {"id": user_id})
started = time.monotonic()
while time.monotonic() - started < 5 and read_again()[0]:
    time.sleep(0.005)
found["forgotten_after_s"] = time.monotonic() - started
found["ended"] = read_again()

with engine.begin() as connection:  # the session back (for the test of the listener's loss)
    connection.execute(text("UPDATE users SET session_token = :t WHERE id = :id"),
                       {"t": re.sub("^[0-9]+:", "", app.session_interface.get_signing_serializer(app).loads(cookie)["_user_id"]),
                        "id": user_id})
time.sleep(0.2)
read_again(); found["back"] = read_again()
with engine.begin() as connection:  # what a restore sends: every kept state goes
    connection.exec_driver_sql("NOTIFY lms_sessions, 'all'")
time.sleep(0.2)
found["after_forget_all"] = [read_again(), read_again()]
with engine.begin() as connection:
    connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE query LIKE 'LISTEN lms_sessions%' AND pid <> pg_backend_pid()"))
time.sleep(0.3)
found["listener_lost"] = {"listening": session_states.states.listening, "reads": [read_again(), read_again()]}
found["relistening"] = session_states.wait_until_listening()
print(json.dumps(found))
"""


def test_kept_states_are_forgotten_when_a_session_ends(tmp_path):
    import psycopg

    server = make_url(URL)
    name = f"lms_states_{uuid.uuid4().hex[:8]}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        root = Path(__file__).resolve().parents[2]
        env = {**os.environ, "LMS_INSTANCE_DIR": str(tmp_path), "PYTHONPATH": str(root),
               "LMS_LOG_REQUESTS": "0", "LMS_LOG_LEVEL": "WARNING"}
        done = subprocess.run([sys.executable, "-c", PROBE, server.set(database=name).render_as_string(
            hide_password=False)], cwd=root, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        found = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert found["listening"]
    assert found["kept"] == [True, 0]  # the name shown, no read of the account
    assert found["after_rollback"] == [True, 0]  # nothing heard
    assert found["ended"][0] is False and found["forgotten_after_s"] < 1.0, found
    assert found["back"] == [True, 0]
    assert found["after_forget_all"] == [[True, 1], [True, 0]]  # read once, then kept again
    # The listener cut off: nothing is trusted, every page reads the account, until it is back.
    lost = found["listener_lost"]
    assert lost["listening"] is False and all(shown and reads == 1 for shown, reads in lost["reads"]), lost
    assert found["relistening"]
