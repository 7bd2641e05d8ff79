"""Team writes: register a learner with a login card, issue a new card or a batch of cards.

A learner registered by a team has a login account with a generated username (from
the folded given name and digits) and a first PIN printed on a card; the learner must
choose a real password at first login (`User.must_change_password`).

First PINs are hashed with a cheaper, still salted scrypt (`FIRST_PIN_HASH_METHOD`,
n=4096: about 10 ms instead of about 100 ms for a full-cost password), so a batch of
500 cards is issued in about five seconds instead of a minute. This is safe enough
because a first PIN only lives until the first login, where `must_change_password`
makes the learner choose a real password, hashed at full cost by `set_password`.
The login path verifies any werkzeug hash, whatever its method. The PIN itself is
never stored or logged: it exists only in the printed page.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.security import generate_password_hash

from lms.access import check
from lms.accounts.models import LEARNER, REVOKED_BY_CARD, User
from lms.accounts.tokens import revoke_tokens_of
from lms.audit.operations import record
from lms.duplicates.operations import begin_check, record_check
from lms.errors import DomainError
from lms.extensions import db
from lms.learners.consent import LEARNING
from lms.learners.identity import check_national_id, national_id_hash
from lms.learners.models import Learner
from lms.learners.operations import (
    create_learner,
    current_consent_version,
    give_consent,
    set_national_id,
    validate_name,
)
from lms.team import queries
from lms.team.queries import NAME_YEAR, NATIONAL_ID, PHONE
from lms.text import fold
from lms.units.models import Unit
from lms.validation import normalize_phone

PIN_DIGITS = 8
FIRST_PIN_HASH_METHOD = "scrypt:4096:8:1"  # see the module docstring; config: FIRST_PIN_HASH_METHOD
MAX_CARDS = 500  # cards on one printed page (about 63 A4 sheets), issued in a few seconds


class TeamError(DomainError):
    pass


class DuplicateLearnerError(DomainError):
    status = 409

    def __init__(self, duplicates, identity_checks=()):
        super().__init__("learner-duplicate", _l("This person may already be registered."))
        self.duplicates = duplicates
        self.identity_checks = [check for check in identity_checks if check]  # audited after the rollback

    @property
    def overridable(self) -> bool:
        """Only a name + birth year match may be registered anyway (namesakes exist)."""
        return all(d.kind == NAME_YEAR for d in self.duplicates)


@dataclass
class LoginCard:
    learner: Learner
    username: str
    pin: str


def new_pin() -> str:
    """Eight random digits that pass the password rules (no runs like 12345678)."""
    while True:
        pin = "".join(secrets.choice("0123456789") for _ in range(PIN_DIGITS))
        if len(set(pin)) >= 3 and pin not in "0123456789012345678909876543210":
            return pin


def hash_first_pin(pin: str) -> str:
    """A salted hash of a first PIN, cheaper than a chosen password's (see the docstring)."""
    return generate_password_hash(pin, method=current_app.config.get("FIRST_PIN_HASH_METHOD",
                                                                      FIRST_PIN_HASH_METHOD))


def has_login(user: User | None) -> bool:
    """Whether the account already has a password (a card issued or its own password)."""
    return user is not None and bool(user.password_hash)


def username_base(full_name: str) -> str:
    """ASCII letters of the folded given name ('H'Hen Niê' → 'nie'), or 'hv' (học viên)."""
    words = fold(full_name).split()
    given = re.sub(r"[^a-z0-9]", "", words[-1] if words else "")[:20]
    return given if len(given) >= 2 else "hv"


def new_usernames(full_names: list[str], taken: set[str] | None = None) -> list[str]:
    """One unused username per name: given name + random digits, checked in bulk.

    Five digits first; every retry round adds a digit, so popular given names
    ("lan", "hoa") never run out across the country.
    """
    taken = set(taken or ())
    result: list[str | None] = [None] * len(full_names)
    pending = list(range(len(full_names)))
    digits = 5
    while pending:
        candidates = {i: f"{username_base(full_names[i])}{secrets.randbelow(10 ** digits):0{digits}d}"
                      for i in pending}
        in_use = queries.taken_usernames(list(candidates.values())) | taken
        pending = []
        digits = min(digits + 1, 10)
        for i, candidate in candidates.items():
            if candidate in in_use or candidate in taken:
                pending.append(i)
            else:
                result[i] = candidate
                taken.add(candidate)
    return result  # type: ignore[return-value]


def parse_phone(value: str | None) -> str | None:
    if not value:
        return None
    phone = normalize_phone(value)
    if phone is None:
        raise TeamError("phone-invalid", _l(
            "Enter a mobile number of 10 digits starting with 03, 05, 07, 08 or 09 (or +84…), or leave it empty."),
            field="phone")
    return phone


def register_learner(member, *, commune: Unit, village: Unit | None, full_name: str, birth_year: int | None,
                     sex: str | None, phone: str | None, national_id: str | None, consent_given: bool,
                     locale: str, register_anyway: bool = False) -> LoginCard:
    """Register a learner met in person, with consent, and issue their first login card.

    Raises DuplicateLearnerError when the same phone, ID number, or name and birth year in
    the commune is already registered; only the last may be overridden.
    """
    check(member, "write_learners", village or commune)
    if not consent_given:
        raise TeamError("consent-required", _l(
            "Read the consent text to the person and tick the box once they agree."), field="consent")
    name = validate_name(full_name)
    phone = parse_phone(phone)
    number = check_national_id(national_id, birth_year=birth_year, sex=sex) if national_id else None
    identity_check = begin_check(member, form="register", unit_id=commune.id,
                                  fields=(PHONE if phone else "", NATIONAL_ID if number else ""))
    duplicates = queries.find_duplicates(member, commune_id=commune.id, name=name, birth_year=birth_year,
                                         phone=phone, id_hash=national_id_hash(number) if number else None)
    if identity_check:
        identity_check.found = any(d.kind in identity_check.fields for d in duplicates)
    if duplicates and not (register_anyway and all(d.kind == NAME_YEAR for d in duplicates)):
        raise DuplicateLearnerError(duplicates, [identity_check])
    record_check(member, identity_check)
    pin = new_pin()
    (username,) = new_usernames([name])
    user = User(role=LEARNER, username=username, phone=phone, display_name=name, locale=locale,
                password_hash=hash_first_pin(pin), must_change_password=True, session_token=secrets.token_hex(8))
    db.session.add(user)
    db.session.flush()
    learner = create_learner(user=user, full_name=name, commune=commune, village=village,
                             birth_year=birth_year, sex=sex, registered_by=member)
    set_national_id(learner, number)
    give_consent(learner, current_consent_version(LEARNING), locale, collected_by=member)
    record("learner.card", actor=member, learner=learner)
    return LoginCard(learner, username, pin)


def _set_first_pin(user: User) -> str:
    """A new first PIN for the account; every session and API token of it ends."""
    pin = new_pin()
    user.password_hash = hash_first_pin(pin)
    user.must_change_password = True
    user.is_active_account = True
    user.session_token = secrets.token_hex(8)
    return pin


def _revoke_api_tokens(user_ids: list[int]) -> None:
    revoke_tokens_of(user_ids, REVOKED_BY_CARD)  # API tokens end with the password, like sessions


def issue_login_card(learner: Learner, *, by) -> LoginCard:
    """A new first PIN (ending every session of the account), printed on a new card."""
    check(by, "write_learners", learner)
    user = learner.user
    if user is None or learner.is_deleted:
        raise TeamError("card-no-account", _l("This learner has no login account."))
    if not user.username:
        (user.username,) = new_usernames([learner.full_name])
    pin = _set_first_pin(user)
    _revoke_api_tokens([user.id])
    record("learner.card", actor=by, learner=learner)
    return LoginCard(learner, user.username, pin)


@dataclass
class CardBatch:
    cards: list[LoginCard]
    already: int = 0  # left out: they have a login already and no reissue was asked for
    no_account: int = 0  # left out: no login account (cannot get a card)


def issue_login_cards(learners: list[Learner], *, by, reissue: bool = False, unit_id: int | None = None,
                      source: str = "list") -> CardBatch:
    """First PINs for many learners at once, for one printed page of cards.

    Learners who already have a password (an earlier card or their own) are left out
    unless `reissue` is set: replacing a password someone uses must be chosen on
    purpose. One audit row lists the learner ids of the batch (never the PINs).
    Every learner must be one `by` may change (`NotAllowedError` otherwise).
    """
    check(by, "write_learners")
    for learner in learners:
        check(by, "write_learners", learner)
    if len(learners) > MAX_CARDS:
        raise TeamError("cards-too-many", _l("At most {limit} cards can be printed at once. "
                                              "Narrow the list, then print again."), limit=MAX_CARDS)
    batch = CardBatch(cards=[])
    chosen: list[Learner] = []
    for learner in learners:
        if learner.is_deleted or learner.user is None:
            batch.no_account += 1
        elif has_login(learner.user) and not reissue:
            batch.already += 1
        else:
            chosen.append(learner)
    missing = [learner for learner in chosen if not learner.user.username]
    for learner, username in zip(missing, new_usernames([learner.full_name for learner in missing]), strict=True):
        learner.user.username = username
    reissued = []
    for learner in chosen:
        if has_login(learner.user):
            reissued.append(learner.id)
        batch.cards.append(LoginCard(learner, learner.user.username, _set_first_pin(learner.user)))
    if chosen:
        _revoke_api_tokens([learner.user.id for learner in chosen])
        record("learner.cards", actor=by, unit_id=unit_id if unit_id is not None else chosen[0].commune_id,
               source=source, count=len(chosen), learner_ids=[learner.id for learner in chosen],
               reissued_ids=reissued)
    return batch


def _taken(code: str, message, field: str, check) -> TeamError:
    error = TeamError(code, message, field=field)
    error.identity_checks = [check]  # type: ignore[attr-defined]  # audited after the rollback
    return error


def update_contact(learner: Learner, *, actor, phone: str | None, national_id: str | None,
                   clear_national_id: bool = False) -> list[str]:
    """Correct the phone and (re-)enter the ID number, checking for duplicates."""
    check(actor, "write_learners", learner)
    changed = []
    phone = parse_phone(phone)
    user = learner.user
    new_phone = user is not None and phone != user.phone
    number = check_national_id(national_id, birth_year=learner.birth_year, sex=learner.sex) if national_id else None
    digest = national_id_hash(number) if number else None
    new_number = digest is not None and digest != learner.national_id_hash
    identity_check = begin_check(actor, form="edit", learner=learner, unit_id=learner.commune_id,
                                  fields=(PHONE if new_phone and phone else "", NATIONAL_ID if new_number else ""))
    phone_taken = bool(identity_check and PHONE in identity_check.fields and db.session.scalar(
        db.select(User.id).where(User.phone == phone, User.id != user.id)))
    number_taken = bool(identity_check and NATIONAL_ID in identity_check.fields and db.session.scalar(
        db.select(Learner.id).where(Learner.national_id_hash == digest, Learner.id != learner.id)))
    if identity_check:
        identity_check.found = phone_taken or number_taken
    if phone_taken:
        raise _taken("phone-taken", _l("This phone number belongs to another account."), "phone", identity_check)
    if number_taken:
        raise _taken("national-id-taken", _l("This ID number is already registered for another learner."),
                     "national_id", identity_check)
    record_check(actor, identity_check)
    if new_phone:
        user.phone = phone
        changed.append("phone")
    if new_number:
        set_national_id(learner, number)
        changed.append("national_id")
    elif clear_national_id and not national_id and learner.national_id_hash:
        set_national_id(learner, None)
        changed.append("national_id")
    if changed:
        record("learner.update", actor=actor, learner=learner, fields=changed)
    return changed
