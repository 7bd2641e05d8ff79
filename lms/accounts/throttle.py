"""Login throttling per account and per address.

An account is locked for the window after a few failures, whatever address they come
from (password guessing from many machines). An address is only stopped after many
failures: a commune hall, where dozens of learners share one address and mistype their
passwords, must not be locked out by one person.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from lms.accounts.models import LoginFailure
from lms.db import utcnow
from lms.extensions import db


def _keys(login: str, address: str | None) -> tuple[str, str]:
    return f"account:{login.lower()}"[:120], f"address:{address or '-'}"[:120]


def _count(key: str, since) -> int:
    return db.session.scalar(
        select(func.count()).select_from(LoginFailure)
        .where(LoginFailure.key == key, LoginFailure.failed_dt >= since)
    ) or 0


def is_throttled(login: str, address: str | None) -> bool:
    config = current_app.config
    since = utcnow() - timedelta(seconds=config["LOGIN_WINDOW_SECONDS"])
    account_key, address_key = _keys(login, address)
    return (_count(account_key, since) >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
            or _count(address_key, since) >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"])


def record_failure(login: str, address: str | None) -> None:
    account_key, address_key = _keys(login, address)
    db.session.add_all([LoginFailure(key=account_key), LoginFailure(key=address_key)])
    # Forget failures older than the window, so the table stays small.
    cutoff = utcnow() - timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    db.session.execute(delete(LoginFailure).where(LoginFailure.failed_dt < cutoff))


def clear_account(login: str) -> None:
    account_key, _ = _keys(login, None)
    db.session.execute(delete(LoginFailure).where(LoginFailure.key == account_key))


def clear_addresses(addresses) -> None:
    """Forget the failures counted against these addresses (an erased learner's own)."""
    keys = [_keys("", address)[1] for address in addresses if address]
    if keys:
        db.session.execute(delete(LoginFailure).where(LoginFailure.key.in_(keys)))
