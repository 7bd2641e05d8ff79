"""The export holds everything the inventory declares about the person, and nobody else's."""

from __future__ import annotations

import json

from lms.extensions import db
from lms.privacy import inventory
from lms.privacy.export import HELD, personal_data
from tests.privacy.conftest import LEARNER_IP, NAME


def _rows(section):
    return [section] if isinstance(section, dict) else section


def test_the_export_has_every_declared_table_and_column(held):
    data = personal_data(held.learner)
    for table in inventory.TABLES:
        if table.export_as is None:
            continue
        rows = _rows(data[table.export_as])
        assert rows, f"{table.export_as} ({table.name}) is empty for a learner who has some"
        for row in rows:
            assert set(row) == set(table.columns), table.name
            for name, column in table.columns.items():
                if column.secret and row[name] is not None:
                    assert row[name] == HELD, f"{table.name}.{name} is a secret: say it is held, never show it"


def test_the_export_has_what_today_was_left_out(held):
    data = personal_data(held.learner)
    assert data["learner"]["full_name"] == NAME and data["learner"]["birth_year"] == 1960
    assert data["consents"][0]["ip_address"] == LEARNER_IP
    assert {event["ip_address"] for event in data["audit_events"]} >= {LEARNER_IP, "198.51.100.5"}
    assert {event["action"] for event in data["audit_events"]} >= {
        "learner.create", "consent.give", "learner.view", "learner.cards", "certificate.print"}
    assert len(data["quiz_attempts"]) == 2 and {a["is_passed"] for a in data["quiz_attempts"]} == {True, False}
    assert data["certificates"][0]["serial"] == held.certificate.serial
    assert data["api_tokens"][0]["name"] == "Điện thoại của Xuyến" and data["api_tokens"][0]["token_hash"] == HELD
    assert data["failed_logins"] and data["account"]["phone"] == "+84912345678"
    assert data["labels"]["courses"][str(held.course.id)] == held.course.slug
    assert data["labels"]["units"][str(held.learner.commune_id)] == held.learner.commune.name
    json.dumps(data, ensure_ascii=False)  # serialisable as the download sends it


def test_bulk_events_show_only_the_persons_own_ids(held):
    data = personal_data(held.learner)
    cards = next(event for event in data["audit_events"] if event["action"] == "learner.cards")
    printed = next(event for event in data["audit_events"] if event["action"] == "certificate.print")
    assert cards["details"]["learner_ids"] == [held.learner.id]
    assert printed["details"]["certificate_ids"] == [held.certificate.id]
    other = json.dumps(personal_data(held.other.learner))
    assert NAME not in other


def test_the_download_is_the_export(client, make, login):
    user = make.learner(full_name="Nguyễn Thị Hoà", birth_year=1960)
    db.session.flush()
    login(user)
    response = client.get("/my-data.json")
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["learner"]["full_name"] == "Nguyễn Thị Hoà"
    assert "learner.export_self" in {event["action"] for event in data["audit_events"]}
