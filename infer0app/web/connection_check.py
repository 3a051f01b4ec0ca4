"""The dashboard's "Test connection": list the provider's models with the user's key."""

from __future__ import annotations

import aiohttp

from ..gateway.pipeline import list_models
from ..gateway.providers.base import GatewayError, Route
from ..services.providers import ProviderTarget


def route_of(target: ProviderTarget) -> Route:
    return Route(kind=target.kind, wire=target.wire, base_url=target.base_url, api_key=target.api_key,
                 model=target.model, options=target.options)


async def check_connection(http: aiohttp.ClientSession, target: ProviderTarget) -> tuple[bool, str, list[str]]:
    """(ok, a sentence for the user, models found)."""
    try:
        models = await list_models(http, route_of(target))
    except GatewayError as exc:
        return False, f"The provider answered: {exc.message}", []
    if not models:
        return True, "Connected. The provider listed no models; type the model name yourself.", []
    return True, f"Connected. Found {len(models)} model{'s' if len(models) != 1 else ''}.", models
