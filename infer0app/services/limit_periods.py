"""Limit windows and how they are written: pure functions of an epoch time (UTC).

Windows are fixed, not sliding: a requests-per-minute cap counts calls in each calendar
minute (so up to 2N may pass within any 60 s spanning a boundary, never more than N inside
one minute); tokens per day reset at 00:00 UTC; spend per day / ISO week (Monday 00:00 UTC)
/ calendar month (the 1st, 00:00 UTC). Fixed windows let every process agree on the counter
row without coordination, and they match what users read on a provider's invoice.
"""

from __future__ import annotations

import datetime as dt
import functools
import math

PERIODS = ("minute", "day", "week", "month")
_DAY = 86400


def window(period: str, now: float) -> tuple[int, int]:
    """(start, end) epoch seconds of the window of `period` that contains `now`; end exclusive."""
    t = int(now // 1)
    if period == "minute":
        start = t - t % 60
        return start, start + 60
    day = t - t % _DAY
    if period == "day":
        return day, day + _DAY
    if period == "week":
        # 1970-01-01 was a Thursday: (days + 3) % 7 is 0 on Mondays (ISO weeks start Monday).
        start = day - ((day // _DAY + 3) % 7) * _DAY
        return start, start + 7 * _DAY
    if period == "month":
        d = dt.datetime.fromtimestamp(day, tz=dt.timezone.utc)
        first = d.replace(day=1)
        following = (first.replace(year=first.year + 1, month=1) if first.month == 12
                     else first.replace(month=first.month + 1))
        return int(first.timestamp()), int(following.timestamp())
    raise ValueError(f"unknown period {period!r}; expected one of {PERIODS}")


def openai_duration(seconds: float) -> str:
    """A wait written as OpenAI's x-ratelimit-reset-* headers do (Go duration style):
    "250ms" under a second, else whole seconds rounded up: "1s", "6m0s", "13h2m5s"."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{max(1, math.ceil(seconds * 1000))}ms"
    return _whole_seconds(math.ceil(seconds))


@functools.lru_cache(maxsize=4096)  # the hot path writes the same few values over and over
def _whole_seconds(total: int) -> str:
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def iso_utc(epoch: float) -> str:
    """`2026-11-26T00:00:00Z`: how messages and /v1/me name a reset time."""
    return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
