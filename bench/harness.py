"""What the benchmarks that drive a real server share: the environment of a throw-away
instance, the schema and reference data, a gunicorn on loopback, a PostgreSQL server.

Everything runs on 127.0.0.1 and is removed afterwards; the application is always started
in a subprocess, with its settings in the environment, as in production.
"""

from __future__ import annotations

import glob
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PASSWORD = "bench password 42"


def run(cmd: list[str], env: dict) -> str:
    """Run a command in the project folder; its stdout, or CalledProcessError with stderr."""
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise subprocess.CalledProcessError(done.returncode, cmd, done.stdout, done.stderr)
    return done.stdout


def bench_env(instance_dir: Path, database_url: str = "", **extra: str) -> dict:
    """Settings of a throw-away instance: its own secrets folder and database, plain http,
    and a cheaper password hash (logins are not what these benchmarks measure)."""
    return {**os.environ, "PYTHONPATH": str(ROOT), "FLASK_APP": "wsgi.py", "LMS_INSTANCE_DIR": str(instance_dir),
            "DATABASE_URL": database_url or f"sqlite:///{instance_dir / 'bench.sqlite3'}",
            "SESSION_COOKIE_SECURE": "0", "PASSWORD_HASH_METHOD": "scrypt:4096:8:1", **extra}


def load_reference_data(env: dict) -> None:
    """Schema, official units and the course catalogue, through the real commands."""
    flask = [PYTHON, "-m", "flask"]
    for command in (["db", "upgrade"], ["units", "load"], ["courses", "load"]):
        run(flask + command, env)


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Server:
    """gunicorn (the project's gunicorn.conf.py) on a loopback port, stopped on exit."""

    def __init__(self, app: str, port: int, env: dict, log: Path | None = None):
        self.url = f"http://127.0.0.1:{port}"
        if port_in_use(port):
            raise RuntimeError(f"port {port} is already in use (a server left from another run?)")
        output = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed in stop()
        self._log = output if log else None
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", app],
            cwd=ROOT, env=env, stdout=output, stderr=output)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url + "/", timeout=5)  # noqa: S310
                return
            except OSError:  # not listening yet, or still booting
                if self.process.poll() is not None:
                    break
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{app} did not start")

    def worker_pids(self) -> set[int]:
        """Pids of the master's worker processes (gunicorn restarts a worker that dies)."""
        return children_of(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log:
            self._log.close()
            self._log = None


def children_of(pid: int) -> set[int]:
    found = set()
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == pid:
            found.add(int(Path(stat).parent.name))
    return found


class Postgres:
    """A throw-away PostgreSQL server on loopback (tools/postgres.sh), restartable."""

    def __init__(self, pgdata: Path, database: str, port: int):
        self.pgdata, self.database, self.port = Path(pgdata), database, port
        if port_in_use(port):
            raise RuntimeError(f"port {port} is already in use (a PostgreSQL left from another run?)")
        self.url = run([str(ROOT / "tools/postgres.sh"), "start", str(pgdata), database, str(port)],
                       dict(os.environ)).strip()

    def _pg_ctl(self) -> list[str]:
        pg_bin = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))[-1]
        run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return [*run_as, f"{pg_bin}/pg_ctl", "-D", str(self.pgdata), "-l", str(self.pgdata / "server.log")]

    def restart(self) -> float:
        """`pg_ctl restart -m fast` (ends every connection, rolls back open transactions);
        returns the seconds until the server accepts connections again."""
        started = time.monotonic()
        subprocess.run([*self._pg_ctl(), "-m", "fast", "-w", "restart"], check=True, capture_output=True)
        return time.monotonic() - started

    def postmaster_pid(self) -> int:
        return int((self.pgdata / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        subprocess.run([str(ROOT / "tools/postgres.sh"), "stop", str(self.pgdata)], check=False)
