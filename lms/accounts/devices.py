"""Known devices: how the owner gets past a lock that a stranger's guesses caused.

After a successful login the browser keeps a signed cookie (`lms_device`, a year): a
random device id and the accounts that logged in on it, as keyed digests of their
normalised login (never the login itself, which is often a phone number). A login
attempt from such a device for one of those accounts is counted on the device's own
counter instead of the account-wide one (`lms.accounts.throttle`), so guesses from
elsewhere cannot lock the owner out of the phone they always use. A copied device cookie
buys no more than the per-address rate, and only for accounts that logged in on it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE_NAME = "lms_device"
MAX_ACCOUNTS = 5  # a family's shared phone
_SALT = "lms-login-device"


@dataclass(frozen=True)
class Device:
    id: str
    accounts: tuple[str, ...] = ()

    def knows(self, login_key: str) -> bool:
        return account_digest(login_key) in self.accounts


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def account_digest(login_key: str) -> str:
    key = hashlib.sha256(f"{_SALT}:{current_app.secret_key}".encode()).digest()
    return hmac.new(key, login_key.encode(), hashlib.sha256).hexdigest()[:24]


def _max_age() -> int:
    return int(current_app.config["LOGIN_DEVICE_COOKIE_DAYS"]) * 24 * 60 * 60


def read(cookies) -> Device | None:
    """The device named by a valid cookie in `cookies` (request.cookies), or None."""
    raw = cookies.get(COOKIE_NAME)
    if not raw or len(raw) > 1000:
        return None
    try:
        data = _serializer().loads(raw, max_age=_max_age())
    except BadSignature:
        return None
    if (not isinstance(data, dict) or not isinstance(data.get("d"), str)
            or not isinstance(data.get("a"), list) or not all(isinstance(a, str) for a in data["a"])):
        return None
    return Device(data["d"], tuple(data["a"][-MAX_ACCOUNTS:]))


def remember(response, device: Device | None, login_key: str) -> None:
    """After a successful login: this device now knows the account (cookie renewed)."""
    device = device or Device(secrets.token_urlsafe(12))
    digest = account_digest(login_key)
    accounts = [a for a in device.accounts if a != digest][-(MAX_ACCOUNTS - 1):] + [digest]
    response.set_cookie(COOKIE_NAME, _serializer().dumps({"d": device.id, "a": accounts}), max_age=_max_age(),
                        secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True, samesite="Lax")
