"""The migrations build exactly the schema the models describe."""


def test_models_and_migrations_agree(app, db_session):
    """Alembic's own comparison (what `flask db migrate` would generate) finds nothing:
    a model changed without its migration fails here (on PostgreSQL, comments too)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from lms.extensions import db

    context = MigrationContext.configure(db.session.connection(), opts={"compare_type": True})
    assert compare_metadata(context, db.metadata) == []
