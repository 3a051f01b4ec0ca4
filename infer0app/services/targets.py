"""Loading what a grant needs to call its provider: the connection, with its key opened."""

from __future__ import annotations

from ..store.models import ProviderConnection
from .providers import ProviderTarget, target_for


def load_target(store, vault, provider_id: int, model: str | None) -> ProviderTarget | None:
    conn = ProviderConnection.get_or_none(ProviderConnection.id == provider_id)
    if conn is None:
        return None
    return target_for(vault, conn, model or None)
