"""Write operations on learners. They flush; the request or command commits once."""

from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l

from lms.accounts.models import REVOKED_BY_ERASURE
from lms.accounts.tokens import revoke_tokens
from lms.audit.operations import record
from lms.db import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.learners import events
from lms.learners.consent import CURRENT, TEXTS
from lms.learners.models import SEXES, Consent, Learner
from lms.text import fold, name_problem, normalise_name, person_sort_key
from lms.units.models import COMMUNE, VILLAGE, Unit


class LearnerError(DomainError):
    pass


def validate_residence(commune: Unit | None, village: Unit | None) -> None:
    if commune is None or commune.level != COMMUNE or not commune.is_current:
        raise LearnerError("commune-required", _l("Choose the commune where the learner lives."), field="commune")
    if village is not None and (village.level != VILLAGE or village.commune_id != commune.id
                                or not village.is_current):
        raise LearnerError("village-invalid", _l("Choose a village of the chosen commune."), field="village")


NAME_MESSAGES = {
    "name-invalid": _l("Enter the full name as on the ID card (2–120 characters)."),
    "name-character": _l("A name cannot contain “{char}” ({codepoint}). Write it with the letters of the Vietnamese "
                         "alphabet, as on the ID card; spaces, apostrophes (') and hyphens (-) may stand "
                         "between words."),
    "name-shape": _l("Start and end the name with a letter; an apostrophe or a hyphen stands between "
                     "letters, as in H'Hen or Nguyễn-Trần."),
}


def validate_name(full_name: str) -> str:
    """The full name as stored (NFC, one kind of apostrophe), or LearnerError.

    The one name rule (lms.text.name_problem) for every path that takes a name: self
    sign-up, the team's forms, corrections, /my-data and the import. What it accepts,
    the certificate prints (docs/decisions.md, "Names").
    """
    name = normalise_name(full_name)
    problem = name_problem(name)
    if problem is not None:
        code, params = problem
        raise LearnerError(code, NAME_MESSAGES[code], field="full_name", **params)
    return name


def create_learner(*, user, full_name: str, commune: Unit, village: Unit | None = None,
                   birth_year: int | None = None, sex: str | None = None,
                   registered_by=None) -> Learner:
    """Create the personal record of a learner account."""
    name = validate_name(full_name)
    validate_residence(commune, village)
    if sex is not None and sex not in SEXES:
        raise LearnerError("sex-invalid", _l("Choose female or male."), field="sex")
    learner = Learner(
        user_id=user.id if user else None,
        full_name=name,
        name_folded=fold(name),
        name_sort_key=person_sort_key(name),
        birth_year=birth_year,
        sex=sex,
        province_id=commune.province_id,
        commune_id=commune.id,
        village_id=village.id if village else None,
        registered_by_id=getattr(registered_by, "id", None),
    )
    db.session.add(learner)
    db.session.flush()
    record("learner.create", actor=registered_by or user, learner=learner)
    events.learner_registered.send(learner)
    return learner


def give_consent(learner: Learner, version: str, locale: str, *, collected_by=None,
                 ip_address: str | None = None) -> Consent:
    """Record consent to the text `version`, with who collected it and when."""
    if version not in TEXTS:
        raise LearnerError("consent-version-unknown", _l("Unknown consent text."))
    consent = Consent(learner_id=learner.id, purpose=TEXTS[version]["purpose"], text_version=version,
                      locale=locale, collected_by_id=getattr(collected_by, "id", None),
                      ip_address=ip_address, given_dt=utcnow())
    db.session.add(consent)
    record("consent.give", actor=collected_by, learner=learner, version=version)
    return consent


def current_consent_version(purpose: str) -> str:
    return CURRENT[purpose]


# --- Corrections, moves, consent withdrawal and erasure ---------------------------------

def set_national_id(learner: Learner, number: str | None) -> None:
    """Keep only the keyed hash and the last four digits of a checked ID number."""
    from lms.learners.identity import national_id_hash

    learner.national_id_hash = national_id_hash(number) if number else None
    learner.national_id_last4 = number[-4:] if number else None


def update_learner(learner: Learner, *, actor, full_name: str, birth_year: int | None,
                   sex: str | None, village: Unit | None) -> dict:
    """Correct a learner's personal data; returns the names of the fields that changed."""
    name = validate_name(full_name)
    validate_residence(learner.commune, village)
    if sex is not None and sex not in SEXES:
        raise LearnerError("sex-invalid", _l("Choose female or male."), field="sex")
    new = {"full_name": name, "birth_year": birth_year, "sex": sex, "village_id": village.id if village else None}
    changed = sorted(key for key, value in new.items() if getattr(learner, key) != value)
    old_village_id = learner.village_id
    # Write pending changes (a new enrolment, say) first, so statistics count them in
    # the learner's old group and then move them, instead of counting them twice.
    db.session.flush()
    for key in changed:
        if key != "village_id":
            setattr(learner, key, new[key])
    if "village_id" in changed:
        # A correction and a move are counted one after the other, never in one flush.
        db.session.flush()
        learner.village_id = new["village_id"]
    if "full_name" in changed:
        learner.name_folded = fold(name)
        learner.name_sort_key = person_sort_key(name)
        if learner.user is not None:
            learner.user.display_name = name
    if changed:
        record("learner.update", actor=actor, learner=learner, fields=changed)
        if "village_id" in changed:
            events.learner_moved.send(learner, old_commune_id=learner.commune_id, old_village_id=old_village_id)
        if "full_name" in changed:
            events.learner_renamed.send(learner)
    return {"changed": changed}


def move_learner(learner: Learner, *, actor, commune: Unit, village: Unit | None) -> None:
    """Transfer a learner to another commune; progress and certificates stay theirs."""
    validate_residence(commune, village)
    old_commune_id, old_village_id = learner.commune_id, learner.village_id
    if (old_commune_id, old_village_id) == (commune.id, getattr(village, "id", None)):
        return
    db.session.flush()  # pending changes are counted in the old commune, then moved with the rest
    learner.province_id = commune.province_id
    learner.commune_id = commune.id
    learner.village_id = village.id if village else None
    db.session.flush()
    record("learner.move", actor=actor, learner=learner, old_commune_id=old_commune_id,
           old_village_id=old_village_id)
    # The old commune also keeps a trace in its own audit log.
    record("learner.move_out", actor=actor, learner=learner, unit_id=old_commune_id, new_commune_id=commune.id)
    events.learner_moved.send(learner, old_commune_id=old_commune_id, old_village_id=old_village_id)


def withdraw_consent(learner: Learner, purpose: str, *, actor) -> int:
    """Withdraw every active consent for `purpose`; returns how many were withdrawn."""
    consents = [c for c in db.session.scalars(db.select(Consent).where(
        Consent.learner_id == learner.id, Consent.purpose == purpose, Consent.withdrawn_dt.is_(None)))]
    for consent in consents:
        consent.withdrawn_dt = utcnow()
    if consents:
        record("consent.withdraw", actor=actor, learner=learner, purpose=purpose)
    return len(consents)


def erase_learner(learner: Learner, *, actor) -> None:
    """Erase a learner's personal data on request; anonymous counts survive.

    The row stays (commune, birth year and sex, no name) so anonymous counts and
    certificate numbers keep adding up; the name, the login, the ID hash and the
    printed names on certificates are blanked and the account is disabled.
    """
    from lms.certs.models import Certificate

    if learner.is_deleted:
        return
    events.learner_deleted.send(learner)
    user = learner.user
    learner.full_name = ""
    learner.name_folded = ""
    learner.name_sort_key = ""
    learner.national_id_hash = None
    learner.national_id_last4 = None
    learner.is_deleted = True
    learner.deleted_dt = utcnow()
    for certificate in db.session.scalars(db.select(Certificate).where(Certificate.learner_id == learner.id)):
        certificate.full_name = ""
    if user is not None:
        user.username = None
        user.phone = None
        user.display_name = ""
        user.password_hash = ""  # no password matches an empty hash  # nosec B105: an empty hash, which no password matches
        user.is_active_account = False
        user.session_token = secrets.token_hex(8)  # ends every session
        revoke_tokens(user, REVOKED_BY_ERASURE)  # and every API token
    for consent in db.session.scalars(db.select(Consent).where(
            Consent.learner_id == learner.id, Consent.withdrawn_dt.is_(None))):
        consent.withdrawn_dt = utcnow()
        consent.ip_address = None
    record("learner.erase", actor=actor, learner=learner)
