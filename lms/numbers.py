"""Integers read from URLs, query strings and forms, bounded to what a column can hold.

Ids and counts are INTEGER columns: 32 bits on PostgreSQL, 64 on SQLite. A larger
number typed into a URL used to reach the database and fail there (SQLite raises
OverflowError, PostgreSQL "out of range"): a 500. Every integer the app takes from a
request goes through `parse_int` or the `int` URL converter below, so an absurd number
is refused (404 for a path, the default or a form error for a parameter) before any
query runs.
"""

from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter

INT_MAX = 2**31 - 1  # the largest value of an INTEGER column on both engines
_DECIMAL = re.compile(r"[+-]?[0-9]{1,12}")  # ASCII digits only: int() would also take "٣", "1_0", " 7 "


def parse_int(value: object, *, default: int | None = None, minimum: int | None = None,
              maximum: int = INT_MAX) -> int | None:
    """`value` as an integer in [minimum, maximum], or `default` if it is missing, not a
    plain decimal number, or outside the range."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return default
    if number > maximum or (minimum is not None and number < minimum):
        return default
    return number


def parse_ints(values: list, *, minimum: int = 1, maximum: int = INT_MAX) -> list[int] | None:
    """Every value as an integer in range, or None if any is not one (a list is all or nothing)."""
    numbers = [parse_int(value, minimum=minimum, maximum=maximum) for value in values]
    return None if None in numbers else numbers  # type: ignore[return-value]


class IdConverter(IntegerConverter):
    """Werkzeug's `<int:…>`, refusing numbers no INTEGER column holds (the rule does not match: 404)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = INT_MAX,  # noqa: A002
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
