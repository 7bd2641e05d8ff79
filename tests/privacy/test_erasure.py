"""After erasure nothing of the person is left but the declared anonymous remains, and the
counters still equal a recount. The database is walked table by table from the metadata,
so a table added tomorrow is searched too."""

from __future__ import annotations

import json

from sqlalchemy import JSON, String, Text, select

from lms.extensions import db
from lms.privacy import inventory
from lms.privacy.inventory import ANONYMISED, DETAIL_KEYS, ERASED, KEPT
from lms.privacy.operations import erase_learner
from lms.statistics import operations as stat_operations  # noqa: F401 - connects the writer
from lms.statistics.recount import compare, expected_counters, stored_counters
from tests.privacy.conftest import LEARNER_IP, NAME, PHONE

REFERENCES = {"learners": "learner", "users": "user", "certificates": "certificate"}


def _references(column) -> str | None:
    """Whose id a column holds: a foreign key to learners, users or certificates."""
    for key in column.foreign_keys:
        if key.column.table.name in REFERENCES and key.column.name == "id":
            return REFERENCES[key.column.table.name]
    if column.primary_key and column.table.name in REFERENCES:
        return REFERENCES[column.table.name]
    return None


def _json_mentions(value, ids: dict) -> list[str]:
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            kind = DETAIL_KEYS.get(key) or ("learner" if key == "learner_ids" else None)
            items = item if isinstance(item, list) else [item]
            if kind and ids[kind] in items:
                found.append(key)
            found += _json_mentions(item, ids)
    elif isinstance(value, list):
        for item in value:
            found += _json_mentions(item, ids)
    return found


def remains(ids: dict, texts: list[str]) -> list[tuple[str, str, object]]:
    """(table, column, row id) of every trace of the person in the whole database."""
    found = []
    connection = db.session.connection()
    for table in db.metadata.sorted_tables:
        for row in connection.execute(select(table)):
            values = row._mapping
            key = values.get("id", tuple(values.values())[:2])
            for column in table.columns:
                value = values[column.name]
                if value is None:
                    continue
                kind = _references(column)
                if kind is not None and value == ids[kind]:
                    found.append((table.name, column.name, key))
                if isinstance(column.type, JSON):
                    found += [(table.name, f"{column.name}.{name}", key) for name in _json_mentions(value, ids)]
                    value = json.dumps(value, ensure_ascii=False)
                if isinstance(column.type, String | Text | JSON) and any(text in str(value) for text in texts):
                    found.append((table.name, column.name, key))
    return found


def allowed(table: str, column: str) -> bool:
    """The anonymous remains the inventory declares: kept columns of anonymised tables."""
    declared = inventory.BY_NAME.get(table)
    return declared is not None and declared.on_erase == ANONYMISED and declared.columns[column].erase == KEPT


def test_erasure_leaves_nothing_but_the_declared_anonymous_remains(app, held):
    from lms.learners.identity import national_id_hash
    from tests.privacy.conftest import NATIONAL_ID

    learner, user = held.learner, held.user
    ids = held.ids
    texts = [NAME, learner.name_folded, learner.name_sort_key, "+84" + PHONE[1:], LEARNER_IP,
             national_id_hash(NATIONAL_ID), NATIONAL_ID]
    before = remains(ids, texts)
    assert {table for table, _column, _key in before} >= {
        "users", "learners", "consents", "enrollments", "lesson_progress", "progress_events", "quiz_attempts",
        "api_tokens", "certificates", "audit_events", "login_failures"}, "the fixture fills every table"
    with app.test_request_context(environ_base={"REMOTE_ADDR": LEARNER_IP}):
        erase_learner(learner, actor=user)
    db.session.expire_all()

    left = remains(ids, texts)
    unexpected = [(table, column, key) for table, column, key in left
                  if not allowed(table, column) and not (table, column) == ("audit_events", "learner_id")]
    assert unexpected == [], "personal data left after erasure"
    # The one audit event that keeps the learner's id is the record of the erasure itself.
    from lms.audit.models import AuditEvent

    kept = db.session.scalars(select(AuditEvent).where(AuditEvent.learner_id == learner.id)).all()
    assert [(event.action, event.actor_id, event.ip_address) for event in kept] == [("learner.erase", None, None)]
    # What is left is what the inventory says stays; every erased column of the learner row is empty.
    assert {table for table, _c, _k in left} == {"learners", "consents", "enrollments", "certificates",
                                                 "audit_events"}
    row = db.session.connection().execute(
        select(db.metadata.tables["learners"]).where(db.metadata.tables["learners"].c.id == learner.id)).one()
    for name, column in inventory.BY_NAME["learners"].columns.items():
        if column.erase == ERASED:
            assert row._mapping[name] in (None, ""), name


def test_counters_equal_a_recount_after_erasure(app, held):
    from lms.statistics.models import SHARDS

    assert compare() == []
    with app.test_request_context(environ_base={"REMOTE_ADDR": LEARNER_IP}):
        erase_learner(held.learner, actor=held.user)
    db.session.flush()
    assert compare() == [] and stored_counters() == expected_counters()
    mine = [key for key, value in stored_counters().items() if value and key[1] == held.learner.commune_id
            and key[9] == held.learner.id % SHARDS and key[2] == 0]
    assert mine, "the anonymous counts survive in the commune, without a village"


def test_an_erased_certificate_no_longer_verifies_and_shows_no_name(app, client, held):
    with app.test_request_context():
        erase_learner(held.learner, actor=held.member)
    db.session.flush()
    page = client.get(f"/verify/{held.certificate.verification_code}").get_data(as_text=True)
    assert NAME not in page
    assert held.certificate.is_revoked and held.certificate.full_name == ""


def test_staff_may_erase_and_their_part_of_the_audit_trail_stays(app, held):
    from lms.audit.models import AuditEvent

    with app.test_request_context(environ_base={"REMOTE_ADDR": "192.0.2.9"}):
        erase_learner(held.learner, actor=held.member)
    db.session.flush()
    staff_events = db.session.scalars(select(AuditEvent).where(AuditEvent.actor_id == held.member.id)).all()
    assert {"learner.view", "learner.cards", "certificate.print", "learner.erase"} <= {e.action for e in staff_events}
    assert all(e.ip_address in ("198.51.100.5", "192.0.2.9") for e in staff_events)
    cards = next(e for e in staff_events if e.action == "learner.cards")
    assert cards.details["learner_ids"] == [held.other.learner.id]  # the other learner stays listed


def test_withdrawal_then_deletion_leaves_no_ip_address(app, held):
    """The order of the issue's probe: a withdrawn consent kept its IP address through erasure."""
    from lms.learners.consent import LEARNING
    from lms.learners.models import Consent
    from lms.learners.operations import withdraw_consent

    withdraw_consent(held.learner, LEARNING, actor=held.user)
    with app.test_request_context(environ_base={"REMOTE_ADDR": LEARNER_IP}):
        erase_learner(held.learner, actor=held.user)
    db.session.flush()
    consents = db.session.scalars(select(Consent).where(Consent.learner_id == held.learner.id)).all()
    assert consents and all(c.ip_address is None and c.withdrawn_dt is not None for c in consents)
    ip_columns = {(table.name, column.name) for table in db.metadata.sorted_tables for column in table.columns
                  if "ip" in column.name or column.name in ("key", "details")}
    assert [hit for hit in remains(held.ids, [LEARNER_IP]) if hit[:2] in ip_columns] == []
