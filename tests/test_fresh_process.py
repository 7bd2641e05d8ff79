"""What a fresh gunicorn worker sees: no mapper configured by earlier tests."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_login_loader_works_in_a_fresh_process(tmp_path):
    script = (
        "from lms import create_app\n"
        "from lms.config import TestConfig\n"
        f"app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI='sqlite:///{tmp_path}/x.sqlite3')\n"
        "from lms.accounts.models import User\n"
        "from sqlalchemy.orm import joinedload\n"
        "joinedload(User.learner)  # what the session loader does on every request\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.stdout.strip() == "ok", done.stderr[-2000:]
