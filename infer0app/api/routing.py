"""Which routes a bearer call may take: the grant's connection, then its fallbacks (issue 14 §3).

`fallback_routes` opens the grant's fallback connections in the user's order (through the
target cache, keys decrypted in memory only), each with its own default model, for
gateway/failover.py; `embedding_route` turns a connection's route into its embeddings route.
"""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from .. import keys
from ..gateway.providers.base import GatewayError, Route, gateway_error
from ..gateway.providers.embeddings_wire import not_supported
from ..gateway.providers.kinds import get_kind


def embedding_route(route: Route, model: str) -> Route:
    """`route` with the embedding model (`model`, else its kind's default). Raises GatewayError
    `embeddings_not_supported` for a kind without embeddings, `embedding_model_not_chosen` when
    neither names a model."""
    kind = get_kind(route.kind)
    if kind is None or not kind.embeddings:
        raise not_supported(route.provider_label)
    model = model or kind.embedding_model
    if not model:
        raise gateway_error("embedding_model_not_chosen",
                            f"The user's {route.provider_label} connection has no default embedding model and none "
                            "was chosen for this app. Ask the user to name one on their infer0 Connected apps page.")
    return replace(route, model=model)


async def fallback_targets(request: web.Request, ctx, *, embeddings: bool = False) -> list[tuple[int, Route]]:
    """(connection id, route) of the grant's fallbacks in order; connections gone since, or
    without embeddings for an embeddings call, are skipped."""
    routes = []
    for provider_id in ctx.fallback_ids:
        target = await request.app[keys.TARGETS].get(provider_id, "")
        if target is None:
            continue
        route = target.route
        if embeddings:
            try:
                route = embedding_route(route, "")
            except GatewayError:
                continue
        routes.append((provider_id, route))
    return routes
