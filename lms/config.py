"""Configuration read from the environment, with defaults for the embedded setup.

`make run` needs no settings at all: the database is SQLite under `instance/` and the
secret key is generated once into `instance/secret_key`. Production sets DATABASE_URL
(PostgreSQL through psycopg 3) and SECRET_KEY, and serves over HTTPS.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from lms.cache import parse_seconds

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("LMS_INSTANCE_DIR", BASE_DIR / "instance"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def instance_secret(name: str) -> str:
    """Read a secret from `instance/<name>`, creating it on first use.

    Every gunicorn worker reads the same file, so sessions and verification codes stay
    valid across workers and restarts without the operator choosing a key by hand.
    """
    path = INSTANCE_DIR / name
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


SECRET_SETTINGS = (("SECRET_KEY", "secret_key"), ("IDENTITY_HASH_KEY", "identity_key"),
                   ("CERTIFICATE_KEY", "certificate_key"))
MIN_SECRET_LENGTH = 32


class UnsafeProductionConfigError(RuntimeError):
    """Raised by create_app when LMS_ENV=production is set with settings only fit for a demo."""


def production_problems(config: dict[str, object]) -> list[str]:
    """What makes this configuration unfit for production (an empty list when it is fit).

    Generated secrets live in one machine's `instance/` folder: a second server would sign
    sessions and certificate codes with other keys, and a lost folder makes every national ID
    hash useless for duplicate detection. So production takes them from the environment."""
    problems = [f"{name} must be set in the environment (at least {MIN_SECRET_LENGTH} characters)"
                for name, _filename in SECRET_SETTINGS
                if len(str(config.get(name) or "")) < MIN_SECRET_LENGTH]
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        problems.append("DATABASE_URL must be set (the SQLite file under instance/ is for trying the app)")
    if not config.get("SESSION_COOKIE_SECURE"):
        problems.append("SESSION_COOKIE_SECURE must stay on (production is served over HTTPS)")
    if config.get("LOG_EXCEPTION_MESSAGES"):
        problems.append("LMS_LOG_EXCEPTION_MESSAGES must be off (exception messages may hold personal data)")
    return problems


def default_database_url() -> str:
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'lms.sqlite3'}"


class Config:
    # "production" makes create_app refuse generated secrets and insecure cookies.
    LMS_ENV = os.environ.get("LMS_ENV", "development").strip().lower()
    LOG_LEVEL = os.environ.get("LMS_LOG_LEVEL", "INFO").upper()
    LOG_REQUESTS = env_bool("LMS_LOG_REQUESTS", True)
    LOG_EXCEPTION_MESSAGES = env_bool("LMS_LOG_EXCEPTION_MESSAGES", False)

    SECRET_KEY = os.environ.get("SECRET_KEY") or None  # filled by create_app if unset
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or None
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, object] = {"pool_pre_ping": True}
    # Keyed hashes of national ID numbers use their own key, so rotating SECRET_KEY
    # (sessions) does not break duplicate detection.
    IDENTITY_HASH_KEY = os.environ.get("IDENTITY_HASH_KEY") or None
    CERTIFICATE_KEY = os.environ.get("CERTIFICATE_KEY") or None
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")

    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    LANGUAGES = ("vi", "en")

    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
    WTF_CSRF_TIME_LIMIT = 60 * 60 * 12  # a learner may read a lesson for a long time
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024

    # scrypt (Werkzeug's default KDF) with its default cost; tests lower it for speed.
    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt:32768:8:1")

    # Login throttling (lms.accounts.throttle). Within the window: a few failures per
    # account *and address* pair lock that pair only, so a stranger cannot lock the owner
    # out from elsewhere; many per address (a commune hall shares one address). Within the
    # longer account window, a slower limit per account from all addresses together, which
    # the owner's known device (a signed cookie from an earlier login) passes.
    LOGIN_WINDOW_SECONDS = 15 * 60
    LOGIN_MAX_FAILURES_PER_PAIR = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 50
    LOGIN_ACCOUNT_WINDOW_SECONDS = 60 * 60
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 20
    LOGIN_DEVICE_COOKIE_DAYS = 365

    # Where the effect of stored progress events is written (lms.learning.progress_log):
    # "background", by each worker's applier in groups (a province's phones syncing at
    # once cost about what storing their events costs), or "request", before answering.
    PROGRESS_APPLY = os.environ.get("PROGRESS_APPLY", "background").strip().lower()

    # API tokens stop working this many days after they were issued.
    API_TOKEN_DAYS = int(os.environ.get("API_TOKEN_DAYS", "90"))

    COURSES_DIR = str(BASE_DIR / "courses")

    # Shorter times to live for named caches (lms.cache), e.g. "content=1,villages=1".
    LMS_CACHE_SECONDS = parse_seconds(os.environ.get("LMS_CACHE_SECONDS", ""))

    # Public verification: well-formed codes that match nothing, per address and window
    # (lms.certs.verification); hits never count.
    VERIFY_MISS_WINDOW_SECONDS = 60 * 60
    VERIFY_MAX_MISSES_PER_ADDRESS = 30

    # Lookups of a phone or ID number by one staff member (registering, correcting) per
    # window, hits and misses alike (lms.duplicates): about one every two minutes, more
    # than registering in person allows, far less than guessing an ID number needs.
    IDENTITY_CHECK_WINDOW_SECONDS = 60 * 60
    IDENTITY_CHECKS_PER_HOUR = 30
    # Imports check whole files at once: rows uploaded per member in 24 hours.
    IDENTITY_IMPORT_ROWS_PER_DAY = 3000


class TestConfig(Config):
    TESTING = True
    # Tests read back what a request wrote as soon as it answers; the background applier
    # has its own tests (tests/learning/test_background_apply.py).
    PROGRESS_APPLY = "request"
    SECRET_KEY = "test-secret-key"  # noqa: S105  # nosec B105: tests only
    IDENTITY_HASH_KEY = "test-identity-key"
    CERTIFICATE_KEY = "test-certificate-key"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # noqa: S105  # nosec B105: a method name, not a password
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or None
