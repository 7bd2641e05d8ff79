"""Progress events applied apart from the request that stored them

`progress_events.applied_dt`: when the event's effect (progress row, enrolment,
completion) was written; NULL while it waits (lms.learning.progress_log). Events already
in the log were applied by the request that stored them. The partial index keeps the
waiting ones one short index scan away, however long the log grows.

Revision ID: 5a1c3e7b9d20
Revises: 4e7a9c2b5d10
Create Date: 2026-12-04 01:10:00

"""
from alembic import op
import sqlalchemy as sa

revision = "5a1c3e7b9d20"
down_revision = "4e7a9c2b5d10"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("progress_events") as batch:
        batch.add_column(sa.Column("applied_dt", sa.DateTime(timezone=True), nullable=True,
                                   comment="When its effect was written; NULL while it waits to be applied"))
    op.execute("UPDATE progress_events SET applied_dt = received_dt")
    op.create_index("ix_progress_events_pending", "progress_events", ["id"],
                    postgresql_where=sa.text("applied_dt IS NULL"), sqlite_where=sa.text("applied_dt IS NULL"))


def downgrade():
    op.drop_index("ix_progress_events_pending", table_name="progress_events")
    with op.batch_alter_table("progress_events") as batch:
        batch.drop_column("applied_dt")
