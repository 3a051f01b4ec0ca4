"""The dashboard's "Test connection": list the provider's models with the user's key."""

from __future__ import annotations

import aiohttp

from ..gateway.errors import DESTINATION_REFUSED
from ..gateway.pipeline import list_models
from ..gateway.providers.base import GatewayError
from ..services.providers import ProviderTarget


async def check_connection(http: aiohttp.ClientSession, target: ProviderTarget) -> tuple[bool, str, list[str]]:
    """(ok, a sentence for the user, models found). A destination the egress policy refuses
    gets its one fixed sentence, the same for an open or a closed port: infer0 sent nothing,
    so the provider did not answer."""
    try:
        models = await list_models(http, target.route)
    except GatewayError as exc:
        if exc.code == DESTINATION_REFUSED:
            return False, exc.message, []
        return False, f"The provider answered: {exc.message}", []
    if not models:
        return True, "Connected. The provider listed no models; type the model name yourself.", []
    return True, f"Connected. Found {len(models)} model{'s' if len(models) != 1 else ''}.", models
