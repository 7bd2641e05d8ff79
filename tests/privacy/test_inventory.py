"""The inventory declares every table and column that can hold personal data.

A table with a learner, user or IP address column (by name or by foreign key) that the
inventory does not declare fails here, and so does a column of a declared table that the
inventory does not classify: whoever adds one decides its purpose, retention and fate on
erasure (lms/privacy/inventory.py) and adds it to docs/privacy.md.
"""

from __future__ import annotations

import re
from pathlib import Path

from lms.extensions import db
from lms.privacy import inventory

ROOT = Path(__file__).resolve().parents[2]
PERSON_TABLES = {"learners", "users"}


def _is_personal(column) -> bool:
    name = column.name.lower()
    if name in ("learner_id", "user_id") or re.search(r"(^|_)ip(_|$)|ip_address|address$", name):
        return True
    return any(key.column.table.name in PERSON_TABLES for key in column.foreign_keys)


def tables_with_personal_columns(metadata) -> set[str]:
    return {table.name for table in metadata.sorted_tables
            if table.name in PERSON_TABLES or any(_is_personal(column) for column in table.columns)}


def test_every_table_with_a_learner_user_or_ip_column_is_declared(app):
    missing = tables_with_personal_columns(db.metadata) - inventory.BY_NAME.keys()
    assert not missing, (f"tables holding personal data not declared in lms/privacy/inventory.py: {sorted(missing)}; "
                         "declare purpose, retention, legal ground and what erasure does, and add them to "
                         "docs/privacy.md")


def test_every_column_of_a_declared_table_is_classified(app):
    problems = []
    for declared in inventory.TABLES:
        assert declared.name in db.metadata.tables, f"declared table {declared.name} does not exist"
        actual = {column.name for column in db.metadata.tables[declared.name].columns}
        if actual - declared.columns.keys():
            problems.append(f"{declared.name}: undeclared columns {sorted(actual - declared.columns.keys())}")
        if declared.columns.keys() - actual:
            problems.append(f"{declared.name}: declared but absent {sorted(declared.columns.keys() - actual)}")
        for column, _kind in declared.links:
            assert column in actual, f"{declared.name}.{column} links rows to a person but does not exist"
    assert not problems, "; ".join(problems)


def test_every_declaration_is_complete_and_consistent():
    for table in inventory.TABLES:
        assert table.purpose and table.retention and table.ground, table.name
        assert table.on_erase in (inventory.DELETED, inventory.ANONYMISED, inventory.UNTOUCHED), table.name
        if table.about in (inventory.LEARNERS, inventory.BOTH) and table.name != "learner_imports":
            assert table.export_as and table.links, f"{table.name}: learners' data must be exported"
        for name, column in table.columns.items():
            assert column.erase in (inventory.KEPT, inventory.ERASED, inventory.SCRUBBED), (table.name, name)
            if column.erase != inventory.KEPT or column.secret:
                assert column.holds, f"{table.name}.{name}: an erased or secret column holds personal data"


def test_the_rule_catches_a_new_table(app):
    """The check is not vacuous: a table added with a learner id, or an IP address, is found."""
    from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table

    metadata = MetaData()
    for table in db.metadata.sorted_tables:
        table.to_metadata(metadata)
    Table("duplicate_requests_example", metadata, Column("id", Integer, primary_key=True),
          Column("learner_id", Integer, ForeignKey("learners.id")))
    Table("visits_example", metadata, Column("id", Integer, primary_key=True), Column("client_ip", String(45)))
    Table("helpers_example", metadata, Column("id", Integer, primary_key=True),
          Column("checked_by_id", Integer, ForeignKey("users.id")))
    found = tables_with_personal_columns(metadata) - inventory.BY_NAME.keys()
    assert found == {"duplicate_requests_example", "visits_example", "helpers_example"}


def test_docs_privacy_names_every_declared_table_in_both_languages():
    text = (ROOT / "docs" / "privacy.md").read_text(encoding="utf-8")
    parts = re.split(r"^## ", text, flags=re.M)
    vietnamese = next(part for part in parts if part.startswith("Bảng lưu giữ"))
    english = next(part for part in parts if part.startswith("Retention table"))
    for table in inventory.TABLES:
        assert f"`{table.name}`" in vietnamese, f"docs/privacy.md (Vietnamese) does not name {table.name}"
        assert f"`{table.name}`" in english, f"docs/privacy.md (English) does not name {table.name}"
