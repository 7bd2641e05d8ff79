#!/usr/bin/env bash
# Until the first release, the schema is one initial migration regenerated from the
# models. After a release, add a new migration per change instead (flask db migrate).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/*_initial_schema.py
PYTHONPATH=. FLASK_APP=wsgi.py LMS_INSTANCE_DIR="$tmp" DATABASE_URL="sqlite:///$tmp/empty.sqlite3" \
  .venv/bin/flask db migrate -m "Initial schema" >/dev/null 2>&1
rm -rf "$tmp"
ls migrations/versions/
