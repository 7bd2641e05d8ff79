"""Accounts' session states kept per process on PostgreSQL, forgotten the moment they change.

The lesson page read again checks that its cookie's session has not ended (one read of
the account's session token by primary key, `lms.accounts.session._session_state`). On
SQLite that read is a lookup in a local file; on PostgreSQL it is a round trip to the
server, which halved the page's throughput (docs/performance.md). So on PostgreSQL each
server process keeps the states it has read, and a listener thread hears of every change:
a trigger on `users` (migration 7b3e5d1c9a42) sends `NOTIFY lms_sessions, '<user id>'`
whenever a row's session token, active flag or PIN mark is written, or the row is
deleted. NOTIFY is transactional: it is delivered when the change commits, never for a
change rolled back; every write path (ORM, Core, CLI, SQL by hand) fires the trigger.

What keeps it right:
- a state is kept only while the listener is connected and listening, and all kept
  states are forgotten when it (re)connects: nothing survives a time it might have missed;
- a state read before a change but kept after the change's notice arrived would be stale:
  each notice moves a generation counter, and a read is kept only if the counter did not
  move while it ran;
- nothing is kept if the trigger is not there (a database not made by the migrations);
- a kept state is used for at most `KEEP_SECONDS` even if no notice comes.
Between a change's commit and its notice reaching a process (a millisecond on one host) a
page read again in that process may still show the name: the same as a page that began
just before the logout.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from lms import cache

CHANNEL = "lms_sessions"
FORGET_ALL = "all"  # the payload after a restore: every kept state goes
# A backstop only (every change is heard): long enough that a learner reading a lesson a
# minute costs one read of their state in a quarter of an hour.
KEEP_SECONDS = 15 * 60.0
TRIGGER = "users_session_changed"
MAX_ENTRIES = 100_000  # about 15 MB per process at most
RECONNECT_SECONDS = 2.0

log = logging.getLogger(__name__)


class SessionStates:
    """The kept states of one process and its listener."""

    def __init__(self) -> None:
        self.store = cache.NamedCache("session_states", maxsize=MAX_ENTRIES, ttl=KEEP_SECONDS, why=(
            "accounts' session state (token, active, PIN pending), PostgreSQL only: forgotten on the trigger's "
            "NOTIFY, all of it when the listener reconnects, and after KEEP_SECONDS at most"))
        self.generation = 0
        self.listening = False
        self._lock = threading.Lock()
        self._owner_pid: int | None = None
        self._dsn: str | None = None
        self._stop = threading.Event()

    # -- the page's side ------------------------------------------------------------------

    def get(self, user_id: int):
        """The kept state, or None (not kept, or not listening)."""
        return self.store.get(user_id) if self.listening else None

    def begin_read(self) -> int | None:
        """The generation before a read of the database; None: do not keep what it finds."""
        return self.generation if self.listening else None

    def keep(self, user_id: int, state, generation: int | None) -> None:
        if generation is None or state is None:
            return
        with self._lock:
            if self.listening and self.generation == generation:
                self.store.set(user_id, tuple(state))

    # -- the listener ---------------------------------------------------------------------

    def start(self, dsn: str) -> None:
        """Start this process's listener (once per process: a forked worker starts its own)."""
        pid = os.getpid()
        if self._owner_pid == pid:
            return
        with self._lock:
            if self._owner_pid == pid:
                return
            self._owner_pid, self._dsn, self.listening = pid, dsn, False
            self._stop.clear()
            self.store.clear()
            threading.Thread(target=self._run, name="lms-session-states", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self.listening = False

    def forget(self, user_id: int) -> None:
        with self._lock:
            self.generation += 1
            self.store.pop(user_id)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True, connect_timeout=5) as connection:
                    if connection.execute("SELECT 1 FROM pg_trigger WHERE tgname = %s", (TRIGGER,)).fetchone() is None:
                        log.warning("no %s trigger: session states are read every time", TRIGGER)
                        return
                    connection.execute(f"LISTEN {CHANNEL}")
                    with self._lock:  # from here every change is heard; what was kept before may be old
                        self.generation += 1
                        self.store.clear()
                        self.listening = True
                    while not self._stop.is_set():
                        for notice in connection.notifies(timeout=1.0):
                            self._heard(notice.payload)
            except Exception:  # noqa: BLE001 - any failure: stop trusting, reconnect
                log.warning("session-state listener lost its connection; reading every state until it is back")
            with self._lock:
                self.listening = False
                self.generation += 1
                self.store.clear()
            self._stop.wait(RECONNECT_SECONDS)

    def _heard(self, payload: str) -> None:
        if payload.isdigit():
            self.forget(int(payload))
        else:  # FORGET_ALL, or anything unknown: forget everything
            with self._lock:
                self.generation += 1
                self.store.clear()


states = SessionStates()
cache.register(states.store)


def wait_until_listening(seconds: float = 10.0) -> bool:
    """For tests and the benchmark: True once this process's listener is listening."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if states.listening:
            return True
        time.sleep(0.01)
    return states.listening
