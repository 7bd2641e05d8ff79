"""Verification misses: unknown certificate codes per address, for limiting /verify

One row per well-formed code that matched no certificate, kept for an hour
(`lms.certs.verification`); the address is a keyed hash. The revocation reason's comment
now says it is not public.

Revision ID: 4e9a1c7b2d55
Revises: 8c3f2a6d1b70
Create Date: 2026-12-03 16:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "4e9a1c7b2d55"
down_revision = "8c3f2a6d1b70"
branch_labels = None
depends_on = None

OLD_COMMENT = "Why it was revoked; shown on the public verification page"
NEW_COMMENT = "Why it was revoked; shown to staff and the holder, never on the public page"


def _comment(text: str) -> None:
    if op.get_bind().dialect.name == "postgresql":  # SQLite keeps no column comments
        op.alter_column("certificates", "revocation_reason", comment=text, existing_type=sa.String(length=500),
                        existing_nullable=True)


def upgrade():
    op.create_table(
        "verification_misses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_key", sa.String(length=64), nullable=False,
                  comment="HMAC-SHA256 of the client address under SECRET_KEY"),
        sa.Column("missed_dt", sa.DateTime(timezone=True), nullable=False, comment="When the unknown code was looked up"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_misses")),
        comment="Recent verification codes that matched nothing, per address, for limiting",
    )
    with op.batch_alter_table("verification_misses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_verification_misses_address_key"), ["address_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_verification_misses_missed_dt"), ["missed_dt"], unique=False)
    _comment(NEW_COMMENT)


def downgrade():
    _comment(OLD_COMMENT)
    with op.batch_alter_table("verification_misses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_misses_missed_dt"))
        batch_op.drop_index(batch_op.f("ix_verification_misses_address_key"))
    op.drop_table("verification_misses")
