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
    # Shown with the form: what to ask the operator when infer0 refuses the address
    # (loopback and private addresses need `--upstream-allow`, see infer0app/egress).
    note: str = ""
    #: The provider answers OpenAI-shaped `POST /embeddings` (issue 14 §3); `embedding_model` is
    #: the model a grant uses when the user picked none ('' where the user must name one, e.g.
    #: an Azure deployment or a custom server's model).
    embeddings: bool = False
    embedding_model: str = ""
    #: A closed catalogue: the only models this kind serves (the sandbox). Empty: open-ended.
    fixed_models: tuple[str, ...] = ()
    #: The provider has an API key field at all (the sandbox and a local Ollama have none; an
    #: "other OpenAI-compatible" server may or may not want one: optional, `needs_key` False).
    takes_key: bool = True

    # -- which form fields the kind takes (the provider form shows only these) ----------------
    @property
    def takes_base_url(self) -> bool:
        return self.wire != "sandbox"  # the sandbox answers inside infer0: it has no address

    @property
    def needs_model(self) -> bool:
        """No default model: the user must name one (an Azure deployment, a custom server's model)."""
        return not self.default_model

    @property
    def form_fields(self) -> tuple[str, ...]:
        """The add/edit form's fields for this kind, by their form names."""
        fields = ["name"]
        if self.takes_key:
            fields.append("api_key")
        if self.takes_base_url:
            fields.append("base_url")
        fields.append("model")
        if self.wire == "azure":
            fields.append("api_version")
        return tuple(fields)


_LOCAL_NOTE = ("{what} needs the operator to start infer0 with --upstream-allow {where}; until then infer0 "
               "refuses to connect to it.")


KINDS: dict[str, ProviderKind] = {
    k.slug: k
    for k in (
        ProviderKind("openai", "OpenAI", "openai", "https://api.openai.com/v1",
                     default_model="gpt-4o-mini", key_hint="sk-...",
                     embeddings=True, embedding_model="text-embedding-3-small"),
        ProviderKind("anthropic", "Anthropic", "anthropic", "https://api.anthropic.com",
                     default_model="claude-sonnet-4-5", key_hint="sk-ant-..."),
        # Gemini is reached through Google's OpenAI-compatible endpoint (see gateway/providers/gemini.py).
        ProviderKind("gemini", "Google Gemini", "gemini",
                     "https://generativelanguage.googleapis.com/v1beta/openai",
                     default_model="gemini-2.5-flash", key_hint="AIza...",
                     embeddings=True, embedding_model="gemini-embedding-001"),
        ProviderKind("mistral", "Mistral", "openai", "https://api.mistral.ai/v1",
                     default_model="mistral-small-latest", embeddings=True, embedding_model="mistral-embed"),
        ProviderKind("groq", "Groq", "openai", "https://api.groq.com/openai/v1",
                     default_model="llama-3.3-70b-versatile", key_hint="gsk_..."),
        ProviderKind("deepseek", "DeepSeek", "openai", "https://api.deepseek.com/v1",
                     default_model="deepseek-chat", key_hint="sk-..."),
        ProviderKind("xai", "xAI", "openai", "https://api.x.ai/v1",
                     default_model="grok-3-mini", key_hint="xai-..."),
        ProviderKind("openrouter", "OpenRouter", "openai", "https://openrouter.ai/api/v1",
                     default_model="openai/gpt-4o-mini", key_hint="sk-or-..."),
        ProviderKind("together", "Together", "openai", "https://api.together.xyz/v1",
                     default_model="meta-llama/Llama-3.3-70B-Instruct-Turbo",
                     embeddings=True, embedding_model="BAAI/bge-base-en-v1.5"),
        ProviderKind("fireworks", "Fireworks", "openai", "https://api.fireworks.ai/inference/v1",
                     default_model="accounts/fireworks/models/llama-v3p1-8b-instruct", key_hint="fw_...",
                     embeddings=True, embedding_model="nomic-ai/nomic-embed-text-v1.5"),
        # Azure's base URL is the resource endpoint; the model field holds the deployment name.
        ProviderKind("azure-openai", "Azure OpenAI", "azure", "", needs_base_url=True,
                     key_hint="Azure resource key", embeddings=True),
        ProviderKind("ollama", "Ollama", "openai", "http://127.0.0.1:11434/v1", needs_key=False,
                     default_model="llama3.2", embeddings=True, embedding_model="nomic-embed-text",
                     note=_LOCAL_NOTE.format(what="A local Ollama at 127.0.0.1:11434",
                                             where="127.0.0.1:11434 (or the address and port it runs at)")),
        ProviderKind("openai-compatible", "Other OpenAI-compatible", "openai", "", needs_base_url=True,
                     needs_key=False, embeddings=True,
                     note=_LOCAL_NOTE.format(what="A server on this machine or your own network (127.0.0.1, "
                                                  "10.x, 192.168.x)", where="HOST:PORT")),
        ProviderKind("sandbox", "Sandbox (free, deterministic)", "sandbox", "", needs_key=False, takes_key=False,
                     default_model="sandbox-echo-1", embeddings=True, embedding_model="sandbox-embed-1",
                     fixed_models=("sandbox-echo-1", "sandbox-embed-1")),
    )
}


#: The kind the add form starts on: the one the pages suggest trying first (no key, no cost).
DEFAULT_KIND = "sandbox"


def get_kind(slug: str) -> ProviderKind | None:
    return KINDS.get(slug)


def kind_label(slug: str) -> str:
    """The kind's human label ("Anthropic"), or the slug itself for a kind this build does not know."""
    kind = KINDS.get(slug)
    return kind.label if kind else slug


def connection_label(name: str, slug: str) -> str:
    """How a connection is named wherever it is listed: "Work key (OpenAI)", or the kind's label
    alone when the connection kept its default name (a connection named after its kind would
    otherwise read "Sandbox (free, deterministic) (Sandbox (free, deterministic))")."""
    label = kind_label(slug)
    name = (name or "").strip()
    if not name or name.casefold() == label.casefold():
        return label
    return f"{name} ({label})"


def names_kind(name: str, slug: str) -> bool:
    """True when a connection's name already says its kind (it kept the default name), so a
    page showing the name need not repeat the kind's label beside it."""
    return (name or "").strip().casefold() == kind_label(slug).casefold()
