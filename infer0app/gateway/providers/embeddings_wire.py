"""OpenAI's embeddings shape (`POST /v1/embeddings`), as data and pure functions (issue 14 §3).

Request (OpenAI API reference, "Create embeddings"): `input` is a string, an array of strings,
an array of token ids, or an array of token-id arrays (non-empty; at most 2048 items);
`model` (ignored: the grant's embedding model is used); `encoding_format` "float" (default) or
"base64" (little-endian float32 bytes, base64); `dimensions` an integer from 1 to
MAX_DIMENSIONS (OpenAI documents no ceiling; each model refuses past its own); `user`.

Response: `{"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model",
"usage": {"prompt_tokens", "total_tokens"}}`.

What each provider takes differs, and is data here (`EMBEDDING_RULES`, per kind): which of the
optional fields it accepts, under which name (Mistral's `output_dimension`), and whether it can
answer base64 itself. Where it cannot, infer0 asks for floats and encodes them for the app, so
an app using the official SDK (which asks for base64 by default) works on every kind.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infer0app.gateway.providers.base import GatewayError, Usage, dump_json, gateway_error, load_json, token_count

MAX_INPUTS = 2048  # OpenAI's limit on array inputs
# Above every embedding model's size (text-embedding-3-large and gemini-embedding-001: 3072;
# the largest open models: 4096). Unbounded, 10**30 kept the sandbox computing on the event
# loop for ever: every request of every user waited.
MAX_DIMENSIONS = 16384
ENCODINGS = ("float", "base64")


@dataclass(frozen=True)
class EmbeddingRules:
    """How one provider kind takes OpenAI's optional embedding fields.

    `renamed` maps OpenAI's name to the provider's; a field in `dropped` is left out and listed
    in `x-infer0-dropped-params`; `base64` says the provider answers `encoding_format: base64`."""

    renamed: Mapping[str, str]
    dropped: frozenset[str] = frozenset()
    base64: bool = False


_OPENAI = EmbeddingRules({}, base64=True)
#: Only what each provider's embeddings reference documents; others get the OpenAI rules but
#: floats (and infer0 encodes base64 itself).
EMBEDDING_RULES: Mapping[str, EmbeddingRules] = {
    "openai": _OPENAI,
    "azure-openai": _OPENAI,
    "sandbox": _OPENAI,
    # Mistral rejects unknown fields; it names the size `output_dimension` and has no `user`.
    "mistral": EmbeddingRules({"dimensions": "output_dimension"}, dropped=frozenset({"user"})),
    # Gemini's OpenAI-compatible endpoint: `dimensions` is honoured; `user` is not documented.
    "gemini": EmbeddingRules({}, dropped=frozenset({"user"})),
}
_DEFAULT_RULES = EmbeddingRules({})


@dataclass(frozen=True)
class EmbeddingsRequest:
    """An app's embeddings request, checked. `input` as sent; `encoding_format` what the app
    wants back; `texts` the number of inputs."""

    input: Any
    encoding_format: str
    dimensions: int | None
    user: str | None
    texts: int


def _bad(message: str, param: str) -> GatewayError:
    return gateway_error("invalid_request", message, param=param)


def _token_list(value: Any) -> bool:
    return (isinstance(value, list) and bool(value)
            and all(isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in value))


def parse_request(body: Mapping[str, Any]) -> EmbeddingsRequest:
    """Check an app's embeddings body (OpenAI's rules above); 400 `invalid_request` naming the field."""
    value = body.get("input")
    if isinstance(value, str):
        if not value:
            raise _bad("`input` must not be empty.", "input")
        count = 1
    elif _token_list(value):
        count = 1
    elif isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        count = len(value)
    elif isinstance(value, list) and value and all(_token_list(v) for v in value):
        count = len(value)
    else:
        raise _bad("`input` must be a non-empty string, an array of non-empty strings, an array of token ids, "
                   "or an array of token-id arrays.", "input")
    if count > MAX_INPUTS:
        raise _bad(f"`input` may hold at most {MAX_INPUTS} items.", "input")
    fmt = body.get("encoding_format", "float")
    if fmt is None:
        fmt = "float"
    if fmt not in ENCODINGS:
        raise _bad("`encoding_format` must be \"float\" or \"base64\".", "encoding_format")
    dims = body.get("dimensions")
    if dims is not None and (not isinstance(dims, int) or isinstance(dims, bool) or not 1 <= dims <= MAX_DIMENSIONS):
        raise _bad(f"`dimensions` must be an integer from 1 to {MAX_DIMENSIONS}.", "dimensions")
    user = body.get("user")
    if user is not None and not isinstance(user, str):
        raise _bad("`user` must be a string.", "user")
    return EmbeddingsRequest(value, fmt, dims, user, count)


def rules_for(kind: str) -> EmbeddingRules:
    return EMBEDDING_RULES.get(kind, _DEFAULT_RULES)


def upstream_payload(kind: str, req: EmbeddingsRequest, model: str | None) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The provider's body for `req` (model None: not in the body, e.g. an Azure deployment URL)
    and the optional fields left out."""
    rules = rules_for(kind)
    payload: dict[str, Any] = {"input": req.input}
    if model is not None:
        payload["model"] = model
    payload["encoding_format"] = "base64" if req.encoding_format == "base64" and rules.base64 else "float"
    dropped = []
    for name, value in (("dimensions", req.dimensions), ("user", req.user)):
        if value is None:
            continue
        if name in rules.dropped:
            dropped.append(name)
        else:
            payload[rules.renamed.get(name, name)] = value
    return payload, tuple(dropped)


def floats_to_base64(values: list[float]) -> str:
    """OpenAI's base64 embedding: the vector as little-endian float32, base64-encoded."""
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def parse_response(raw: bytes, *, model: str, encoding_format: str) -> tuple[bytes, Usage | None, str]:
    """Read a provider's OpenAI-shaped embeddings answer: (body for the app, usage, model).
    Float vectors are encoded when the app asked for base64. ValueError when unreadable."""
    obj = load_json(raw)
    data = obj.get("data") if isinstance(obj, dict) else None
    if not isinstance(data, list) or not data:
        raise ValueError("not an embeddings list")
    fixed = False
    for i, item in enumerate(data):
        if not isinstance(item, dict) or "embedding" not in item:
            raise ValueError("not an embedding")
        vector = item["embedding"]
        if encoding_format == "base64" and isinstance(vector, list):
            item["embedding"] = floats_to_base64(vector)
            fixed = True
        elif encoding_format == "float" and not isinstance(vector, list):
            raise ValueError("a base64 embedding for a float request")
        if item.get("object") != "embedding" or "index" not in item:
            item.setdefault("index", i)
            item["object"] = "embedding"
            fixed = True
    if obj.get("object") != "list" or not obj.get("model"):
        obj["object"] = "list"
        obj["model"] = obj.get("model") or model
        fixed = True
    raw_usage = obj.get("usage")
    usage = None
    if isinstance(raw_usage, dict):
        prompt = raw_usage.get("prompt_tokens", raw_usage.get("total_tokens"))
        usage = Usage(prompt_tokens=token_count(prompt))
    return (dump_json(obj) if fixed else raw), usage, str(obj["model"])


def not_supported(label: str) -> GatewayError:
    return gateway_error("embeddings_not_supported",
                         f"The user's provider ({label}) has no embeddings API. The user can point this app at "
                         "a connection that has one on their infer0 Connected apps page.")
