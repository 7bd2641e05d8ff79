"""A second reference for progress batches: the least a durable batch can cost here.

The same request as POST /api/v1/progress (bearer token, 5 events as JSON), answered by
the leanest code that still stores it durably: Flask, one token lookup, one multi-row
INSERT … ON CONFLICT DO NOTHING into the real `progress_events` table, COMMIT; SQLAlchemy
Core on the application's database, served by the same gunicorn configuration. No
progress summary, no enrolment, no validation beyond the token. What the application
does on top of this is what its ratio to this floor measures.
"""

import hashlib
import os
from datetime import UTC, datetime

from flask import Flask, jsonify, request
from sqlalchemy import create_engine, text

app = Flask(__name__)
engine = create_engine(os.environ["DATABASE_URL"], pool_size=10, pool_pre_ping=True)
LOOKUP = text("SELECT learners.id FROM api_tokens JOIN learners ON learners.user_id = api_tokens.user_id "
              "WHERE api_tokens.token_hash = :hash AND api_tokens.revoked_dt IS NULL")
INSERT = text("INSERT INTO progress_events (learner_id, client_event_id, lesson_id, kind, progress, seconds, "
              "occurred_dt, received_dt) VALUES (:learner, :id, :lesson, :kind, :progress, :seconds, :now, :now) "
              "ON CONFLICT DO NOTHING")


@app.get("/")
def hello():
    return "ok"


@app.post("/api/v1/progress")
def record_progress():
    events = request.get_json()["events"]
    secret = request.headers.get("Authorization", "").removeprefix("Bearer ")
    now = datetime.now(UTC)
    with engine.begin() as connection:
        learner = connection.execute(LOOKUP, {"hash": hashlib.sha256(secret.encode()).hexdigest()}).scalar()
        if learner is None:
            return jsonify(error="token-invalid"), 401
        connection.execute(INSERT, [{"learner": learner, "id": e["id"], "lesson": e["lesson_id"], "kind": e["kind"],
                                     "progress": e.get("progress"), "seconds": e.get("seconds"), "now": now}
                                    for e in events])
    return jsonify(results=[{"id": e["id"], "status": "stored"} for e in events])
