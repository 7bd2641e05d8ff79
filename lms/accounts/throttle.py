"""Login throttling: per account and address, per address, and per account overall.

Failures are counted on several keys, in the database so every gunicorn worker and host
sees the same counts:

- `pair:<login>|<address>`: a few failures (5 in 15 minutes) lock that account *from that
  address* only. A stranger guessing from one place does not lock the owner out on
  another.
- `address:<ip>`: many failures (50 in 15 minutes) stop an address whatever account it
  tries. The limit is high because a commune hall shares one address.
- `account:<login>`: a slower limit (20 an hour) from all addresses together, so guessing
  from many machines stays expensive. It locks everyone out of the account, except the
  owner on a device they logged in on before (`lms.accounts.devices`), whose attempts
  are counted on `device:<id>` with the per-pair limit instead.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from lms.accounts.models import LoginFailure
from lms.db import utcnow
from lms.extensions import db

PAIR, ADDRESS, ACCOUNT, DEVICE = "pair", "address", "account", "device"


def _keys(login: str, address: str | None, device_id: str | None) -> dict[str, str]:
    login, address = login.lower(), address or "-"
    if device_id:
        return {DEVICE: f"device:{device_id}"[:120], ACCOUNT: f"account:{login}"[:120]}
    return {PAIR: f"pair:{login}|{address}"[:120], ADDRESS: f"address:{address}"[:120],
            ACCOUNT: f"account:{login}"[:120]}


def _count(key: str, since) -> int:
    return db.session.scalar(
        select(func.count()).select_from(LoginFailure)
        .where(LoginFailure.key == key, LoginFailure.failed_dt >= since)
    ) or 0


def throttled_by(login: str, address: str | None, device_id: str | None = None) -> str | None:
    """Which limit stops this attempt (PAIR, ADDRESS, ACCOUNT or DEVICE), or None.

    `device_id`: the attempt comes from a device this account logged in on before.
    """
    config = current_app.config
    now = utcnow()
    short = now - timedelta(seconds=config["LOGIN_WINDOW_SECONDS"])
    keys = _keys(login, address, device_id)
    if device_id:
        return DEVICE if _count(keys[DEVICE], short) >= config["LOGIN_MAX_FAILURES_PER_PAIR"] else None
    if _count(keys[PAIR], short) >= config["LOGIN_MAX_FAILURES_PER_PAIR"]:
        return PAIR
    if _count(keys[ADDRESS], short) >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]:
        return ADDRESS
    since = now - timedelta(seconds=config["LOGIN_ACCOUNT_WINDOW_SECONDS"])
    if _count(keys[ACCOUNT], since) >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]:
        return ACCOUNT
    return None


def is_throttled(login: str, address: str | None, device_id: str | None = None) -> bool:
    return throttled_by(login, address, device_id) is not None


def record_failure(login: str, address: str | None, device_id: str | None = None) -> None:
    db.session.add_all([LoginFailure(key=key) for key in _keys(login, address, device_id).values()])
    # Forget failures older than the longest window, so the table stays small.
    config = current_app.config
    cutoff = utcnow() - timedelta(seconds=max(config["LOGIN_WINDOW_SECONDS"], config["LOGIN_ACCOUNT_WINDOW_SECONDS"]))
    db.session.execute(delete(LoginFailure).where(LoginFailure.failed_dt < cutoff))


def clear_account(login: str) -> None:
    """Forget every failure counted against this login (an erased learner's), on any address."""
    keys = _keys(login, None, None)
    db.session.execute(delete(LoginFailure).where(
        (LoginFailure.key == keys[ACCOUNT]) | LoginFailure.key.startswith(f"pair:{login.lower()}|", autoescape=True)))


def clear_addresses(addresses) -> None:
    """Forget the failures counted against these addresses (an erased learner's own)."""
    keys = [_keys("", address, None)[ADDRESS] for address in addresses if address]
    if keys:
        db.session.execute(delete(LoginFailure).where(LoginFailure.key.in_(keys)))


def clear_after_login(login: str, address: str | None, device_id: str | None = None) -> None:
    """The right password: forget this pair's (or device's) failures. The account-wide
    count stays, so the owner's logins do not buy a stranger more guesses."""
    keys = _keys(login, address, device_id)
    keys.pop(ACCOUNT)
    keys.pop(ADDRESS, None)
    db.session.execute(delete(LoginFailure).where(LoginFailure.key.in_(list(keys.values()))))
