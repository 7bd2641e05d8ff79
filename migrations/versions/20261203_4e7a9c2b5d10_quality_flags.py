"""Data-quality flags, and an index on quiz attempts by helper and time

`quality_flags` holds what looked wrong about a learner's record or progress, for
officials to review (lms/quality). The index lets the helper check count a helper's
passed quizzes of the last hour with one index range.

Revision ID: 4e7a9c2b5d10
Revises: 8c3f2a6d1b70
Create Date: 2026-12-03 16:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "4e7a9c2b5d10"
down_revision = "4d2b9e6f0a13"  # re-chained at merge: after the statistics check
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "quality_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False,
                  comment="fast_course, fast_quiz, helper_burst, duplicate, generated_import"),
        sa.Column("learner_id", sa.Integer(), nullable=False, comment="Whose record looks wrong"),
        sa.Column("subject", sa.String(length=40), nullable=False,
                  comment="What it is about, e.g. course:3, learner:7, import:2"),
        sa.Column("reason", sa.JSON(), nullable=False, comment="Figures behind the flag (numbers and ids, no names)"),
        sa.Column("province_id", sa.Integer(), nullable=False, comment="Copy of the learner's province"),
        sa.Column("commune_id", sa.Integer(), nullable=False, comment="Copy of the learner's commune"),
        sa.Column("village_id", sa.Integer(), nullable=True, comment="Copy of the learner's village"),
        sa.Column("status", sa.String(length=10), nullable=False, comment="open, genuine or problem"),
        sa.Column("created_dt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True, comment="Official who reviewed it"),
        sa.Column("reviewed_dt", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"], name=op.f("fk_quality_flags_learner_id_learners")),
        sa.ForeignKeyConstraint(["province_id"], ["units.id"], name=op.f("fk_quality_flags_province_id_units")),
        sa.ForeignKeyConstraint(["commune_id"], ["units.id"], name=op.f("fk_quality_flags_commune_id_units")),
        sa.ForeignKeyConstraint(["village_id"], ["units.id"], name=op.f("fk_quality_flags_village_id_units")),
        sa.ForeignKeyConstraint(["reviewed_by_id"], ["users.id"], name=op.f("fk_quality_flags_reviewed_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_flags")),
        sa.UniqueConstraint("learner_id", "kind", "subject", name="uq_quality_flags_finding"),
        comment="Data-quality flags on learners, for officials to review",
    )
    with op.batch_alter_table("quality_flags", schema=None) as batch_op:
        batch_op.create_index("ix_quality_flags_units",
                              ["province_id", "commune_id", "village_id", "learner_id", "status"], unique=False)
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_quiz_attempts_helper_dt", ["helped_by_id", "submitted_dt"], unique=False)


def downgrade():
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_quiz_attempts_helper_dt")
    with op.batch_alter_table("quality_flags", schema=None) as batch_op:
        batch_op.drop_index("ix_quality_flags_units")
    op.drop_table("quality_flags")
