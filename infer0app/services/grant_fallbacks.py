"""The fallback connections a user chose for an authorized app, in order (issue 14 §3).

When the grant's own connection fails before any byte reached the app (unreachable, timeout,
429, 5xx), the call moves on to these, in `position` order (gateway/failover.py). Only the
user's own connections, each at most once, never the grant's own connection; at most
MAX_FALLBACKS. Changing the list bumps the cache epoch (m0010's triggers), so running servers
see it at once.
"""

from __future__ import annotations

from ..store.models import Grant, GrantFallback, ProviderConnection
from . import audit
from .errors import ValidationError
from .grant_views import get_user_grant

MAX_FALLBACKS = 3


def list_fallbacks(store, grant_ids: list[int]) -> dict[int, list[int]]:
    """grant id -> its fallback connection ids in order."""
    out: dict[int, list[int]] = {}
    if not grant_ids:
        return out
    with store.read():
        for row in (GrantFallback.select().where(GrantFallback.grant.in_(grant_ids))
                    .order_by(GrantFallback.grant, GrantFallback.position)):
            out.setdefault(row.grant_id, []).append(row.provider_id)
    return out


def set_fallbacks(store, user_id: int, grant_id: int, provider_ids: list, *, actor: str = "") -> list[int]:
    """Replace the user's grant's fallback list (ids as given by a form; '' entries are skipped,
    repeats and the grant's own connection are dropped). ValidationError for a connection that is
    not the user's or more than MAX_FALLBACKS; NotFound for a grant not theirs."""
    get_user_grant(store, user_id, grant_id)
    wanted: list[int] = []
    for raw in provider_ids:
        if raw in ("", None):
            continue
        try:
            wanted.append(int(raw))
        except (TypeError, ValueError):
            raise ValidationError("Choose fallbacks among your provider connections.", field="fallback") from None
    with store.write():
        own = Grant.get_by_id(grant_id).provider_id
        mine = {c.id for c in
                ProviderConnection.select(ProviderConnection.id).where(ProviderConnection.user == user_id)}
        if any(pid not in mine for pid in wanted):
            raise ValidationError("Choose fallbacks among your provider connections.", field="fallback")
        ordered = [pid for pid in dict.fromkeys(wanted) if pid != own]
        if len(ordered) > MAX_FALLBACKS:
            raise ValidationError(f"Choose at most {MAX_FALLBACKS} fallback connections.", field="fallback")
        GrantFallback.delete().where(GrantFallback.grant == grant_id).execute()
        for position, pid in enumerate(ordered):
            GrantFallback.create(grant=grant_id, provider=pid, position=position)
    audit.record(store, actor or audit.user_actor(user_id), "grant.fallbacks", f"grant:{grant_id}",
                 providers=ordered)
    return ordered
