"""Large imports answer with a page streamed while the work advances (progress lines),
still all rows or none."""

import re

from bench.bench_import import make_csv
from lms.extensions import db
from lms.team import importer
from lms.team.models import IMPORTED, PENDING, LearnerImport
from tests.team.test_import import _confirm, _count, _upload

ROWS = importer.STREAM_FROM_ROWS + 500
PROGRESS = re.compile(r'<progress max="100" value="(\d+)">')


def _streamed(response):
    assert response.status_code == 200
    chunks = [chunk.decode() for chunk in getattr(response, "streamed_chunks", [])]  # as sent
    assert chunks, "not streamed"
    return chunks, "".join(chunks)


def _staged_id(body: str) -> int:
    match = re.search(r'url=/team/import/(\d+)"', body)
    assert match, body[-2000:]
    return int(match.group(1))


def test_large_upload_shows_progress_then_the_preview(client, team):
    chunks, body = _streamed(_upload(client, "big.csv", make_csv(ROWS)))
    percents = [int(p) for p in PROGRESS.findall(body)]
    assert percents[0] == 0 and percents[-1] == 100
    assert percents == sorted(percents) and len(percents) >= ROWS // importer.STEP_ROWS
    # Each step is its own chunk: the layout, one chunk per progress line, then the end.
    assert len(chunks) >= len(percents) + 1
    assert "Đã kiểm tra 2.000 / 2.500 dòng" in body
    staged = db.session.get(LearnerImport, _staged_id(body))
    assert staged.status == PENDING and staged.row_count == ROWS and staged.valid_count == ROWS


def test_large_confirm_registers_every_row_with_progress(client, team):
    before = _count()
    _chunks, body = _streamed(_upload(client, "big.csv", make_csv(ROWS)))
    url = f"/team/import/{_staged_id(body)}"
    _chunks, done = _streamed(_confirm(client, url))
    assert "Đã đăng ký 2.500 / 2.500 người học (100 %)" in done
    assert f'url={url}"' in done and "role=\"alert\"" not in done
    assert _count() == before + ROWS
    db.session.expire_all()
    staged = db.session.get(LearnerImport, int(url.rsplit("/", 1)[1]))
    assert staged.status == IMPORTED and len(staged.payload["learner_ids"]) == ROWS
    # The result page, and a second confirmation creates nothing.
    assert "2.500" in client.get(url).get_data(as_text=True)
    _chunks, again = _streamed(_confirm(client, url))
    assert 'role="alert"' in again and _count() == before + ROWS


def test_failure_part_way_is_shown_and_nothing_is_kept(client, team):
    """A row that the database refuses, in the third chunk: the first two chunks were
    already inserted when it fails, and must be rolled back with it."""
    before = _count()
    _chunks, body = _streamed(_upload(client, "big.csv", make_csv(ROWS)))
    staged = db.session.get(LearnerImport, _staged_id(body))
    rows = list(staged.payload["rows"])
    rows[importer.STEP_ROWS * 2 + 10] = {**rows[importer.STEP_ROWS * 2 + 10], "name_folded": None}
    staged.payload = {**staged.payload, "rows": rows}
    db.session.commit()
    _chunks, failed = _streamed(_confirm(client, f"/team/import/{staged.id}"))
    assert "Đã đăng ký 2.000 / 2.500" in failed  # it got that far
    assert 'role="alert"' in failed and "không có gì được lưu" in failed
    assert _count() == before
    db.session.expire_all()
    assert db.session.get(LearnerImport, staged.id).status == PENDING
