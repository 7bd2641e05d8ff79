"""Open data: public, no personal data, small counts cannot be recovered."""

from __future__ import annotations

from collections import Counter

from lms.statistics.opendata import open_data, publish
from lms.statistics.operations import apply_deltas, make_key
from tests.statistics.conftest import new_learner


def test_publish_rule():
    assert [publish(v) for v in (0, 1, 2, 3, 4, 5, 7, 8, 12, 13, 1238)] == [0, None, None, None, None, 5, 5, 10, 10, 15, 1240]


def _registrations(communes, counts):
    for commune, count in zip(communes, counts, strict=True):
        learner = new_learner(commune)
        apply_deltas(Counter({make_key(learner, "registered", learner.registered_dt): count - 1}))


def _province(data, communes):
    return {row["code"]: row["registered"] for row in data["units"] if row["code"] in {c.code for c in communes}}


def test_a_suppressed_cell_cannot_be_recovered_from_the_total(app, db_session, communes):
    """Two Hà Nội communes with 3 + 10 and with 1 + 12 learners publish identically."""
    from lms.extensions import db

    first, second, _other = communes
    hanoi = db.session.get(type(first), first.province_id)
    outputs = []
    for counts in ((3, 10), (1, 12)):
        savepoint = db.session.begin_nested()
        _registrations((first, second), counts)
        data = open_data(hanoi)
        outputs.append((_province(data, (first, second)), data["total"]["registered"]))
        savepoint.rollback()
    assert outputs[0] == outputs[1] == ({first.code: None, second.code: 10}, 15)


def test_open_data_is_public_and_has_no_names(client, communes):
    learner = new_learner(communes[0], name="Nguyễn Văn Bí Mật")
    apply_deltas(Counter({make_key(learner, "registered", learner.registered_dt): 6}))
    page = client.get("/open-data/statistics")
    assert page.status_code == 200 and "Bí Mật" not in page.get_data(as_text=True)
    from lms.extensions import db

    province = db.session.get(type(communes[0]), communes[0].province_id)
    body = client.get(f"/open-data/statistics.json?province={province.code}").get_json()
    row = next(r for r in body["units"] if r["code"] == communes[0].code)
    assert row == {"code": communes[0].code, "name": communes[0].name, "registered": 5, "completed": 0, "certified": 0}
    assert "Bí Mật" not in str(body)
    assert client.get("/open-data/statistics.json?province=XX").status_code == 404
