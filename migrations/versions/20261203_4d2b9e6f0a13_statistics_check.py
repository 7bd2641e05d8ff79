"""Statistics check: when each commune last changed, check runs and their differences

`flask statistics check` compares, unit by unit, the counters and rollup rows with the
raw rows, newest changes first, within a time budget; it keeps when each unit was
checked, each run and each difference it found (shown at /statistics/check).

Revision ID: 4d2b9e6f0a13
Revises: 8c3f2a6d1b70
Create Date: 2026-12-03 16:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = "4d2b9e6f0a13"
down_revision = "3e5a9c1f7b20"  # re-chained at merge: after the API token expiry
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stat_changes",
        sa.Column("commune_id", sa.Integer(), autoincrement=False, nullable=False,
                  comment="Commune (units.id) whose counters changed"),
        sa.Column("changed_dt", sa.DateTime(timezone=True), nullable=False, comment="When, as the writer saw it"),
        sa.PrimaryKeyConstraint("commune_id", name=op.f("pk_stat_changes")),
        comment="Last time the counter writer changed each commune's figures",
    )
    op.create_table(
        "stat_check_units",
        sa.Column("unit_id", sa.Integer(), autoincrement=False, nullable=False,
                  comment="Commune or province (units.id); 0 = the nation"),
        sa.Column("level", sa.String(length=10), nullable=False, comment="commune, province or nation"),
        sa.Column("checked_dt", sa.DateTime(timezone=True), nullable=False, comment="When it was last checked"),
        sa.Column("differences", sa.Integer(), nullable=False, comment="Rows that differed at that check"),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_stat_check_units")),
        comment="Last check of each unit's counters and rollup rows",
    )
    op.create_table(
        "stat_check_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_dt", sa.DateTime(timezone=True), nullable=False, comment="When the run began"),
        sa.Column("finished_dt", sa.DateTime(timezone=True), nullable=True, comment="When it ended"),
        sa.Column("seconds_allowed", sa.Float(), nullable=False, comment="Time budget of the run"),
        sa.Column("units_checked", sa.Integer(), nullable=False, comment="Units checked in this run"),
        sa.Column("units_total", sa.Integer(), nullable=False, comment="Units there are to check"),
        sa.Column("units_differing", sa.Integer(), nullable=False, comment="Units with at least one difference"),
        sa.Column("differences", sa.Integer(), nullable=False, comment="Rows that differed"),
        sa.Column("is_repair", sa.Boolean(), nullable=False, comment="Whether differing units were rewritten"),
        sa.Column("longest_unit_ms", sa.Float(), nullable=False,
                  comment="Longest time one unit's check (one transaction) took"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stat_check_runs")),
        comment="One run of the incremental statistics check",
    )
    op.create_table(
        "stat_check_differences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False, comment="The check run"),
        sa.Column("unit_id", sa.Integer(), nullable=False, comment="The unit checked (0 = the nation)"),
        sa.Column("table_name", sa.String(length=20), nullable=False, comment="stat_counters or stat_rollups"),
        sa.Column("key", sa.String(length=200), nullable=False,
                  comment="The row's key columns, name=value, comma-separated"),
        sa.Column("stored", sa.Integer(), nullable=False, comment="Value stored"),
        sa.Column("expected", sa.Integer(), nullable=False, comment="Value recounted from the raw rows"),
        sa.Column("is_repaired", sa.Boolean(), nullable=False, comment="Rewritten by this run"),
        sa.ForeignKeyConstraint(["run_id"], ["stat_check_runs.id"],
                                name=op.f("fk_stat_check_differences_run_id_stat_check_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stat_check_differences")),
        comment="A counter or rollup row that differed from the raw rows at a check",
    )
    with op.batch_alter_table("stat_check_differences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stat_check_differences_run_id"), ["run_id"], unique=False)


def downgrade():
    with op.batch_alter_table("stat_check_differences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stat_check_differences_run_id"))
    op.drop_table("stat_check_differences")
    op.drop_table("stat_check_runs")
    op.drop_table("stat_check_units")
    op.drop_table("stat_changes")
