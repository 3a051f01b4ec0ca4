"""The write side of usage: the gateway's events, inserted in batches.

One transaction per batch (not per request) keeps SQLite's fsyncs off the hot path; the
same batch bumps each grant's `last_used_at`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..store.models import Grant, UsageEvent, now


@dataclass
class UsageRecord:
    user_id: int
    app_id: int | None
    grant_id: int | None
    provider_kind: str
    model: str
    status: int
    latency_ms: float
    streamed: bool
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    created_at: float = field(default_factory=now)


def insert_batch(store, records: list[UsageRecord]) -> int:
    if not records:
        return 0
    last_use: dict[int, float] = {}
    for r in records:
        if r.grant_id is not None:
            last_use[r.grant_id] = max(last_use.get(r.grant_id, 0.0), r.created_at)
    with store.write():
        UsageEvent.insert_many([asdict(r) for r in records]).execute()
        for grant_id, ts in last_use.items():
            Grant.update(last_used_at=ts).where(
                (Grant.id == grant_id) & ((Grant.last_used_at.is_null()) | (Grant.last_used_at < ts))).execute()
    return len(records)
