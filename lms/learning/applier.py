"""A worker's background applier of stored progress events (`PROGRESS_APPLY = "background"`).

One daemon thread per worker process, started on the first `wake()` in that process
(so a gunicorn fork gets its own), sleeping until a request stores events or until
`SWEEP_SECONDS` pass. Each round applies what waits, oldest first, `GROUP_SIZE` events
a transaction, until nothing waits. Under load events keep arriving while a round
works, so the next group is larger: the fixed cost of a transaction is shared by more
batches the busier the server is.

Nothing is lost if a worker dies: its events are already committed in the log, and the
next round of any worker (at the latest after `SWEEP_SECONDS`), the learner's own
`GET /api/v1/me/progress`, or `flask learning apply-progress` applies them. A round
that fails (the database away, a lock timeout) is rolled back and tried again later;
each event is marked applied in the transaction that writes its effect, so it is
applied once.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from flask import Flask

from lms.extensions import db
from lms.learning import progress_log

EXTENSION = "lms.progress_applier"
SWEEP_SECONDS = 5.0
RETRY_SECONDS = 1.0
GATHER_SECONDS = 0.01  # after a wake-up, let a few more batches arrive: one transaction for them all
PAUSE_SECONDS = 0.02
MAX_PAUSES = 25
# On SQLite a group holds the one writer's lock while it is applied (about 0.05 ms an
# event): smaller groups let the requests' short writes in between.
SQLITE_GROUP_SIZE = 400

log = logging.getLogger(__name__)


def drain(limit: int = progress_log.GROUP_SIZE, *, learner_id: int | None = None) -> int:
    """Apply every waiting event, a group a transaction; returns how many were applied.

    Events of a learner another worker's applier holds (PostgreSQL) are left to it; if
    some still wait when the queue looks empty, a few short pauses give it time to
    finish, then this takes what it left."""
    total = pauses = 0
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    if sqlite:
        limit = min(limit, SQLITE_GROUP_SIZE)
    while True:
        if sqlite and not _waiting_seen_by_a_reader(learner_id):
            return total  # nothing to do: no writer's lock taken for it
        try:
            taken = progress_log.apply_pending(limit=limit, learner_id=learner_id)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        total += taken
        if taken >= limit or sqlite:
            continue  # (SQLite: the reader's look above decides when it is done)
        more = progress_log.has_waiting(learner_id)
        db.session.rollback()  # the look was a read
        if pauses >= MAX_PAUSES or not more:
            return total
        pauses += 1
        time.sleep(PAUSE_SECONDS)


def _waiting_seen_by_a_reader(learner_id: int | None) -> bool:
    """Whether events wait, read without the writer's lock (SQLite: every worker's
    applier wakes after its own requests, and most find the queue already drained)."""
    if db.session().in_transaction():  # the caller's own work in progress: ask inside it
        return progress_log.has_waiting(learner_id)
    db.session.connection(execution_options={"sqlite_begin": "DEFERRED"})
    try:
        return progress_log.has_waiting(learner_id)
    finally:
        db.session.commit()  # a read: ends the snapshot, writes nothing


class BackgroundApplier:
    def __init__(self, app: Flask):
        self.app = app
        self._wanted = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self.rounds = 0
        self.applied = 0
        self.largest_round = 0  # events applied in the busiest round: how far grouping went

    def wake(self) -> None:
        """Ask for a round soon (after a commit that stored events)."""
        if not self._running():
            with self._lock:
                if not self._running():
                    self._wanted = threading.Event()  # a forked copy's event belongs to the parent's thread
                    self._pid = os.getpid()
                    self._thread = threading.Thread(target=self._run, name="progress-applier", daemon=True)
                    self._thread.start()
        self._wanted.set()

    def _running(self) -> bool:
        return self._thread is not None and self._pid == os.getpid() and self._thread.is_alive()

    def _run(self) -> None:
        while True:
            if self._wanted.wait(SWEEP_SECONDS):
                time.sleep(GATHER_SECONDS)
            self._wanted.clear()
            with self.app.app_context():
                try:
                    applied = drain()
                    self.applied += applied
                    self.rounds += 1
                    self.largest_round = max(self.largest_round, applied)
                except Exception:  # the database away or busy: the events wait in the log
                    log.exception("applying stored progress events failed; trying again")
                    time.sleep(RETRY_SECONDS)
                    self._wanted.set()
                finally:
                    db.session.remove()


def init_app(app: Flask) -> None:
    if app.config.get("PROGRESS_APPLY", progress_log.APPLY_IN_REQUEST) == progress_log.APPLY_IN_BACKGROUND:
        app.extensions[EXTENSION] = BackgroundApplier(app)


def wake(app: Flask) -> None:
    applier = app.extensions.get(EXTENSION)
    if applier is not None:
        applier.wake()
