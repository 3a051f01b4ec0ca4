"""Row ids typed by people (a form's `provider` field, a URL's /providers/<id>, a CLI's `--id`).

Every table's id is a signed 64-bit integer (SQLite INTEGER PRIMARY KEY, PostgreSQL BIGSERIAL),
so a longer number cannot name a row; handed to the database it fails with an overflow (SQLite)
or an out-of-range error (PostgreSQL) instead of "not found". Parse ids here first.
"""

from __future__ import annotations

#: The largest id either database can hold (2**63 - 1): 19 digits.
MAX_ROW_ID = 2**63 - 1
#: A URL path segment that can only be a row id: 1-19 ASCII digits (aiohttp route syntax); a
#: 19-digit value past MAX_ROW_ID still gets through and is refused by parse_row_id.
ROUTE_PATTERN = r"{id:[0-9]{1,19}}"


def parse_row_id(value) -> int | None:
    """The id `value` names (an int, or a string of ASCII digits), if it is 1..MAX_ROW_ID; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 19):
            return None
        value = int(text)
    if not isinstance(value, int) or not 1 <= value <= MAX_ROW_ID:
        return None
    return value
