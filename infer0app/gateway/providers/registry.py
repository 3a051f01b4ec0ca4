"""Wire-format name -> adapter. Adapters are stateless, so one instance of each serves all
calls; the table is read-only."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from infer0app.gateway.providers.anthropic import AnthropicAdapter
from infer0app.gateway.providers.azure import AzureAdapter
from infer0app.gateway.providers.base import Adapter, gateway_error
from infer0app.gateway.providers.gemini import GeminiAdapter
from infer0app.gateway.providers.openai_compat import OpenAICompatAdapter
from infer0app.gateway.providers.sandbox import SandboxAdapter

ADAPTERS: Mapping[str, Adapter] = MappingProxyType(
    {
        "openai": OpenAICompatAdapter(),
        "anthropic": AnthropicAdapter(),
        "gemini": GeminiAdapter(),
        "azure": AzureAdapter(),
        "sandbox": SandboxAdapter(),
    }
)


def get_adapter(wire: str) -> Adapter:
    try:
        return ADAPTERS[wire]
    except KeyError:
        raise gateway_error("provider_misconfigured", f"infer0 has no adapter for wire format {wire!r}.") from None
