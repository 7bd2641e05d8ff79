"""Verification codes: derivation, check character, normalisation of typed input."""

from __future__ import annotations

import pytest

from certificates import codes
from certificates.codes import (
    ALPHABET,
    CODE_LENGTH,
    format_code,
    is_well_formed,
    make_verification_code,
    normalize_code,
    verify_code,
)

SERIALS = ["2026-000001", "2026-000123", "2026-999999", "2027-000042", "HN-2026-7"]


def test_alphabet_has_no_look_alikes_and_prime_size() -> None:
    assert len(set(ALPHABET)) == len(ALPHABET) == 23
    assert all(n % d for n in [len(ALPHABET)] for d in range(2, n))  # prime: the check relies on it
    for confusable in "0O1IL2Z" + "SBGQUV":
        assert confusable not in ALPHABET


@pytest.mark.parametrize("serial", SERIALS)
def test_round_trip(secret: bytes, serial: str) -> None:
    code = make_verification_code(secret, serial)
    assert len(code) == CODE_LENGTH
    assert set(code) <= set(ALPHABET)
    assert is_well_formed(code)
    printed = format_code(code)
    assert printed == f"{code[:4]}-{code[4:8]}-{code[8:]}"
    assert normalize_code(printed) == code
    assert normalize_code(printed.lower()) == code
    assert verify_code(secret, serial, printed)
    assert make_verification_code(secret, serial) == code  # deterministic


def test_codes_differ_per_serial(secret: bytes) -> None:
    made = {make_verification_code(secret, f"2026-{n:06d}") for n in range(2000)}
    assert len(made) == 2000


def test_forged_code_with_other_secret_differs(secret: bytes) -> None:
    for serial in SERIALS:
        forged = make_verification_code(b"some-other-secret-of-32-bytes!!!", serial)
        assert forged != make_verification_code(secret, serial)
        assert is_well_formed(forged)  # well formed, yet rejected by the real key
        assert not verify_code(secret, serial, forged)


def test_code_bound_to_its_serial(secret: bytes) -> None:
    assert not verify_code(secret, "2026-000124", make_verification_code(secret, "2026-000123"))


@pytest.mark.parametrize("serial", SERIALS)
def test_every_single_substitution_is_caught(secret: bytes, serial: str) -> None:
    code = make_verification_code(secret, serial)
    tried = 0
    for position in range(CODE_LENGTH):
        for symbol in ALPHABET:
            if symbol == code[position]:
                continue
            typo = code[:position] + symbol + code[position + 1:]
            assert not is_well_formed(typo), (code, typo)
            tried += 1
    assert tried == CODE_LENGTH * (len(ALPHABET) - 1)


@pytest.mark.parametrize("serial", SERIALS)
def test_every_adjacent_transposition_is_caught(secret: bytes, serial: str) -> None:
    code = make_verification_code(secret, serial)
    for position in range(CODE_LENGTH - 1):
        a, b = code[position], code[position + 1]
        if a == b:
            continue  # swapping equal symbols changes nothing
        swapped = code[:position] + b + a + code[position + 2:]
        assert not is_well_formed(swapped), (code, swapped)


def test_every_adjacent_transposition_of_any_symbol_pair_is_caught() -> None:
    """Exhaustive over all symbol pairs at every position, including the check position.

    This is where Luhn mod N would fail (first and last alphabet symbol swapped).
    """
    def valid_code(data: list[str]) -> str:
        joined = "".join(data)
        return joined + codes._check_symbol(joined)

    checked = 0
    for position in range(codes.DATA_LENGTH):
        for a in ALPHABET:
            for b in ALPHABET:
                data = ["3"] * codes.DATA_LENGTH
                data[position] = a
                if position + 1 < codes.DATA_LENGTH:
                    data[position + 1] = b
                code = valid_code(data)  # for the last data position, b is the check symbol
                assert is_well_formed(code)
                x, y = code[position], code[position + 1]
                if x != y:
                    assert not is_well_formed(code[:position] + y + x + code[position + 2:]), code
                    checked += 1
    assert checked > 9 * 23 * 22  # all pairs at positions 0..8, plus data/check swaps


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("k7qm 2xhp-94t", "K7QM2XHP94T"),
        ("  K7QM–2XHP—94T  ", "K7QM2XHP94T"),  # en and em dashes from phones
        ("k7qm.2xhp.94t", "K7QM2XHP94T"),
        ("ＫＹＭＷ", "KYMW"),  # full-width characters
        ("ĐÂÊ", "DAE"),  # Vietnamese keyboard (Telex) turned dd/aa/ee into đ/â/ê
        ("SBG", "586"),  # letters that can only mean these digits
        ("O0I1LZ2UVQ", "O0I1LZ2UVQ"),  # ambiguous: kept, so the code is reported invalid
    ],
)
def test_normalize_user_typing(typed: str, expected: str) -> None:
    assert normalize_code(typed) == expected


def test_typed_confusions_still_verify(secret: bytes) -> None:
    code = make_verification_code(secret, "2026-000123")
    typed = code.replace("5", "s").replace("8", "B").replace("6", "g").lower()
    assert verify_code(secret, "2026-000123", typed)


@pytest.mark.parametrize("bad", ["", "K7QM", "K7QM2XHP94TT", "O7QM2XHP94T", "K7QM-2XHP-9?T"])
def test_malformed_codes(bad: str) -> None:
    assert not is_well_formed(bad)


def test_format_rejects_wrong_length() -> None:
    with pytest.raises(ValueError):
        format_code("K7QM")


def test_short_secret_refused() -> None:
    with pytest.raises(ValueError):
        make_verification_code(b"short", "2026-000123")
    with pytest.raises(ValueError):
        make_verification_code("a str is not a key, use bytes!!!", "2026-000123")  # type: ignore[arg-type]
