"""Bulk import of learners from CSV or XLSX: read, validate every row, preview, commit.

Reading and validation happen once, at upload; the valid rows (normalised, ID numbers
already replaced by their keyed hash) and the per-row problems are stored in a
`LearnerImport` row, so the confirmation step trusts nothing from the browser.
Confirmation re-checks duplicates against the database and inserts every remaining
row in the request's single transaction: all of them or, on any failure, none.

Speed: existing phones, ID hashes and name keys are fetched in bulk (no query per
row), rows are inserted with executemany, and no password is hashed at import:
imported learners get their login card later (learner page, or a printed batch of
cards for the import, see `lms.team.operations.issue_login_cards`). Until then the
account has an empty hash, which no password matches. The ids of the created
learners stay in `payload["learner_ids"]` so the member can print their cards.

Feedback on large files, without JavaScript and without a job queue: checking and
registering are written as generators that yield a `Progress` every `STEP_ROWS` rows
(`validate_rows_steps`, `commit_import_steps`); for a file of `STREAM_FROM_ROWS` rows
or more the upload and confirm requests answer with a page sent while it is being
written (`lms.core.streaming`), one progress line per step, the work staying in the
request's single transaction. Small files take a fraction of a second and get the
plain form/redirect answers. A "working…" page refreshing itself was not chosen: it
would need the raw file, national ID numbers included, stored between requests.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from lms.access import check
from lms.accounts.models import LEARNER, User
from lms.audit.models import AuditEvent
from lms.audit.operations import record
from lms.db import utcnow
from lms.duplicates.operations import IdentityCheck, ImportCheckLimitError
from lms.errors import DomainError
from lms.extensions import db
from lms.learners import events
from lms.learners.consent import LEARNING, TEXTS
from lms.learners.identity import MESSAGES as ID_MESSAGES
from lms.learners.identity import check_national_id, national_id_hash
from lms.learners.models import FEMALE, MALE, Consent, Learner
from lms.learners.operations import NAME_MESSAGES, current_consent_version, validate_name
from lms.quality.operations import check_import
from lms.team import queries, tables
from lms.team.models import IMPORTED, PENDING, LearnerImport
from lms.team.operations import new_usernames
from lms.text import clean_text, fold, person_sort_key
from lms.validation import normalize_phone

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
MAX_COLUMNS = 30
MAX_CELL = 300
SHOWN_PROBLEMS = 500
STEP_ROWS = 1_000  # a progress step, and the size of an insert chunk
STREAM_FROM_ROWS = 2_000  # from this many rows, the member sees progress while it works

COLUMNS = ("full_name", "birth_year", "sex", "phone", "national_id", "village")
REQUIRED = ("full_name", "birth_year", "sex")
HEADERS = {  # column → (Vietnamese header, English header); both are accepted
    "full_name": ("Họ và tên", "Full name"),
    "birth_year": ("Năm sinh", "Birth year"),
    "sex": ("Giới tính", "Sex"),
    "phone": ("Số điện thoại", "Phone"),
    "national_id": ("Số định danh cá nhân", "National ID number"),
    "village": ("Thôn/Tổ dân phố", "Village"),
}
COLUMN_LABELS = {
    "full_name": _l("Full name"), "birth_year": _l("Birth year"), "sex": _l("Sex"),
    "phone": _l("Phone"), "national_id": _l("National ID number"), "village": _l("Village"),
}
_ALIASES = {fold(h): column for column, pair in HEADERS.items() for h in pair} | {
    "ho ten": "full_name", "name": "full_name", "cccd": "national_id", "so dinh danh": "national_id",
    "so cccd": "national_id",  # the header before 1 July 2024 (Luật Căn cước); old sheets still import
    "dien thoai": "phone", "sdt": "phone", "thon": "village", "to dan pho": "village", "gioi": "sex",
}
_SEXES = {"nam": MALE, "male": MALE, "m": MALE, "nu": FEMALE, "female": FEMALE, "f": FEMALE}

MESSAGES = {
    "required": _l("This cell is empty. Fill it in: the column is required."),
    "too-long": _l("The cell is longer than {limit} characters. Shorten it."),
    "formula": _l("The cell holds a spreadsheet formula. Type the value itself instead."),
    "year-invalid": _l("Write the birth year with 4 digits, between {low} and {high} (e.g. 1968)."),
    "sex-invalid": _l("Write Nam or Nữ (male or female)."),
    "phone-invalid": _l("Write a mobile number of 10 digits starting with 03, 05, 07, 08 or 09, or leave it empty."),
    "village-unknown": _l("No village called “{name}” in this commune. Use a name from the villages list, "
                          "or leave the cell empty."),
    "village-required": _l("Write one of your villages: you register learners for those villages only."),
    "village-outside": _l("“{name}” is not one of your villages. Leave this row to that village's team."),
    "dup-file": _l("Same person as row {row} ({what}). Keep one of the two rows."),
    "dup-db": _l("Already registered ({what}). This row will be skipped."),
    **ID_MESSAGES,
    **NAME_MESSAGES,
}
WHAT = {"phone": _l("same phone"), "national_id": _l("same ID number"),
        "name_year": _l("same name and birth year")}

FILE_MESSAGES = {
    "file-type": _l("Upload a .csv or .xlsx file (save the sheet as “CSV UTF-8” or “Excel workbook”)."),
    "file-size": _l("The file is larger than 5 MB. Split it into smaller files."),
    "file-rows": _l("The file has more than {limit} rows. Split it into smaller files."),
    "file-empty": _l("The file has no rows of learners."),
    "file-encoding": _l("The file is not in UTF-8, so Vietnamese letters would be wrong. "
                        "In Excel choose “Save as” → “CSV UTF-8”, then upload again."),
    "file-unreadable": _l("The file could not be read. Open it in a spreadsheet program, save it again "
                          "as .xlsx or “CSV UTF-8” and upload it again."),
    "file-columns": _l("Columns missing: {columns}. Download the template and copy your data into it."),
    "file-column-twice": _l("The column {column} appears twice. Keep only one."),
    # Limits of lms.team.tables, checked while the file is read (decompression bombs).
    "file-inflated": _l("The file unpacks to more than {limit} MB, far more than a list of learners needs. "
                        "Copy only the list into a new workbook, save it and upload it again."),
    "file-cell-long": _l("A cell or line of the file has more than {limit} characters, which no list of "
                         "learners has. Check the file, save it again and upload it again."),
    "file-row-wide": _l("A row of the file has more than {limit} cells. Keep only the columns of the "
                        "template, save the file and upload it again."),
}


class LearnerImportError(DomainError):
    pass


def _file_error(code: str, **params) -> LearnerImportError:
    return LearnerImportError(code, FILE_MESSAGES[code], field="file", **params)


# --- Reading ---------------------------------------------------------------------------

def read_table(filename: str, data: bytes) -> list[list[str]]:
    """Rows of cell texts (header first) from CSV or XLSX bytes, or LearnerImportError."""
    if len(data) > MAX_BYTES:
        raise _file_error("file-size")
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        if not data.startswith(b"PK\x03\x04"):
            raise _file_error("file-unreadable")
        return _read_xlsx(data)
    if name.endswith(".csv"):
        if data.startswith(b"PK\x03\x04") or b"\x00" in data[:4096]:
            raise _file_error("file-type")
        return _read_csv(data)
    raise _file_error("file-type")


def _read_xlsx(data: bytes) -> list[list[str]]:
    try:
        return tables.read_xlsx(data, max_rows=MAX_ROWS, max_columns=MAX_COLUMNS)
    except tables.TableError as error:
        raise _file_error(error.code, **error.params) from error


def _read_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _file_error("file-encoding") from error
    try:
        return tables.read_csv(text, max_rows=MAX_ROWS, max_columns=MAX_COLUMNS)
    except tables.TableError as error:
        raise _file_error(error.code, **error.params) from error


def map_header(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Column → index, and the headers that were ignored (e.g. a row-number column)."""
    positions: dict[str, int] = {}
    ignored = []
    for index, title in enumerate(header):
        key = fold(clean_text(title)).rstrip(" *:")
        column = _ALIASES.get(key)
        if column is None:
            if key:
                ignored.append(clean_text(title)[:60])
            continue
        if column in positions:
            raise _file_error("file-column-twice", column=clean_text(title)[:60])
        positions[column] = index
    missing = [HEADERS[c][0] for c in REQUIRED if c not in positions]
    if missing:
        raise _file_error("file-columns", columns=", ".join(missing))
    return positions, ignored


# --- Validation ------------------------------------------------------------------------

@dataclass
class Validated:
    rows: list[dict] = field(default_factory=list)  # valid rows, ready to insert
    problems: list[dict] = field(default_factory=list)  # {row, column, code, params}
    skipped: list[dict] = field(default_factory=list)  # already registered
    row_count: int = 0
    ignored_columns: list[str] = field(default_factory=list)


def _problem(number: int, column: str, code: str, **params) -> dict:
    return {"row": number, "column": column, "code": code, "params": params}


@dataclass(frozen=True)
class Progress:
    """How far a long step has come: `stage` is "check" or "register"."""

    stage: str
    done: int
    total: int

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.done * 100 // self.total)


def run_steps(steps: Generator[Progress, None, object]):
    """Run a step generator to its end, ignoring progress; returns its result."""
    while True:
        try:
            next(steps)
        except StopIteration as end:
            return end.value


def check_header(table: list[list[str]]) -> None:
    """Raise LearnerImportError now for a file without rows or with columns missing."""
    if len(table) < 2:
        raise _file_error("file-empty")
    map_header(table[0])


def check_import_budget(member, commune, rows: int) -> None:
    """Refuse (429) a file whose rows would take the member past the day's identity checks."""
    since = utcnow() - timedelta(days=1)
    left = current_app.config["IDENTITY_IMPORT_ROWS_PER_DAY"] - queries.import_rows_since(member, since)
    if rows > left:
        raise ImportCheckLimitError(IdentityCheck(form="import", fields=("phone", "national_id"),
                                                  unit_id=commune.id), left=left)


def validate_rows(table: list[list[str]], **options) -> Validated:
    """Check every row; duplicates within the file and against the database included."""
    return run_steps(validate_rows_steps(table, **options))


def validate_rows_steps(table: list[list[str]], *, commune, villages: list, allowed_village_ids: set[int] | None,
                        this_year: int) -> Generator[Progress, None, Validated]:
    """`validate_rows`, yielding a Progress every STEP_ROWS rows."""
    if not table:
        raise _file_error("file-empty")
    positions, ignored = map_header(table[0])
    result = Validated(ignored_columns=ignored)
    village_ids = {fold(v.name): v.id for v in villages}
    for v in villages:  # "Thôn 3" may be written "3"
        short = fold(v.name).removeprefix("thon ").removeprefix("to dan pho ").removeprefix("ap ").removeprefix("ban ")
        village_ids.setdefault(short, v.id)
    candidates = []
    total = len(table) - 1
    for number, cells in enumerate(table[1:], start=2):  # row numbers as the spreadsheet shows them
        if (number - 2) % STEP_ROWS == 0:
            yield Progress("check", number - 2, total)
        if not any((cell or "").strip() for cell in cells):
            continue
        result.row_count += 1
        raw = {c: (cells[i] if i < len(cells) else "") or "" for c, i in positions.items()}
        row, problems = _validate_row(number, raw, village_ids, allowed_village_ids, this_year)
        if problems:
            result.problems.extend(problems)
        else:
            candidates.append(row)
    if result.row_count == 0:
        raise _file_error("file-empty")
    existing = queries.existing_keys(commune.id, [r["phone"] for r in candidates if r["phone"]],
                                     [r["id_hash"] for r in candidates if r["id_hash"]])
    seen: dict[tuple, int] = {}
    for row in candidates:
        keys = _keys(row)
        in_file = next(((kind, seen[key]) for kind, key in keys if key in seen), None)
        if in_file:
            result.problems.append(_problem(row["row"], "full_name", "dup-file", row=in_file[1], what=in_file[0]))
            continue
        for _kind, key in keys:
            seen[key] = row["row"]
        in_db = _in_database(row, existing)
        if in_db:
            result.skipped.append(_problem(row["row"], "full_name", "dup-db", what=in_db))
            continue
        result.rows.append(row)
    result.problems.sort(key=lambda p: p["row"])
    yield Progress("check", total, total)
    return result


def _keys(row: dict) -> list[tuple[str, tuple]]:
    keys = [("name_year", ("n", row["name_folded"], row["birth_year"]))]
    if row["phone"]:
        keys.insert(0, ("phone", ("p", row["phone"])))
    if row["id_hash"]:
        keys.insert(0, ("national_id", ("i", row["id_hash"])))
    return keys


def _in_database(row: dict, existing: queries.ExistingKeys) -> str | None:
    if row["id_hash"] and row["id_hash"] in existing.id_hashes:
        return "national_id"
    if row["phone"] and row["phone"] in existing.phones:
        return "phone"
    if (row["name_folded"], row["birth_year"]) in existing.name_keys:
        return "name_year"
    return None


def _validate_row(number: int, raw: dict, village_ids: dict, allowed: set[int] | None,
                  this_year: int) -> tuple[dict, list[dict]]:
    problems = []
    values = {}
    for column, value in raw.items():
        if value.lstrip().startswith(("=", "@")):
            problems.append(_problem(number, column, "formula"))
        elif len(value) > MAX_CELL:
            problems.append(_problem(number, column, "too-long", limit=MAX_CELL))
        else:
            values[column] = clean_text(value)
    for column in REQUIRED:
        if column in values and not values[column]:
            problems.append(_problem(number, column, "required"))
    name = values.get("full_name") or ""
    if name:
        try:
            name = validate_name(name)  # the same rule as every form (lms.text.name_problem)
        except DomainError as error:
            problems.append(_problem(number, "full_name", error.code, **error.params))
    year = None
    if values.get("birth_year"):
        text = values["birth_year"].removesuffix(".0")
        low = this_year - 110
        if text.isdigit() and low <= int(text) <= this_year:
            year = int(text)
        else:
            problems.append(_problem(number, "birth_year", "year-invalid", low=low, high=this_year))
    sex = None
    if values.get("sex"):
        sex = _SEXES.get(fold(values["sex"]))
        if sex is None:
            problems.append(_problem(number, "sex", "sex-invalid"))
    phone = None
    if values.get("phone"):
        phone = normalize_phone(values["phone"])
        if phone is None:
            problems.append(_problem(number, "phone", "phone-invalid"))
    id_hash = last4 = None
    if values.get("national_id") and year and sex:
        try:
            national_id = check_national_id(values["national_id"], birth_year=year, sex=sex)
        except DomainError as error:
            problems.append(_problem(number, "national_id", error.code, **error.params))
        else:
            id_hash, last4 = national_id_hash(national_id), national_id[-4:]
    village_id = None
    village_text = values.get("village") or ""
    if village_text:
        village_id = village_ids.get(fold(village_text))
        if village_id is None:
            problems.append(_problem(number, "village", "village-unknown", name=village_text[:60]))
        elif allowed is not None and village_id not in allowed:
            problems.append(_problem(number, "village", "village-outside", name=village_text[:60]))
    elif allowed is not None:
        problems.append(_problem(number, "village", "village-required"))
    row = {"row": number, "full_name": name, "name_folded": fold(name), "name_sort_key": person_sort_key(name),
           "birth_year": year, "sex": sex, "phone": phone, "id_hash": id_hash, "last4": last4,
           "village_id": village_id}
    return row, problems


def problem_text(problem: dict) -> str:
    """What is wrong and how to fix it, in the current language."""
    params = dict(problem.get("params") or {})
    if "what" in params:
        params["what"] = str(WHAT.get(params["what"], params["what"]))
    return str(MESSAGES[problem["code"]]).format(**params)


def column_label(column: str) -> str:
    return str(COLUMN_LABELS.get(column, column))


# --- Storing the preview and committing it ---------------------------------------------

def stage_import(member, commune, filename: str, validated: Validated, seconds: float = 0.0) -> LearnerImport:
    """Keep the validated rows server-side, bound to the member, until confirmed.

    `seconds` is how long reading and checking the file took, for `expected_seconds`.
    """
    staged = LearnerImport(created_by_id=member.id, commune_id=commune.id, filename=clean_text(filename)[:200],
                           status=PENDING, row_count=validated.row_count, valid_count=len(validated.rows),
                           payload={"rows": validated.rows, "problems": validated.problems,
                                    "skipped": validated.skipped, "ignored_columns": validated.ignored_columns,
                                    "check_seconds": round(seconds, 2)})
    db.session.add(staged)
    db.session.flush()
    record("learner.import_preview", actor=member, unit_id=commune.id, rows=validated.row_count,
           valid=len(validated.rows),  # how many rows matched a phone or ID number already registered:
           identity_hits=sum(1 for s in validated.skipped if (s.get("params") or {}).get("what") != "name_year"))
    return staged


REGISTER_FACTOR = 2.0  # registering a row takes about twice as long as checking it (bench/bench_import.py)


def expected_seconds(staged: LearnerImport) -> int:
    """About how many seconds confirming this import will take, from the measured check."""
    checked = float((staged.payload or {}).get("check_seconds") or 0)
    share = staged.valid_count / staged.row_count if staged.row_count else 0
    return math.ceil(checked * REGISTER_FACTOR * share) if checked and share else 0


def pending_import(member, import_id: int) -> LearnerImport | None:
    """An import `member` uploaded (None for another's), if they still may register learners."""
    check(member, "write_learners")
    return db.session.scalar(select(LearnerImport).where(
        LearnerImport.id == import_id, LearnerImport.created_by_id == member.id))


def commit_import(staged: LearnerImport, member, locale: str) -> int:
    """Create every staged learner in the current transaction; returns how many."""
    return run_steps(commit_import_steps(staged, member, locale))


def commit_import_steps(staged: LearnerImport, member, locale: str) -> Generator[Progress, None, int]:
    """`commit_import`, inserting STEP_ROWS learners at a time and yielding a Progress
    after each chunk. Everything stays in the caller's transaction: all rows or none.

    Duplicates are checked again: someone may have registered one of them since the
    preview. Confirming twice creates nothing the second time.
    """
    if staged.status != PENDING:
        raise LearnerImportError("import-done", _l("This file has already been imported or discarded."))
    rows = list(staged.payload.get("rows", []))
    existing = queries.existing_keys(staged.commune_id, [r["phone"] for r in rows if r["phone"]],
                                     [r["id_hash"] for r in rows if r["id_hash"]])
    rows = [row for row in rows if not _in_database(row, existing)]
    from lms.units.models import Unit

    commune = db.session.get(Unit, staged.commune_id)
    now = utcnow()
    usernames = new_usernames([r["full_name"] for r in rows])
    version = current_consent_version(LEARNING)
    learner_ids: list[int] = []
    yield Progress("register", 0, len(rows))
    for start in range(0, len(rows), STEP_ROWS):
        chunk = rows[start:start + STEP_ROWS]
        learner_ids.extend(_insert_learners(chunk, usernames[start:start + STEP_ROWS], commune=commune,
                                            member=member, locale=locale, version=version, now=now,
                                            import_id=staged.id))
        yield Progress("register", start + len(chunk), len(rows))
    staged.status = IMPORTED
    staged.imported_count = len(rows)
    staged.imported_dt = now
    # Personal data is no longer needed here; the ids are, to print the login cards.
    staged.payload = {**staged.payload, "rows": [], "learner_ids": learner_ids}
    record("learner.import", actor=member, unit_id=commune.id, import_id=staged.id, created=len(rows))
    # Data-quality flags (generated-looking rows), from the rows as written.
    check_import(staged.id, [(learner_id, row["phone"], row["birth_year"]) for learner_id, row in
                             zip(learner_ids, rows, strict=True)],
                 province_id=commune.province_id, commune_id=commune.id, villages=[row["village_id"] for row in rows])
    return len(rows)


def _insert_learners(rows: list[dict], usernames: list[str], *, commune, member, locale: str, version: str,
                     now, import_id: int) -> list[int]:
    """Accounts, learners, consents and audit events of some rows, with executemany."""
    user_ids = list(db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), [
        {"role": LEARNER, "username": username, "phone": row["phone"], "display_name": row["full_name"],
         "locale": locale, "password_hash": "", "must_change_password": True, "is_active_account": True,  # nosec B105: no password until a login card is printed
         "session_token": secrets.token_hex(8), "created_dt": now}
        for row, username in zip(rows, usernames, strict=True)]))
    learner_ids = list(db.session.scalars(insert(Learner).returning(Learner.id, sort_by_parameter_order=True), [
        {"user_id": user_id, "full_name": row["full_name"], "name_folded": row["name_folded"],
         "name_sort_key": row["name_sort_key"], "birth_year": row["birth_year"], "sex": row["sex"],
         "national_id_hash": row["id_hash"], "national_id_last4": row["last4"],
         "province_id": commune.province_id, "commune_id": commune.id, "village_id": row["village_id"],
         "registered_by_id": member.id, "registered_dt": now, "is_deleted": False}
        for row, user_id in zip(rows, user_ids, strict=True)]))
    db.session.execute(insert(Consent), [
        {"learner_id": learner_id, "purpose": TEXTS[version]["purpose"], "text_version": version,
         "locale": locale, "collected_by_id": member.id, "given_dt": now} for learner_id in learner_ids])
    db.session.execute(insert(AuditEvent), [
        {"action": "learner.create", "actor_id": member.id, "learner_id": learner_id, "unit_id": commune.id,
         "details": {"import_id": import_id}, "created_dt": now} for learner_id in learner_ids])
    for chunk in queries._chunks(learner_ids):
        for learner in db.session.scalars(select(Learner).where(Learner.id.in_(chunk))):
            events.learner_registered.send(learner)
    return learner_ids


# --- Template --------------------------------------------------------------------------

def template_headers(locale: str) -> list[str]:
    return [HEADERS[c][1 if locale == "en" else 0] for c in COLUMNS]
