"""Identity checks (limited, audited) and duplicate requests (filed, resolved).

A check is counted whether it finds something or not: misses are what a guesser mostly
gets, so counting hits alone would not slow guessing down. A refused check is audited
too, as `identity.check_refused`, so an official reading the log sees the probe.

Operations that fail roll the request back, audit rows included, but a check must count
even then: they attach their checks to the error (`identity_checks`), and the view calls
`keep_checks` after its rollback.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeTimedSerializer

from lms.access import may
from lms.audit.operations import record
from lms.db import utcnow
from lms.duplicates import queries
from lms.duplicates.models import DISMISSED, KINDS, MOVED, OPEN, DuplicateRequest
from lms.errors import DomainError, NotAllowedError
from lms.extensions import db
from lms.learners.models import Learner
from lms.learners.operations import move_learner, validate_name
from lms.text import clean_text

NOTE_MAX_LENGTH = 500
MATCH_MAX_AGE = 24 * 60 * 60  # a match found today may be filed today


class IdentityCheckLimitError(DomainError):
    status = 429

    def __init__(self, check: IdentityCheck):
        super().__init__("identity-check-limit", _l(
            "For privacy, one account may check at most {limit} phone or ID numbers in an hour, and this "
            "account has reached that. Try again in an hour, or register the person now without phone and "
            "ID number and add them later."), limit=current_app.config["IDENTITY_CHECKS_PER_HOUR"])
        check.refused = True
        self.identity_checks = [check]

    @property
    def retry_after(self) -> int:
        return int(current_app.config["IDENTITY_CHECK_WINDOW_SECONDS"])


class ImportCheckLimitError(DomainError):
    """An import checks every row's phone and ID number at once: its own, daily budget of rows."""

    status = 429

    def __init__(self, check: IdentityCheck, *, left: int):
        super().__init__("identity-import-limit", _l(
            "For privacy, one account may check at most {limit} imported rows in a day; {left} are left today. "
            "Split the file, or import the rest tomorrow."),
            limit=current_app.config["IDENTITY_IMPORT_ROWS_PER_DAY"], left=max(0, left))
        check.refused = True
        self.identity_checks = [check]

    @property
    def retry_after(self) -> int:
        return 24 * 60 * 60


class DuplicateRequestError(DomainError):
    pass


@dataclass
class IdentityCheck:
    """One lookup of a phone and/or ID number, to be audited (never the values themselves)."""

    form: str  # register, edit
    fields: tuple[str, ...]  # phone, national_id
    unit_id: int | None = None  # the commune the member works in
    learner: Learner | None = None  # the learner being corrected (edit)
    found: bool = False
    refused: bool = False


def begin_check(member, *, form: str, fields: tuple[str, ...], unit_id: int | None = None,
                learner: Learner | None = None) -> IdentityCheck | None:
    """A check about to be made, or None when nothing is looked up; raises
    IdentityCheckLimitError once the member has used up the hour's checks."""
    fields = tuple(f for f in fields if f)
    if not fields:
        return None
    check = IdentityCheck(form=form, fields=fields, unit_id=unit_id, learner=learner)
    if queries.checks_left(member) <= 0:
        raise IdentityCheckLimitError(check)
    return check


def record_check(member, check: IdentityCheck | None) -> None:
    """Append the audit event of one check (or of its refusal)."""
    if check is None:
        return
    record(queries.CHECK_REFUSED if check.refused else queries.CHECK, actor=member, learner=check.learner,
           unit_id=check.unit_id, form=check.form, fields=list(check.fields), found=check.found)


def keep_checks(member, error: BaseException) -> bool:
    """After a rollback: audit again the checks the failed operation made, so they count."""
    checks = getattr(error, "identity_checks", None) or []
    for check in checks:
        record_check(member, check)
    return bool(checks)


# --- Requests to resolve a duplicate ----------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="lms.duplicates.match")


def match_token(member, *, kind: str, learner_id: int | None) -> str:
    """A signed reference to a match the member was just told about, for filing a request;
    it names a learner id only, never a number, and only this member may use it."""
    return str(_serializer().dumps({"m": member.id, "k": kind, "l": learner_id}))


def _clean_note(value: str | None, field_name: str) -> str | None:
    note = clean_text(value, multiline=True).strip() if value else ""
    if len(note) > NOTE_MAX_LENGTH:
        raise DuplicateRequestError("note-too-long", _l("Use at most {count} characters."), field=field_name,
                                    count=NOTE_MAX_LENGTH)
    return note or None


def file_request(member, *, commune, token: str, full_name: str, note: str | None) -> DuplicateRequest:
    """Ask the commune official to resolve a match found while registering someone."""
    try:
        match = _serializer().loads(token, max_age=MATCH_MAX_AGE)
    except BadData:
        match = None
    if not isinstance(match, dict) or match.get("m") != member.id or match.get("k") not in KINDS:
        raise DuplicateRequestError("duplicate-match-invalid", _l(
            "This request has expired. Register the person again, then ask the commune official."))
    request = DuplicateRequest(commune_id=commune.id, filed_by_id=member.id, kind=match["k"],
                               existing_learner_id=match.get("l"), full_name=validate_name(full_name),
                               note=_clean_note(note, "note"), status=OPEN)
    db.session.add(request)
    db.session.flush()
    record("duplicate.file", actor=member, unit_id=commune.id, request_id=request.id, kind=request.kind)
    return request


def resolve_request(request: DuplicateRequest, *, official, outcome: str, note: str | None) -> DuplicateRequest:
    """Move the existing record to the request's commune (the official met the person and
    checked their thẻ căn cước), or dismiss the request."""
    if not may(official, "resolve_duplicates", request.commune):
        raise NotAllowedError("duplicate-not-yours", _l("Only the commune official of this commune can resolve it."))
    if not request.is_open:
        raise DuplicateRequestError("duplicate-resolved", _l("This request has already been resolved."))
    existing = request.existing_learner
    if outcome == MOVED:
        if existing is None or existing.is_deleted:
            raise DuplicateRequestError("duplicate-nothing-to-move", _l(
                "There is no registered learner to move: dismiss the request instead."), field="outcome")
        move_learner(existing, actor=official, commune=request.commune, village=None)
    elif outcome != DISMISSED:
        raise DuplicateRequestError("duplicate-outcome", _l("Choose what to do."), field="outcome")
    request.status = outcome
    request.resolution_note = _clean_note(note, "resolution_note")
    request.resolved_dt = utcnow()
    request.resolved_by_id = official.id
    record("duplicate.resolve", actor=official, learner=existing, unit_id=request.commune_id,
           request_id=request.id, outcome=outcome)
    return request
