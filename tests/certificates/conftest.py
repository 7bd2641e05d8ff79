"""Shared test data for the certificates package (no Flask, no database).

Helpers are fixtures (not importable functions) so nothing depends on how
pytest puts test directories on sys.path.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable

import pytest

from certificates import CertificateData, format_code, make_verification_code

SECRET = b"test-secret-key-0123456789abcdef"


@pytest.fixture
def secret() -> bytes:
    return SECRET


@pytest.fixture
def make_certificate() -> Callable[..., CertificateData]:
    """Factory for a realistic certificate; override any field by keyword."""

    def make(**changes: object) -> CertificateData:
        serial = str(changes.get("serial", "2026-000123"))
        code = make_verification_code(SECRET, serial)
        base = CertificateData(
            full_name="Nguyễn Thị Hồng Nhung",
            course_title="Kỹ năng số cơ bản: dùng điện thoại thông minh an toàn",
            completed_on=datetime.date(2026, 11, 22),
            commune_name="Xã Ea Tu",
            province_name="Tỉnh Đắk Lắk",
            serial=serial,
            verification_code=format_code(code),
            verify_url=f"https://hoc.binhdanhocvuso.vn/xac-minh/{code}",
            locale="vi",
        )
        return dataclasses.replace(base, **changes)

    return make


@pytest.fixture
def sample(make_certificate: Callable[..., CertificateData]) -> CertificateData:
    return make_certificate()
