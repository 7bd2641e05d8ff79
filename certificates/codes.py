"""Verification codes printed on certificates, e.g. ``K7QM-2XHP-94T`` style.

Someone holding a paper certificate types the code on the verification page;
the app looks up the certificate by code and shows who earned it. So a code
must be:

* unforgeable: derived with HMAC-SHA256 from a server-side secret key and the
  certificate's serial. Without the key nobody can make a valid code for a
  serial, and ten characters from 23 symbols (23**10 ~ 4e13, ~45 bits) cannot be
  guessed online.
* easy to read and type from paper: the alphabet :data:`ALPHABET` leaves out
  characters that look alike in print or handwriting -- 0/O/Q, 1/I/L, 2/Z,
  5/S, 8/B, 6/G, U/V -- keeping one member of a pair only where the other is
  gone (5 but not S, 8 but not B, 6 but not G). :func:`normalize_code` maps a
  typed S, B or G back to 5, 8, 6, because that mapping is unambiguous.
* self-checking: an 11th character is a check character, so a typo is reported
  as "mistyped" before any database lookup. It is a weighted sum modulo 23
  (weights 11, 10, ..., 1 from the left, like ISBN-10). Because 23 is prime and
  all weights differ and are below 23, this catches EVERY single-character
  substitution and EVERY transposition of two characters (adjacent or not). The
  classic Luhn mod N misses one adjacent swap (first and last alphabet symbol),
  which is why it is not used here.

The canonical form is 11 characters without separators (store and look up that);
:func:`format_code` groups it 4-4-3 for printing.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

#: 23 symbols (a prime, which the check character relies on), no look-alikes.
ALPHABET = "3456789ACDEFHJKMNPRTWXY"
DATA_LENGTH = 10
CODE_LENGTH = DATA_LENGTH + 1
GROUPS = (4, 4, 3)

_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
_BASE = len(ALPHABET)
# Typed characters that can only have meant one symbol of the alphabet.
_CONFUSIONS = {"S": "5", "B": "8", "G": "6", "Đ": "D"}
_DOMAIN = b"certificate-verification-code/v1\x00"  # separates this use of the key from others


def _weights() -> range:
    """Weight of each position, left to right: 11, 10, ..., 1 (all distinct, non-zero mod 23)."""
    return range(CODE_LENGTH, 0, -1)


def _check_symbol(data: str) -> str:
    """The symbol that makes the weighted sum of all 11 positions divisible by 23."""
    total = sum(weight * _VALUE[symbol] for weight, symbol in zip(_weights(), data, strict=False))
    return ALPHABET[-total % _BASE]


def make_verification_code(secret: bytes, serial: str) -> str:
    """Canonical 11-character code for ``serial``, derived from ``secret`` with HMAC-SHA256.

    The same secret and serial always give the same code, so codes need not be
    stored to be checked (but storing them makes lookup by code possible).
    """
    if not isinstance(secret, (bytes, bytearray)) or len(secret) < 16:
        raise ValueError("secret must be at least 16 random bytes")
    if not serial:
        raise ValueError("serial is empty")
    digest = hmac.new(bytes(secret), _DOMAIN + serial.encode("utf-8"), hashlib.sha256).digest()
    number = int.from_bytes(digest[:16], "big")  # 128 bits >> 45 needed: no visible bias
    symbols = []
    for _ in range(DATA_LENGTH):
        number, value = divmod(number, _BASE)
        symbols.append(ALPHABET[value])
    data = "".join(symbols)
    return data + _check_symbol(data)


def normalize_code(text: str) -> str:
    """Turn what a person typed into canonical form: ``"k7qm 2xhp-94t"`` -> ``"K7QM2XHP94T"``.

    Uppercases, drops spaces, hyphens and other punctuation, removes accents a
    Vietnamese keyboard may add (Telex/VNI turn "dd" into "đ", "aa" into "â"),
    folds full-width characters, and maps S/B/G to 5/8/6. The result is not
    necessarily valid: check it with :func:`is_well_formed`.
    """
    text = unicodedata.normalize("NFKD", text.upper())
    out = []
    for char in text:
        if unicodedata.combining(char):
            continue
        char = _CONFUSIONS.get(char, char)
        if char.isalnum():
            out.append(char)
    return "".join(out)


def is_well_formed(code: str) -> bool:
    """True if ``code`` (typed in any accepted form) has the right length, symbols and check character.

    Says nothing about whether such a certificate exists: that needs a lookup.
    """
    code = normalize_code(code)
    if len(code) != CODE_LENGTH or any(symbol not in _VALUE for symbol in code):
        return False
    return _check_symbol(code[:DATA_LENGTH]) == code[-1]


def format_code(code: str) -> str:
    """Group for print and display: ``"K7QM2XHP94T"`` -> ``"K7QM-2XHP-94T"``."""
    code = normalize_code(code)
    if len(code) != CODE_LENGTH:
        raise ValueError(f"a verification code has {CODE_LENGTH} characters, got {len(code)}")
    parts, start = [], 0
    for size in GROUPS:
        parts.append(code[start:start + size])
        start += size
    return "-".join(parts)


def verify_code(secret: bytes, serial: str, code: str) -> bool:
    """True if ``code`` is the one issued for ``serial`` under ``secret`` (constant-time compare)."""
    return hmac.compare_digest(normalize_code(code), make_verification_code(secret, serial))
