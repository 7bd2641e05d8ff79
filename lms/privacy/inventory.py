"""Every table and column that holds personal data: what it is, why, for how long, and
what erasure does to it.

This list is the source for the export (`export.py` writes every declared table's rows
about the person) and the check on erasure (tests/privacy/test_erasure.py walks the
database for anything of the person that the list does not say remains). A table with a
learner, user or IP address column that is not declared here fails
tests/privacy/test_inventory.py, and so does an undeclared column of a declared table:
new personal data is decided on, not found later. docs/privacy.md is this list for people.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Whose rows a table holds.
LEARNERS, STAFF, BOTH, NOBODY = "learners", "staff", "learners and staff", "nobody"
# What erasing a learner does to their rows.
DELETED = "deleted"          # the rows are removed
ANONYMISED = "anonymised"    # the rows stay for anonymous counts; ERASED columns are emptied
UNTOUCHED = "untouched"      # not about learners: staff data, or anonymous counts
# What erasure does to one column of an ANONYMISED table.
KEPT, ERASED, SCRUBBED = "kept", "erased", "scrubbed"  # scrubbed: the person's part removed, the rest kept
# How a row is found to be the person's: by their learner id, their account id, or their logins.
LEARNER, USER, LOGIN, CERTIFICATE = "learner", "user", "login", "certificate"


@dataclass(frozen=True)
class Col:
    holds: str = ""          # the personal data in plain words; "" = not personal data
    erase: str = KEPT        # for ANONYMISED tables
    secret: bool = False     # exported as "held", never the value (hashes, session secrets)


@dataclass(frozen=True)
class Table:
    name: str
    about: str
    purpose: str
    retention: str
    ground: str
    on_erase: str
    columns: dict[str, Col]
    links: tuple[tuple[str, str], ...] = ()   # (column, LEARNER | USER | LOGIN): the person's rows
    export_as: str | None = None              # section of /my-data.json; None: not about the person
    single: bool = False                      # one row per person: exported as an object
    notes: list[str] = field(default_factory=list)


def plain() -> Col:
    return Col()


CONSENT = "consent (Law 91/2025/QH15; Decree 356/2025/NĐ-CP)"
PROOF = "proof that processing had consent, and of the request carried out (accountability of the controller)"
SECURITY = "protecting the data: the audit trail a breach notification within 72 hours needs"
ANONYMOUS = "anonymised data is no longer personal data (Law 91/2025/QH15, art. 2)"
WHILE_ACCOUNT = "while the account exists; deleted or anonymised at once on a deletion request"

TABLES: tuple[Table, ...] = (
    Table(
        "users", BOTH, "log in; the name in the menu; staff accounts and their scope",
        WHILE_ACCOUNT, CONSENT, DELETED, links=(("id", USER),), export_as="account", single=True,
        columns={
            "id": Col("account number"), "username": Col("login name"), "phone": Col("mobile number"),
            "password_hash": Col("password hash", secret=True), "role": plain(), "display_name": Col("name shown"),
            "locale": Col("chosen language"), "scope_unit_id": plain(), "is_active": plain(),
            "must_change_password": plain(), "session_token": Col("session secret", secret=True),
            "created_dt": Col("when the account was made"), "last_login_dt": Col("last login"),
        }),
    Table(
        "team_member_villages", STAFF, "the villages a team member works in",
        "while the staff account exists", "the staff member's employment", UNTOUCHED,
        links=(("user_id", USER),), columns={"user_id": Col("staff account"), "unit_id": plain()}),
    Table(
        "login_failures", BOTH, "slow down password guessing",
        "the throttle window (LOGIN_WINDOW_SECONDS, 15 minutes); an erasure deletes the account's at once",
        SECURITY, DELETED, links=(("key", LOGIN),), export_as="failed_logins",
        columns={"id": plain(), "key": Col("the login typed, or the IP address it came from"),
                 "failed_dt": Col("when")}),
    Table(
        "learners", LEARNERS, "organise learning, certificates, counts by locality",
        WHILE_ACCOUNT + "; the anonymous row (province, commune, registration date) stays for the counts",
        CONSENT + "; the anonymous row: " + ANONYMOUS, ANONYMISED, links=(("id", LEARNER),),
        export_as="learner", single=True,
        columns={
            "id": Col("record number (the anonymous row keeps it)"), "user_id": Col("their account", ERASED),
            "full_name": Col("full name", ERASED), "name_folded": Col("name search key", ERASED),
            "name_sort_key": Col("name sort key", ERASED), "birth_year": Col("year of birth", ERASED),
            "sex": Col("sex", ERASED), "national_id_hash": Col("keyed hash of the ID number", ERASED, secret=True),
            "national_id_last4": Col("last four digits of the ID number", ERASED),
            "province_id": Col("province of residence"), "commune_id": Col("commune of residence"),
            "village_id": Col("village of residence", ERASED),
            "registered_by_id": Col("team member who registered them (staff; tells assisted from self sign-up)"),
            "registered_dt": Col("when they registered"), "is_deleted": plain(), "deleted_dt": plain(),
        }),
    Table(
        "consents", LEARNERS, "proof of consent: who, when, which text, who collected it",
        "as long as the learner row (anonymous after erasure: withdrawn, without IP address)",
        PROOF, ANONYMISED, links=(("learner_id", LEARNER),), export_as="consents",
        columns={
            "id": plain(), "learner_id": Col("whose consent"), "purpose": Col("what was agreed to"),
            "text_version": Col("which text was shown"), "locale": Col("in which language"),
            "given_dt": Col("when it was given"), "withdrawn_dt": Col("when it was withdrawn (set by erasure)"),
            "collected_by_id": Col("staff who collected it"),
            "ip_address": Col("IP address a self-given consent came from", ERASED),
        }),
    Table(
        "enrollments", LEARNERS, "which courses, where to continue, completion",
        WHILE_ACCOUNT + "; the anonymous row (course, dates counted, self or assisted) stays for the counts",
        CONSENT + "; the anonymous row: " + ANONYMOUS, ANONYMISED, links=(("learner_id", LEARNER),),
        export_as="enrolments",
        columns={
            "id": plain(), "learner_id": Col("whose enrolment"), "course_id": Col("course"),
            "enrolled_dt": Col("when enrolled"), "started_dt": Col("when started"),
            "last_activity_dt": Col("last activity", ERASED), "last_lesson_id": Col("where to continue", ERASED),
            "completed_dt": Col("when completed"), "completed_version": plain(),
            "enrolled_by_id": Col("helper who enrolled them", ERASED),
            "is_assisted": Col("whether a helper took part"),
        }),
    Table(
        "lesson_progress", LEARNERS, "progress per lesson, to resume and complete a course",
        WHILE_ACCOUNT, CONSENT, DELETED, links=(("learner_id", LEARNER),), export_as="lesson_progress",
        columns={
            "id": plain(), "learner_id": Col("whose"), "lesson_id": Col("lesson"), "progress": Col("how far"),
            "time_spent_seconds": Col("reading time"), "first_seen_dt": Col("first visit"),
            "last_seen_dt": Col("last visit"), "completed_dt": Col("when done"),
            "helped_by_id": Col("team member who helped"),
        }),
    Table(
        "progress_events", LEARNERS, "progress sent by the app, kept so a retry counts once",
        WHILE_ACCOUNT, CONSENT, DELETED, links=(("learner_id", LEARNER),), export_as="progress_events",
        columns={
            "id": plain(), "learner_id": Col("whose"), "client_event_id": Col("the app's event id"),
            "lesson_id": Col("lesson"), "kind": Col("what happened"), "progress": Col("how far"),
            "seconds": Col("reading time"), "occurred_dt": Col("when, on the device"),
            "received_dt": Col("when received"), "helped_by_id": Col("team member who helped"),
            "applied_dt": Col("when its effect was written"),
        }),
    Table(
        "quiz_attempts", LEARNERS, "quiz results: pass the course, see one's answers",
        WHILE_ACCOUNT, CONSENT, DELETED, links=(("learner_id", LEARNER),), export_as="quiz_attempts",
        columns={
            "id": plain(), "learner_id": Col("whose"), "course_id": Col("course"),
            "course_version": plain(), "answers": Col("the answers given"), "correct_count": Col("score"),
            "question_count": plain(), "score_percent": Col("score"), "is_passed": Col("passed or not"),
            "submitted_dt": Col("when"), "helped_by_id": Col("team member who helped"),
            "client_event_id": Col("the app's event id"),
        }),
    Table(
        "api_tokens", LEARNERS, "let the learner's app call the API",
        "until it expires (API_TOKEN_DAYS, 90 days), is revoked or the account is deleted", CONSENT, DELETED,
        links=(("user_id", USER),),
        export_as="api_tokens",
        columns={
            "id": plain(), "user_id": Col("whose"), "token_hash": Col("token hash", secret=True),
            "name": Col("device or client name"), "created_dt": Col("created"), "last_used_dt": Col("last used"),
            "revoked_dt": Col("revoked"), "expires_dt": Col("works until"),
            "revoked_reason": Col("why it stopped working (password, card, log out everywhere…)"),
        }),
    Table(
        "certificates", LEARNERS, "the certificate and its public verification",
        WHILE_ACCOUNT + "; after erasure the row stays revoked and nameless, so /verify says the paper is "
        "no longer valid and the anonymous counts keep their completions",
        CONSENT + "; the anonymous row: " + ANONYMOUS, ANONYMISED, links=(("learner_id", LEARNER),),
        export_as="certificates",
        columns={
            "id": plain(), "enrollment_id": Col("the completed enrolment"), "learner_id": Col("whose"),
            "course_id": Col("course"), "serial": Col("printed number"),
            "verification_code": Col("printed verification code"), "full_name": Col("printed name", ERASED),
            "course_title_vi": plain(), "course_title_en": plain(), "completed_on": Col("printed date"),
            "commune_name": Col("printed commune"), "province_name": Col("printed province"),
            "issued_dt": Col("when issued"), "is_revoked": Col("revoked (set by erasure)"),
            "revoked_dt": Col("when revoked"), "revocation_reason": Col("why revoked"),
            "revoked_by_id": Col("official who revoked it"), "printed_dt": Col("when printed"),
            "printed_by_id": Col("team member who printed it"), "handed_over_dt": Col("when handed over"),
            "handed_over_by_id": Col("team member who handed it over"),
        }),
    Table(
        "audit_events", BOTH, "who touched whose personal data, when, from where",
        "kept with the platform's records; erasure removes the learner from it (their id, their own "
        "account and IP address, their ids in lists) and keeps what staff did, and one event that records "
        "the erasure", SECURITY + "; " + PROOF, ANONYMISED,
        links=(("learner_id", LEARNER), ("actor_id", USER)), export_as="audit_events",
        columns={
            "id": plain(), "actor_id": Col("who acted (the learner's own account is removed)", SCRUBBED),
            "action": Col("what was done"),
            "learner_id": Col("whose data (kept only on the event that records the erasure)", SCRUBBED),
            "unit_id": Col("commune of the record"),
            "details": Col("what changed (the learner's ids removed from lists)", SCRUBBED),
            "ip_address": Col("IP address of whoever acted (the learner's own removed)", SCRUBBED),
            "created_dt": Col("when"),
        }),
    Table(
        "duplicate_requests", BOTH,
        "a member's request that the commune official resolve a registration matching an existing record",
        "until resolved, then kept with the audit trail of the move; erasure of the existing learner deletes "
        "the requests about them", "the team's task, " + CONSENT, DELETED,
        links=(("existing_learner_id", LEARNER),), export_as="duplicate_requests",
        columns={
            "id": plain(), "commune_id": plain(), "filed_by_id": Col("member who filed it"),
            "filed_dt": Col("when"), "kind": Col("what matched (phone or ID number)"),
            "existing_learner_id": Col("the existing record"), "full_name": Col("name of the person met"),
            "note": Col("the member's note"), "status": plain(), "resolved_dt": Col("when resolved"),
            "resolved_by_id": Col("official who resolved it"), "resolution_note": Col("the official's note"),
        }),
    Table(
        "quality_flags", LEARNERS,
        "data-quality flags officials review (a course finished faster than reading allows, a duplicate…)",
        "until the learner's record is erased; a review keeps the flag, marked genuine or a problem",
        "accuracy of the figures reported to the State (the data controller's duty to keep data correct)",
        DELETED, links=(("learner_id", LEARNER),), export_as="quality_flags",
        columns={
            "id": plain(), "kind": Col("what looks wrong"), "learner_id": Col("whose record"),
            "subject": Col("what it is about (a course, an import, another record)"),
            "reason": Col("the figures behind it (seconds, counts; no names)"), "province_id": plain(),
            "commune_id": plain(), "village_id": Col("village"), "status": Col("open, genuine or a problem"),
            "created_dt": Col("when raised"), "reviewed_by_id": Col("official who reviewed it"),
            "reviewed_dt": Col("when reviewed"),
        }),
    Table(
        "learner_imports", BOTH, "a team's import file between preview and confirmation",
        "rows of a pending import until it is confirmed or discarded (then counts, per-row problems and the "
        "new learners' ids, for their cards); erasure removes the learner's id", "the team's task, " + CONSENT, ANONYMISED,
        columns={
            "id": plain(), "created_by_id": Col("member who uploaded it"), "commune_id": plain(),
            "filename": Col("file name typed by staff"), "status": plain(), "row_count": plain(),
            "valid_count": plain(), "imported_count": plain(),
            "payload": Col("pending rows (names, birth years, phones); later the new learners' ids", SCRUBBED),
            "created_dt": plain(), "imported_dt": plain(),
        }),
    Table(
        "unit_changes", STAFF, "history of unit names and mergers", "kept", "public administration records",
        UNTOUCHED, links=(("changed_by_id", USER),),
        columns={"id": plain(), "unit_id": plain(), "change": plain(), "old_value": plain(), "new_value": plain(),
                 "effective_on": plain(), "changed_by_id": Col("staff who made the change"), "created_dt": plain()}),
    Table(
        "stat_targets", STAFF, "registration targets per unit", "kept", "public administration records",
        UNTOUCHED, links=(("set_by_id", USER),),
        columns={"id": plain(), "unit_id": plain(), "adults": plain(), "due_on": plain(),
                 "set_by_id": Col("official who set it"), "updated_dt": plain()}),
    Table(
        "stat_counters", NOBODY, "anonymous counts by unit, month, sex, age band and mode",
        "kept; equal to a recount of the rows above at all times", ANONYMOUS, UNTOUCHED,
        columns={name: plain() for name in ("id", "province_id", "commune_id", "village_id", "course_id", "month",
                                             "sex", "age_band", "mode", "metric", "shard", "value")}),
    Table(
        "stat_rollups", NOBODY, "the same counts summed for dashboards", "kept; rebuilt from the counters",
        ANONYMOUS, UNTOUCHED,
        columns={name: plain() for name in ("unit_id", "course_id", "period", "dimension", "metric", "shard",
                                             "value")}),
)

BY_NAME = {table.name: table for table in TABLES}

# Keys of audit event details that name a person's records, and whose records they name.
DETAIL_KEYS = {
    "learner_ids": LEARNER, "reissued_ids": LEARNER, "user_id": USER,
    "certificate_id": CERTIFICATE, "certificate_ids": CERTIFICATE, "not_printed_ids": CERTIFICATE,
}
# Actions whose details name people in those keys without setting learner_id (bulk actions, accounts).
NAMING_ACTIONS = ("learner.cards", "certificate.print", "account.create", "account.password")


def personal_columns(table: Table) -> list[str]:
    return [name for name, column in table.columns.items() if column.holds]
