"""The provider kinds infer0 offers: data, not code.

Each kind names its wire format (the adapter in `registry.ADAPTERS` that speaks to it),
the base URL preset written the way that provider's own SDK takes it, and whether it
needs a key. The table lives with the adapters because it is their catalogue: adding a
provider is a row here (plus an adapter module if its wire format is new). Services,
pages and the CLI import it from here; it imports nothing, so they stay free of aiohttp.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProviderKind:
    slug: str
    label: str
    wire: str  # "openai", "anthropic", "gemini", "azure", "sandbox"
    base_url: str  # preset; the user may override it
    needs_key: bool = True
    needs_base_url: bool = False  # no usable preset: the user must give one
    default_model: str = ""
    key_hint: str = ""  # shown as the key field's placeholder


KINDS: dict[str, ProviderKind] = {
    k.slug: k
    for k in (
        ProviderKind("openai", "OpenAI", "openai", "https://api.openai.com/v1",
                     default_model="gpt-4o-mini", key_hint="sk-..."),
        ProviderKind("anthropic", "Anthropic", "anthropic", "https://api.anthropic.com",
                     default_model="claude-sonnet-4-5", key_hint="sk-ant-..."),
        # Gemini is reached through Google's OpenAI-compatible endpoint (see gateway/providers/gemini.py).
        ProviderKind("gemini", "Google Gemini", "gemini",
                     "https://generativelanguage.googleapis.com/v1beta/openai",
                     default_model="gemini-2.5-flash", key_hint="AIza..."),
        ProviderKind("mistral", "Mistral", "openai", "https://api.mistral.ai/v1",
                     default_model="mistral-small-latest"),
        ProviderKind("groq", "Groq", "openai", "https://api.groq.com/openai/v1",
                     default_model="llama-3.3-70b-versatile", key_hint="gsk_..."),
        ProviderKind("deepseek", "DeepSeek", "openai", "https://api.deepseek.com/v1",
                     default_model="deepseek-chat", key_hint="sk-..."),
        ProviderKind("xai", "xAI", "openai", "https://api.x.ai/v1",
                     default_model="grok-3-mini", key_hint="xai-..."),
        ProviderKind("openrouter", "OpenRouter", "openai", "https://openrouter.ai/api/v1",
                     default_model="openai/gpt-4o-mini", key_hint="sk-or-..."),
        ProviderKind("together", "Together", "openai", "https://api.together.xyz/v1",
                     default_model="meta-llama/Llama-3.3-70B-Instruct-Turbo"),
        ProviderKind("fireworks", "Fireworks", "openai", "https://api.fireworks.ai/inference/v1",
                     default_model="accounts/fireworks/models/llama-v3p1-8b-instruct", key_hint="fw_..."),
        # Azure's base URL is the resource endpoint; the model field holds the deployment name.
        ProviderKind("azure-openai", "Azure OpenAI", "azure", "", needs_base_url=True,
                     key_hint="Azure resource key"),
        ProviderKind("ollama", "Ollama", "openai", "http://127.0.0.1:11434/v1", needs_key=False,
                     default_model="llama3.2"),
        ProviderKind("openai-compatible", "Other OpenAI-compatible", "openai", "", needs_base_url=True,
                     needs_key=False),
        ProviderKind("sandbox", "Sandbox (free, deterministic)", "sandbox", "", needs_key=False,
                     default_model="sandbox-echo-1"),
    )
}


def get_kind(slug: str) -> ProviderKind | None:
    return KINDS.get(slug)
