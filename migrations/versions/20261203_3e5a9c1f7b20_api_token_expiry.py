"""API tokens expire, and say why they were revoked

`expires_dt`: a token stops working `API_TOKEN_DAYS` (90 by default) after it was
issued. Tokens that exist at the upgrade get the same 90 days from the upgrade, not from
their creation, so phones in use keep working for a while after the release instead of
all failing at once. `revoked_reason`: client, account, password, logout-all, card or
erasure.

Revision ID: 3e5a9c1f7b20
Revises: 8c3f2a6d1b70
Create Date: 2026-12-03 16:00:00

"""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "3e5a9c1f7b20"
down_revision = "7d2b5e9c1a38"  # re-chained at merge: after the duplicate requests
branch_labels = None
depends_on = None

DAYS = 90


def upgrade():
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_dt", sa.DateTime(timezone=True), nullable=True,
                                      comment="Stops working at this time (API_TOKEN_DAYS after issue)"))
        batch_op.add_column(sa.Column("revoked_reason", sa.String(length=20), nullable=True,
                                      comment="client, account, password, logout-all, card or erasure"))
    tokens = sa.table("api_tokens", sa.column("expires_dt", sa.DateTime(timezone=True)))
    op.execute(tokens.update().values(expires_dt=datetime.now(UTC) + timedelta(days=DAYS)))
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.alter_column("expires_dt", existing_type=sa.DateTime(timezone=True), nullable=False,
                              existing_comment="Stops working at this time (API_TOKEN_DAYS after issue)")


def downgrade():
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("revoked_reason")
        batch_op.drop_column("expires_dt")
