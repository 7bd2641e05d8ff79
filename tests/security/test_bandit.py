"""Static analysis with bandit: no finding left unresolved or unjustified.

bandit runs with the configuration in pyproject.toml ([tool.bandit]: no test skipped)
over the application, the certificate renderer, the course content and wsgi.py: what
runs in production. The benchmarks (bench/) are developer tools that start servers and
subprocesses, use asserts as self-checks and random data by design; they are not
deployed and not scanned. A finding that is not a real problem is justified on its line with
`# nosec BXXX: reason`; a bare `# nosec`, or one without a reason, would silence every
check on the line and is refused here.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ["lms", "certificates", "courses", "wsgi.py"]
JUSTIFIED = re.compile(r"#\s*nosec\s+B\d{3}(?:\s*,\s*B\d{3})*:\s*\S")


def test_bandit_has_no_unjustified_finding():
    done = subprocess.run(
        [sys.executable, "-m", "bandit", "-c", "pyproject.toml", "-r", *TARGETS, "-f", "json", "-q"],
        cwd=ROOT, capture_output=True, text=True, check=False)
    report = json.loads(done.stdout)
    findings = [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}" for r in report["results"]]
    assert not findings, "resolve or justify (# nosec BXXX: reason):\n" + "\n".join(findings)
    assert not report["errors"], report["errors"]
    assert report["metrics"]["_totals"]["loc"] > 5000, "bandit scanned the code"


def test_every_nosec_names_its_check_and_a_reason():
    bare = []
    for target in TARGETS:
        path = ROOT / target
        for source in [path] if path.is_file() else sorted(path.rglob("*.py")):
            for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
                if re.search(r"#\s*nosec", line) and not JUSTIFIED.search(line):
                    bare.append(f"{source.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not bare, "\n".join(bare)
