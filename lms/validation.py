"""Checks and normal forms for what people type: phone numbers, usernames, passwords."""

from __future__ import annotations

import re

import phonenumbers

_MOBILE = re.compile(r"^0[35789]\d{8}$")
_DIGIT_RUNS = "0123456789012345678909876543210"  # "12345678", "87654321", …
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")


def normalize_phone(value: str | None) -> str | None:
    """A Vietnamese mobile number in E.164 ("+84912345678"), or None if it is not one.

    Accepts +84, 84 or 0 prefixes with spaces, dots or dashes; mobiles are
    0[35789] followed by 8 digits.
    """
    digits = re.sub(r"[\s.\-()]", "", value or "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if not _MOBILE.match(digits):
        return None
    number = phonenumbers.parse(digits, "VN")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str | None) -> str:
    """'+84912345678' → '0912 345 678', as people write it."""
    if not e164:
        return ""
    return phonenumbers.format_number(phonenumbers.parse(e164, "VN"),
                                      phonenumbers.PhoneNumberFormat.NATIONAL)


def looks_like_phone(value: str) -> bool:
    return bool(re.fullmatch(r"[+\d][\d\s.\-()]{7,}", (value or "").strip()))


def normalize_username(value: str | None) -> str | None:
    """Lower-case ASCII username of 3–32 characters, or None if invalid."""
    name = (value or "").strip().lower()
    return name if _USERNAME.match(name) else None


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, as a code; None if it is fine."""
    if len(password) < 8:
        return "too-short"
    if len(password) > 200:
        return "too-long"
    if len(set(password)) < 3 or password.isdigit() and password in _DIGIT_RUNS:
        return "too-simple"
    return None
