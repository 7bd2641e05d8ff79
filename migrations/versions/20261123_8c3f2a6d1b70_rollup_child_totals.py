"""Dashboard rollup: each unit's children's totals kept under it ('unit:<id>' rows)

A dashboard then reads one index range (the unit's own rows) instead of one lookup per
child: 168 for a province. The new rows are copies of each child's own totals (course
0, period and dimension 'all'), sharded as the child's rows are; the statistics writer
keeps them from now on (`lms.statistics.models.rollup_keys`), and this migration copies
them once from the rows already there, in key order (so each parent's new rows share
pages). `flask statistics recount` checks the result.

Revision ID: 8c3f2a6d1b70
Revises: 5b1e7c0d9a42
Create Date: 2026-11-23 03:30:00

"""
from alembic import op
import sqlalchemy as sa

revision = "8c3f2a6d1b70"
down_revision = "5b1e7c0d9a42"
branch_labels = None
depends_on = None

COPY_CHILD_TOTALS = """
INSERT INTO stat_rollups (unit_id, course_id, period, dimension, metric, shard, value)
SELECT CASE u.level WHEN 'province' THEN 0 WHEN 'commune' THEN u.province_id ELSE u.commune_id END,
       0, 'all', 'unit:' || CAST(r.unit_id AS VARCHAR(12)), r.metric, r.shard, r.value
FROM stat_rollups r JOIN units u ON u.id = r.unit_id
WHERE r.course_id = 0 AND r.period = 'all' AND r.dimension = 'all' AND r.unit_id <> 0
  AND u.level IN ('province', 'commune', 'village') AND r.value <> 0
ORDER BY 1, 4, 5, 6
"""


def copy_child_totals(connection) -> None:
    connection.execute(sa.text(COPY_CHILD_TOTALS))


OLD_COMMENT = "'all', 'sex:<sex>', 'age:<band>', 'mode:<mode>' or 'village:none' (commune rows)"
NEW_COMMENT = "'all', 'sex:<sex>', 'age:<band>', 'mode:<mode>', 'unit:<child unit id>' or 'village:none' (commune rows)"


def _comment(text: str) -> None:
    if op.get_bind().dialect.name == "postgresql":  # SQLite keeps no column comments
        op.alter_column("stat_rollups", "dimension", comment=text, existing_type=sa.String(length=16),
                        existing_nullable=False)


def upgrade():
    _comment(NEW_COMMENT)
    copy_child_totals(op.get_bind())


def downgrade():
    op.execute("DELETE FROM stat_rollups WHERE dimension LIKE 'unit:%'")
    _comment(OLD_COMMENT)
