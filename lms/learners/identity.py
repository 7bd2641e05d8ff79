"""National ID (CCCD) numbers: format and consistency checks, keyed hash, last digits.

A CCCD number has 12 digits: digits 1–3 are the code of the province where the birth
was registered (the old 63-province list), digit 4 encodes century and sex, digits 5–6
are the last two digits of the birth year, then 6 random digits; there is no check
digit. The number itself is never stored: only an HMAC-SHA256 under
`IDENTITY_HASH_KEY` (duplicate detection) and the last four digits (display).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from flask import current_app
from flask_babel import lazy_gettext as _l

from lms.errors import DomainError
from lms.learners.models import FEMALE, MALE

# Birth-registration province codes of the 63 provinces before the 2025 merger, from
# Circular 07/2016/TT-BCA (annex: "mã tỉnh, thành phố trực thuộc trung ương nơi công
# dân đăng ký khai sinh"). Numbers issued before 1 July 2025 keep these codes, so the
# list is data and does not follow today's 34 provinces.
BIRTH_PROVINCE_CODES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn", "008": "Tuyên Quang",
    "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu", "014": "Sơn La", "015": "Yên Bái",
    "017": "Hòa Bình", "019": "Thái Nguyên", "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang",
    "025": "Phú Thọ", "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định", "037": "Ninh Bình",
    "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh", "044": "Quảng Bình", "045": "Quảng Trị",
    "046": "Thừa Thiên Huế", "048": "Đà Nẵng", "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định",
    "054": "Phú Yên", "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng", "070": "Bình Phước",
    "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai", "077": "Bà Rịa - Vũng Tàu",
    "079": "Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang", "083": "Bến Tre", "084": "Trà Vinh",
    "086": "Vĩnh Long", "087": "Đồng Tháp", "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ",
    "093": "Hậu Giang", "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}
if len(BIRTH_PROVINCE_CODES) != 63:  # the data itself is checked on import, also under `python -O`
    raise RuntimeError("BIRTH_PROVINCE_CODES must list the 63 provinces of before the 2025 merger")

# Digit 4: (first year of the century, sex).
CENTURY_SEX = {"0": (1900, MALE), "1": (1900, FEMALE), "2": (2000, MALE), "3": (2000, FEMALE),
               "4": (2100, MALE), "5": (2100, FEMALE)}

_SEPARATORS = re.compile(r"[\s.\-]")


class NationalIdError(DomainError):
    pass


def normalize_national_id(value: str | None) -> str:
    """Digits only, with the spaces, dots and dashes people type removed."""
    return _SEPARATORS.sub("", value or "")


# What is wrong and how to fix it, by error code (the importer shows them per row too).
MESSAGES = {
    "national-id-format": _l("The ID number must have exactly 12 digits, as printed on the chip ID card."),
    "national-id-province": _l("The first 3 digits ({prefix}) are not a province code. Check the number on the card."),
    "national-id-century": _l("The 4th digit must be 0–5 (century and sex). Check the number on the card."),
    "national-id-year": _l("The ID number is of someone born in {year}, but the birth year entered is {entered}. "
                           "Check both."),
    "national-id-sex": _l("The ID number does not match the sex entered. Check both."),
}


def _fail(code: str, **params: object) -> NationalIdError:
    return NationalIdError(code, MESSAGES[code], field="national_id", **params)


def check_national_id(value: str, *, birth_year: int | None, sex: str | None) -> str:
    """The 12-digit number if it is well-formed and agrees with birth year and sex."""
    number = normalize_national_id(value)
    if not re.fullmatch(r"\d{12}", number):
        raise _fail("national-id-format")
    if number[:3] not in BIRTH_PROVINCE_CODES:
        raise _fail("national-id-province", prefix=number[:3])
    if number[3] not in CENTURY_SEX:
        raise _fail("national-id-century")
    century, card_sex = CENTURY_SEX[number[3]]
    card_year = century + int(number[4:6])
    if birth_year is not None and birth_year != card_year:
        raise _fail("national-id-year", year=card_year, entered=birth_year)
    if sex is not None and sex != card_sex:
        raise _fail("national-id-sex")
    return number


def national_id_hash(number: str) -> str:
    """Keyed hash for duplicate detection; the key is not in the database."""
    key = current_app.config["IDENTITY_HASH_KEY"].encode()
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()
