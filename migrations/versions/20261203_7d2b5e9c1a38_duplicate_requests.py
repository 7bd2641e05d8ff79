"""Duplicate requests, and an audit index for counting a member's identity checks

`duplicate_requests`: a team member asks the commune official to resolve a phone or ID
number already registered (lms.duplicates). The audit index makes counting one member's
`identity.check` events within the hour one index range.

Revision ID: 7d2b5e9c1a38
Revises: 4e9a1c7b2d55
Create Date: 2026-12-03 16:30:00

"""
from alembic import op
import sqlalchemy as sa

revision = "7d2b5e9c1a38"
down_revision = "4e9a1c7b2d55"  # the verification misses of this branch, itself on 8c3f2a6d1b70
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "duplicate_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commune_id", sa.Integer(), nullable=False, comment="Commune where the person is being registered"),
        sa.Column("filed_by_id", sa.Integer(), nullable=False, comment="Team member who filed it"),
        sa.Column("filed_dt", sa.DateTime(timezone=True), nullable=False, comment="When it was filed"),
        sa.Column("kind", sa.String(length=12), nullable=False, comment="What matched: phone or national_id"),
        sa.Column("existing_learner_id", sa.Integer(), nullable=True,
                  comment="The learner already registered with it; NULL once erased"),
        sa.Column("full_name", sa.String(length=200), nullable=False,
                  comment="Name of the person the member met, as typed"),
        sa.Column("note", sa.String(length=500), nullable=True, comment="What the member adds (never the ID number)"),
        sa.Column("status", sa.String(length=12), nullable=False, comment="open, moved or dismissed"),
        sa.Column("resolved_dt", sa.DateTime(timezone=True), nullable=True, comment="When the official resolved it"),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True, comment="Official who resolved it"),
        sa.Column("resolution_note", sa.String(length=500), nullable=True, comment="What the official found"),
        sa.ForeignKeyConstraint(["commune_id"], ["units.id"], name=op.f("fk_duplicate_requests_commune_id_units")),
        sa.ForeignKeyConstraint(["existing_learner_id"], ["learners.id"],
                                name=op.f("fk_duplicate_requests_existing_learner_id_learners")),
        sa.ForeignKeyConstraint(["filed_by_id"], ["users.id"], name=op.f("fk_duplicate_requests_filed_by_id_users")),
        sa.ForeignKeyConstraint(["resolved_by_id"], ["users.id"],
                                name=op.f("fk_duplicate_requests_resolved_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_requests")),
        comment="Requests to resolve a phone or ID number already registered, for the commune official",
    )
    with op.batch_alter_table("duplicate_requests", schema=None) as batch_op:
        batch_op.create_index("ix_duplicate_requests_commune_status", ["commune_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_duplicate_requests_existing_learner_id"), ["existing_learner_id"],
                              unique=False)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_actor_action_dt", ["actor_id", "action", "created_dt"], unique=False)


def downgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_actor_action_dt")
    with op.batch_alter_table("duplicate_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duplicate_requests_existing_learner_id"))
        batch_op.drop_index("ix_duplicate_requests_commune_status")
    op.drop_table("duplicate_requests")
