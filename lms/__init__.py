"""The Bình dân học vụ số learning platform (Flask application)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from lms.config import (
    SECRET_SETTINGS,
    Config,
    UnsafeProductionConfigError,
    default_database_url,
    instance_secret,
    production_problems,
)


def create_app(config: type | None = None, **overrides) -> Flask:
    """Build the application. Touches no database: migrations run by command."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(config or Config)
    app.config.update(overrides)
    configure_secrets(app)
    configure_logging(app)
    configure_database(app)
    configure_extensions(app)
    configure_statistics(app)
    configure_learning(app)
    configure_i18n(app)
    configure_security(app)
    configure_blueprints(app)
    configure_quality(app)
    configure_caches(app)
    configure_errors(app)
    configure_cli(app)
    return app


def configure_secrets(app: Flask) -> None:
    """Production must bring its own secrets; elsewhere they are generated once into instance/."""
    if app.config.get("LMS_ENV") == "production":
        problems = production_problems(app.config)
        if problems:
            raise UnsafeProductionConfigError("LMS_ENV=production refuses to start: " + "; ".join(problems))
        return
    for name, filename in SECRET_SETTINGS:
        if not app.config.get(name):
            app.config[name] = instance_secret(filename)


def configure_logging(app: Flask) -> None:
    from lms.core import request_log

    request_log.configure_logging(app)


def configure_database(app: Flask) -> None:
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = default_database_url()
    from lms import dbsetup

    dbsetup.engine_options(app)


def configure_extensions(app: Flask) -> None:
    from lms import models  # noqa: F401 - registers every table
    from lms.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    from lms.accounts import session as account_session

    account_session.configure(login_manager)
    from lms import dbsetup

    with app.app_context():
        dbsetup.install_engine_events(db.engine)


def configure_statistics(app: Flask) -> None:
    """The counter writer: every write of a learner, enrolment or certificate moves the figures."""
    from lms.statistics import writer

    writer.init_app(app)


def configure_learning(app: Flask) -> None:
    """Where stored progress events are applied (in the request, or by each worker's
    applier), and the lesson page read again answered before Flask's request machinery."""
    from lms.learning import applier, progress_log, read_again

    mode = app.config.get("PROGRESS_APPLY")
    if mode not in (progress_log.APPLY_IN_REQUEST, progress_log.APPLY_IN_BACKGROUND):
        raise ValueError(f"PROGRESS_APPLY must be 'request' or 'background', not {mode!r}")
    applier.init_app(app)
    read_again.init_app(app)


def configure_i18n(app: Flask) -> None:
    from lms import i18n

    i18n.init_app(app)


def configure_security(app: Flask) -> None:
    from lms import security, signing

    security.init_app(app)
    signing.init_app(app)
    from lms.core import delivery

    delivery.init_app(app)


def configure_blueprints(app: Flask) -> None:
    from lms.accounts.views import bp as accounts_bp
    from lms.api.views import bp as api_bp
    from lms.audit.views import bp as audit_bp
    from lms.certs.views import bp as certs_bp
    from lms.core.views import bp as core_bp
    from lms.duplicates.views import bp as duplicates_bp
    from lms.extensions import csrf
    from lms.learning.views import bp as learning_bp
    from lms.numbers import IdConverter
    from lms.privacy.views import bp as privacy_bp
    from lms.quality.views import bp as quality_bp
    from lms.statistics.views import bp as statistics_bp
    from lms.team.views import bp as team_bp
    from lms.units.views import bp as units_bp

    app.url_map.converters["int"] = IdConverter  # before any rule: an absurd id is a 404, not a 500
    csrf.exempt(api_bp)  # bearer tokens, or the session with its CSRF header checked by lms.api.auth
    for blueprint in (core_bp, accounts_bp, units_bp, learning_bp, api_bp, certs_bp, team_bp, audit_bp, statistics_bp,
                      privacy_bp, duplicates_bp, quality_bp):
        app.register_blueprint(blueprint)


def configure_quality(app: Flask) -> None:
    from lms.quality import operations as quality

    quality.configure(app)  # the data-quality checks on write


def configure_caches(app: Flask) -> None:
    from lms import cache

    cache.configure(app)  # after the blueprints: their modules declare the caches


def configure_errors(app: Flask) -> None:
    from lms.core import errors

    errors.init_app(app)


def configure_cli(app: Flask) -> None:
    from lms import cli

    cli.init_app(app)
