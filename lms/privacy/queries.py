"""Finding everything held about one person, as the inventory declares it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from lms.audit.models import AuditEvent
from lms.certs.models import Certificate
from lms.extensions import db
from lms.learners.models import Consent, Learner
from lms.privacy.inventory import CERTIFICATE, DETAIL_KEYS, LEARNER, LOGIN, NAMING_ACTIONS, USER


@dataclass(frozen=True)
class Person:
    """The ids and logins under which a learner's rows are stored."""

    learner_id: int
    user_id: int | None
    logins: tuple[str, ...]
    certificate_ids: tuple[int, ...]
    since: datetime  # nothing can name them before their account existed
    addresses: tuple[str, ...] = ()  # IP addresses they acted from (consents, their own audit events)

    def ids(self, kind: str) -> tuple[int | str, ...]:
        return {LEARNER: (self.learner_id,), USER: (self.user_id,) if self.user_id else (),
                LOGIN: tuple(f"account:{login.lower()}"[:120] for login in self.logins),
                CERTIFICATE: self.certificate_ids}[kind]


def person_of(learner: Learner) -> Person:
    user = learner.user
    logins = tuple(login for login in (getattr(user, "username", None), getattr(user, "phone", None)) if login)
    certificate_ids = tuple(db.session.scalars(select(Certificate.id).where(Certificate.learner_id == learner.id)))
    started = min(filter(None, (learner.registered_dt, getattr(user, "created_dt", None))))
    person = Person(learner.id, getattr(user, "id", None), logins, certificate_ids, started - timedelta(minutes=5))
    addresses: set[str] = {address for address in db.session.scalars(select(Consent.ip_address).where(
        Consent.learner_id == learner.id)) if address}
    addresses |= {event.ip_address for event in audit_events_about(person)
                  if event.ip_address and event.actor_id in (None, person.user_id)}
    return replace(person, addresses=tuple(sorted(addresses)))


def names_person(details: object, person: Person) -> bool:
    """Whether audit `details` name one of the person's records (DETAIL_KEYS)."""
    if not isinstance(details, dict):
        return False
    for key, kind in DETAIL_KEYS.items():
        value = details.get(key)
        values = value if isinstance(value, list) else [value]
        if any(v in person.ids(kind) for v in values if v is not None):
            return True
    return False


def audit_events_about(person: Person) -> list[AuditEvent]:
    """Events with the person's learner id or account as actor, and bulk events that list them.

    Bulk events (cards, printing, account changes) name people inside `details` only; they
    are few, and only those since the person's account existed are read.
    """
    direct = [AuditEvent.learner_id == person.learner_id]
    if person.user_id is not None:
        direct.append(AuditEvent.actor_id == person.user_id)
    events = {event.id: event for event in db.session.scalars(select(AuditEvent).where(or_(*direct)))}
    candidates = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(NAMING_ACTIONS), AuditEvent.created_dt >= person.since))
    for event in candidates:
        if event.id not in events and names_person(event.details, person):
            events[event.id] = event
    return sorted(events.values(), key=lambda event: event.id)
