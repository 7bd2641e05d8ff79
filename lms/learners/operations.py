"""Write operations on learners. They flush; the request or command commits once."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lms.audit.operations import record
from lms.db import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.learners import events
from lms.learners.consent import CURRENT, TEXTS
from lms.learners.models import SEXES, Consent, Learner
from lms.text import clean_text, fold, person_sort_key
from lms.units.models import COMMUNE, VILLAGE, Unit


class LearnerError(DomainError):
    pass


def validate_residence(commune: Unit | None, village: Unit | None) -> None:
    if commune is None or commune.level != COMMUNE or not commune.is_current:
        raise LearnerError("commune-required", _l("Choose the commune where the learner lives."), field="commune")
    if village is not None and (village.level != VILLAGE or village.commune_id != commune.id
                                or not village.is_current):
        raise LearnerError("village-invalid", _l("Choose a village of the chosen commune."), field="village")


def validate_name(full_name: str) -> str:
    name = clean_text(full_name)
    if len(name) < 2 or len(name) > 120 or not any(ch.isalpha() for ch in name):
        raise LearnerError("name-invalid", _l("Enter the full name as on the ID card (2–120 characters)."),
                           field="full_name")
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
