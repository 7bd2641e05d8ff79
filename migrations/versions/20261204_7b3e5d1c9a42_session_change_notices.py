"""A notice on every change of an account's session state (PostgreSQL)

A trigger on `users` sends `NOTIFY lms_sessions, '<user id>'` when a row's session token,
active flag or PIN mark is written, or the row is deleted, so each server process can keep
the states it read and forget one the moment it changes (lms.accounts.session_states).
NOTIFY is delivered on commit only. SQLite has no NOTIFY and needs none: its processes
read the state from the local file every time.

Revision ID: 7b3e5d1c9a42
Revises: 5a1c3e7b9d20
Create Date: 2026-12-04 04:20:00

"""
from alembic import op

revision = "7b3e5d1c9a42"
down_revision = "5a1c3e7b9d20"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION lms_session_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('lms_sessions', OLD.id::text);
            RETURN NULL;
        END
        $$
    """)
    op.execute("""
        CREATE TRIGGER users_session_changed
        AFTER UPDATE OF session_token, is_active, must_change_password OR DELETE ON users
        FOR EACH ROW EXECUTE FUNCTION lms_session_changed()
    """)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS users_session_changed ON users")
    op.execute("DROP FUNCTION IF EXISTS lms_session_changed()")
