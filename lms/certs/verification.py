"""Public verification of a certificate by its code, with misses limited per address.

A verification code is an HMAC, so guessing one is hopeless one try at a time, but an
unlimited lookup would still let anyone script millions of tries and read names off
the hits. So each address may look up at most `VERIFY_MAX_MISSES_PER_ADDRESS` (30)
well-formed codes that match nothing within `VERIFY_MISS_WINDOW_SECONDS` (an hour);
after that every lookup from it is refused with 429 until old misses leave the window
(refusing hits too: answering hits but not misses would still tell a guess apart).
Hits never count, so a commune hall verifying real certificates is never stopped, and
another address's misses never stop anyone. A mistyped code (its check character does
not match) is refused before any lookup and does not count either.

The HTML page and the API lookup both call `lookup_public_certificate`, so the limit is
the same for both. The caller commits (a miss is one row). Misses are counted in the
database, so every worker and host shares the count, like the login throttle.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

import certificates
from lms.certs.models import Certificate, VerificationMiss
from lms.db import utcnow
from lms.errors import DomainError
from lms.extensions import db


class CodeMistypedError(DomainError):
    status = 400


class VerificationLimitError(DomainError):
    status = 429

    @property
    def retry_after(self) -> int:
        """Seconds to wait (the whole window: the answer must not say when the oldest miss leaves)."""
        return int(current_app.config["VERIFY_MISS_WINDOW_SECONDS"])


def mistyped_message():
    return _l("This code is incomplete or has a typing mistake. Check every character against the "
              "certificate: the code has 11 letters and digits, like K7XM-3FHP-94T.")


def limit_message():
    return _l("Too many codes that match no certificate were checked from your connection in the last hour. "
              "Please wait up to an hour and try again. If you are checking a real certificate, compare "
              "the code with the paper, or scan its QR code.")


def _address_key(address: str | None) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, (address or "-").encode(), hashlib.sha256).hexdigest()


def _window_start():
    return utcnow() - timedelta(seconds=current_app.config["VERIFY_MISS_WINDOW_SECONDS"])


def _misses_query(address: str | None):
    return select(func.count()).select_from(VerificationMiss).where(
        VerificationMiss.address_key == _address_key(address), VerificationMiss.missed_dt >= _window_start())


def misses_of(address: str | None) -> int:
    """Misses from this address within the window."""
    return db.session.scalar(_misses_query(address)) or 0


def _record_miss(address: str | None) -> None:
    db.session.add(VerificationMiss(address_key=_address_key(address)))
    # Forget misses older than the window, so the table stays small (and no address lingers).
    db.session.execute(delete(VerificationMiss).where(VerificationMiss.missed_dt < _window_start()))


def lookup_public_certificate(code: str, address: str | None) -> tuple[str, Certificate | None]:
    """(canonical code, certificate or None) for a public verifier at `address`.

    Raises CodeMistypedError for a code whose check character fails (before any lookup),
    VerificationLimitError once the address has used up its misses, and records a miss
    when a well-formed code matches nothing (or a certificate whose learner was erased).
    """
    canonical = certificates.normalize_code(code)
    if not certificates.is_well_formed(canonical):
        raise CodeMistypedError("code-mistyped", mistyped_message())
    limit = current_app.config["VERIFY_MAX_MISSES_PER_ADDRESS"]
    # A hit costs one statement: the certificate and the address's misses together.
    found = db.session.execute(select(Certificate, _misses_query(address).scalar_subquery())
                               .where(Certificate.verification_code == canonical)).first()
    misses = found[1] if found is not None else misses_of(address)
    if misses >= limit:
        raise VerificationLimitError("verify-limited", limit_message())
    certificate = found[0] if found is not None else None
    if certificate is not None and certificate.learner.is_deleted:
        certificate = None  # the learner's data was erased on request
    if certificate is None:
        _record_miss(address)
    return canonical, certificate
