"""Accounts: who can log in, in which role, over which units.

Everyone who logs in has a `User` row. Learners log in with a phone number or a
username issued by their team (never an email); their personal data lives in
`learners.Learner`, one row per learner account. Staff accounts carry a role and the
unit their work covers (`scope_unit`); a community team member may be narrowed further
to some villages of the commune. `lms.access.scope_units` turns that into filters.
"""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import UTCDateTime, utcnow
from lms.extensions import db
from lms.units.models import Unit

LEARNER = "learner"
TEAM_MEMBER = "team_member"
COMMUNE_OFFICIAL = "commune_official"
PROVINCE_OFFICIAL = "province_official"
NATIONAL_ADMIN = "national_admin"
ROLES = (LEARNER, TEAM_MEMBER, COMMUNE_OFFICIAL, PROVINCE_OFFICIAL, NATIONAL_ADMIN)
STAFF_ROLES = ROLES[1:]
# The level of unit each staff role is attached to.
ROLE_UNIT_LEVEL = {
    TEAM_MEMBER: "commune",
    COMMUNE_OFFICIAL: "commune",
    PROVINCE_OFFICIAL: "province",
    NATIONAL_ADMIN: "nation",
}

team_member_villages = Table(
    "team_member_villages",
    db.metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", Integer, ForeignKey("units.id"), primary_key=True),
    comment="Villages a team member is limited to; none means the whole commune",
)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = {"comment": "Login accounts of learners and staff"}

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str | None] = mapped_column(String(64), unique=True, comment="Lower-case login name; NULL if the account logs in by phone")
    phone: Mapped[str | None] = mapped_column(String(16), unique=True, comment="Mobile number in E.164 (+84…)")
    password_hash: Mapped[str] = mapped_column(String(255), comment="Werkzeug scrypt hash")
    role: Mapped[str] = mapped_column(String(20), index=True, comment="learner, team_member, commune_official, province_official, national_admin")
    display_name: Mapped[str] = mapped_column(String(200), comment="Name shown in the interface")
    locale: Mapped[str | None] = mapped_column(String(5), comment="Chosen interface language; NULL = from the browser")
    scope_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True, comment="Unit a staff account works on")
    is_active_account: Mapped[bool] = mapped_column("is_active", Boolean, default=True, comment="False once disabled or deleted")
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, comment="First password issued by a team member")
    session_token: Mapped[str] = mapped_column(String(32), comment="Changes with the password so old sessions end")
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    scope_unit: Mapped[Unit | None] = relationship(foreign_keys=[scope_unit_id])
    villages: Mapped[list[Unit]] = relationship(secondary=team_member_villages)
    # Named, not imported: lms.learners.models builds on this module (no import cycle);
    # the ORM resolves the name when the mappers are configured.
    learner: Mapped[Learner | None] = relationship(  # noqa: F821 - defined in lms.learners.models
        "Learner", back_populates="user", uselist=False, foreign_keys="Learner.user_id")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return bool(self.is_active_account)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def get_id(self) -> str:
        # The session names the account *and* its current token: changing the
        # password (or a team member's reset) ends every existing session.
        return f"{self.id}:{self.session_token}"

    @property
    def login_name(self) -> str:
        return self.username or self.phone or ""

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class LoginFailure(db.Model):
    """One failed login, kept for the throttling window only.

    Stored in the database (not in process memory) so every gunicorn worker and host
    sees the same count.
    """

    __tablename__ = "login_failures"
    __table_args__ = {"comment": "Recent failed logins, for throttling"}

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), index=True, comment="'account:<login>' or 'address:<ip>'")
    failed_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


# Why a token stopped working before its expiry (`ApiToken.revoked_reason`).
REVOKED_BY_CLIENT = "client"  # DELETE /api/v1/tokens/current
REVOKED_ON_ACCOUNT = "account"  # the learner revoked it on /account
REVOKED_BY_NEW_CREDENTIAL = "password"  # the password changed (also a team member's reset)
REVOKED_BY_LOGOUT_ALL = "logout-all"  # "log out everywhere"
REVOKED_BY_CARD = "card"  # a new login card was issued
REVOKED_BY_ERASURE = "erasure"  # the learner's data was erased


class ApiToken(db.Model):
    """A bearer token of an API client (a phone app); only its SHA-256 is stored.

    It works until `expires_dt` (`API_TOKEN_DAYS` after it was issued) unless revoked
    first: by the client, on /account, or with every other token of the account when the
    password changes, a new login card is issued, the learner logs out everywhere or
    their data is erased (`lms.accounts.operations.revoke_tokens`).
    """

    __tablename__ = "api_tokens"
    __table_args__ = {"comment": "Bearer tokens for API clients; only a hash is stored"}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="SHA-256 of the token")
    name: Mapped[str] = mapped_column(String(80), comment="Which device or client")
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_dt: Mapped[datetime] = mapped_column(UTCDateTime, comment="Stops working at this time (API_TOKEN_DAYS after issue)")
    revoked_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(
        String(20), comment="client, account, password, logout-all, card or erasure")

    def is_live(self, now: datetime) -> bool:
        return self.revoked_dt is None and self.expires_dt > now
