"""Types every adapter speaks: routes, upstream requests, usage, errors, capabilities.

An adapter is a small stateless object with pure methods (DESIGN.md §3.6): it turns an
OpenAI-shaped request body plus a `Route` into an `UpstreamRequest`, and the provider's
answer (a JSON body, or SSE events one at a time through a `StreamTranslator`) back into
OpenAI's chat-completion format. `Adapter` below names every method the pipeline calls;
every adapter, the in-process sandbox included, answers the same calls, so adding a
provider never touches the pipeline. Credentials arrive in the `Route` on every call; the
shared HTTP session lives in `gateway.pipeline`, the only module doing I/O.

Nothing here may put an API key into a repr, a log line or an exception's text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from infer0app.errors.api_errors import api_error
from infer0app.gateway.providers.kinds import get_kind
from infer0app.gateway.json_scan import document_decoder
from infer0app.gateway.sse import DONE_FRAME, SSEEvent, encode_json

if TYPE_CHECKING:
    from infer0app.gateway.providers.embeddings_wire import EmbeddingsRequest

# ---------------------------------------------------------------- capabilities (data)

#: Every capability name an adapter may declare. Losing one of these would break the
#: app's contract, so `gateway.params` rejects a request that needs one the route lacks.
CAPABILITIES: frozenset[str] = frozenset(
    {
        "stream",  # stream: true
        "tools",  # tools / tool_choice / tool-call round trips
        "vision",  # image_url content parts
        "json",  # response_format {"type": "json_object"}
        "json_schema",  # response_format {"type": "json_schema"}
        "n",  # n > 1
        "logprobs",  # logprobs / top_logprobs
    }
)


@dataclass(frozen=True)
class ParamSupport:
    """The contract capabilities a route offers, as data; checked once, centrally, by
    `gateway.params`. Which request fields a provider takes, renames or refuses is not
    here but in its profile (`gateway.profiles.table`), applied in the same place."""

    capabilities: frozenset[str]


# ---------------------------------------------------------------- routes and requests


@dataclass(frozen=True)
class Route:
    """Where one call goes: the user's chosen provider kind, wire format, model and key.

    Built in one place for the running server, `services.providers.target_for` (the
    connection's route) and `ProviderTarget.route_for` (another of its models).

    `kind` is a slug of `kinds.KINDS`; `wire` names the adapter.
    `options` carries wire-specific settings, e.g. Azure `{"api_version": "2024-10-21"}`,
    Anthropic `{"default_max_tokens": 4096}`, or `{"capabilities": [...]}` to narrow what
    the chosen model can do (a model without vision or tools).
    """

    kind: str
    wire: str
    base_url: str
    api_key: str | None = field(default=None, repr=False)
    model: str = ""
    options: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def provider_label(self) -> str:
        """Human name of the provider for messages ("Anthropic", "Groq", ...)."""
        kind = get_kind(self.kind)
        return kind.label if kind else (self.kind or self.wire)


# slots, not frozen: built on every call, and a frozen dataclass's __init__ costs ~4x (bench/README.md)
@dataclass(slots=True)
class UpstreamRequest:
    method: str
    url: str
    headers: Mapping[str, str] = field(repr=False)  # carries the key: never printed
    body: bytes | None = field(default=None, repr=False)


@dataclass(slots=True)  # built on every call: not frozen (see UpstreamRequest)
class Usage:
    """Token counts in OpenAI's terms. `prompt_tokens` includes cached and cache-write
    tokens (as OpenAI counts them); `cached_tokens` is the part read from a prompt cache,
    `cache_write_tokens` the part written to one (Anthropic bills those differently)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def total(self) -> int:
        return self.total_tokens

    def to_openai(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }
        if self.cached_tokens:
            out["prompt_tokens_details"] = {"cached_tokens": self.cached_tokens}
        return out

    @classmethod
    def from_openai(cls, raw: Any) -> Usage | None:
        """Read an OpenAI-style `usage` object; None when absent or unreadable."""
        if raw.__class__ is not dict and not isinstance(raw, Mapping):  # json gives dicts: skip the ABC
            return None
        details = raw.get("prompt_tokens_details")
        cached = details.get("cached_tokens") if details.__class__ is dict or isinstance(details, Mapping) else 0
        return cls(
            prompt_tokens=token_count(raw.get("prompt_tokens")),
            completion_tokens=token_count(raw.get("completion_tokens")),
            cached_tokens=token_count(cached),
        )


#: The most tokens one call may count. Far above any model's context; what a provider
#: claims beyond it (or below 0) is not a count: stored, it overflowed the usage rows and
#: stopped every later usage write, and a negative count would refund spend.
MAX_TOKEN_COUNT = 2**31 - 1


def token_count(value: Any) -> int:
    """A provider's token count as infer0 records it: an int from 0 to MAX_TOKEN_COUNT, else 0
    (a bool, a float, a string, a negative or larger number is unreadable, not a count)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TOKEN_COUNT:
        return value
    return 0


# ---------------------------------------------------------------- errors


class GatewayError(Exception):
    """An error infer0 answers in OpenAI's shape: `{"error": {message,type,code,param}}`.

    `status` is the HTTP status infer0 answers with; `headers` are extra response headers
    (e.g. `retry-after` passed on from the provider). The message never contains a key.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",  # noqa: A002 - OpenAI's field name
        code: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers: dict[str, str] = dict(headers or {})

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "code": self.code, "param": self.param}}

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False).encode()

    def to_sse(self) -> bytes:
        """The error as one OpenAI stream chunk (what OpenAI sends when a stream fails)."""
        return encode_json(self.to_dict())

    def __repr__(self) -> str:
        return f"GatewayError(status={self.status}, code={self.code!r}, message={self.message!r})"


def gateway_error(code: str, message: str, *, param: str | None = None,
                  headers: Mapping[str, str] | None = None) -> GatewayError:
    """A GatewayError for `code`, with the status and OpenAI `type` the one error table gives it
    (infer0app/errors/api_errors.py). KeyError for a code missing from the table; the unit tests
    walk every call site."""
    row = api_error(code)
    return GatewayError(row.status, message, type=row.type, code=code, param=param, headers=headers)


def redact(text: str, secret: str | None) -> str:
    """Remove a secret (and any echo of its tail) from provider-supplied text."""
    if secret and len(secret) >= 4:
        text = text.replace(secret, "[redacted]")
        if len(secret) >= 12:
            text = text.replace(secret[-8:], "[redacted]")
    return text


# ---------------------------------------------------------------- adapter protocol


@dataclass(slots=True)  # built on every call: not frozen (see UpstreamRequest)
class ParsedResponse:
    body: bytes  # OpenAI chat.completion JSON
    usage: Usage | None
    model: str  # the model that actually answered


@dataclass(frozen=True)
class UpstreamFailure:
    """The adapter's reading of a non-2xx upstream answer."""

    category: str  # "auth" | "rate_limit" | "bad_request" | "not_found" | "payment" | "server"
    message: str  # the provider's own words (before redaction)


class StreamTranslator:
    """Maps one upstream SSE stream to OpenAI chunk frames, event by event.

    The pipeline calls `feed` for each event, then `finish` at the end of the body (or
    when `done` or `error` says to stop reading), or `abort` when the connection fails.
    Each returns complete SSE frames (bytes) for the app. After an error, `error` is set
    and `error_before_output` tells whether any content frame went out before it (if not,
    the pipeline answers a proper HTTP error instead of a 200 stream).

    A wire's translator implements `feed` and counts the content frames it emits in
    `_out`; it sets `_done` when the provider says the stream is complete. Starting,
    finishing and aborting are shared here: a stream whose provider never said it was
    complete (`ended_properly`) ends in an error chunk, and every stream ends in
    `data: [DONE]`.
    """

    def __init__(self, route: Route, *, include_usage: bool, created: int) -> None:
        self.route = route
        self.include_usage = include_usage  # the app asked for stream_options.include_usage
        self.created = created  # unix seconds, for the chunks a translator builds itself
        self.usage: Usage | None = None
        self.model: str | None = None
        self.error: GatewayError | None = None
        self.error_before_output = False
        self._out = 0  # content frames sent to the app
        self._done = False  # the provider said the stream is complete

    @property
    def started(self) -> bool:
        """A content frame went out: from here on errors become chunks, not statuses."""
        return self._out > 0

    @property
    def done(self) -> bool:
        """The provider said the stream is complete (no need to read further)."""
        return self._done

    def feed(self, event: SSEEvent) -> list[bytes]:
        raise NotImplementedError

    def ended_properly(self) -> bool:
        """Hook: whether the provider finished its answer before the body ended."""
        return self._done

    def closing_frames(self) -> list[bytes]:
        """Hook: frames a complete stream sends before `[DONE]` (e.g. a usage chunk)."""
        return []

    def finish(self) -> list[bytes]:
        if self.error is not None:
            return [DONE_FRAME]
        if not self.ended_properly():
            return self.abort(gateway_error("provider_stream_ended",
                                            f"{self.route.provider_label} ended the stream early."))
        return [*self.closing_frames(), DONE_FRAME]

    def fail(self, err: GatewayError, frame: bytes | None = None) -> list[bytes]:
        """Record `err` as what ended the stream and return its error chunk (`frame`, when
        the provider's own chunk is forwarded instead). [] once an error is recorded."""
        if self.error is not None:
            return []
        self.error = err
        self.error_before_output = self._out == 0
        return [err.to_sse() if frame is None else frame]

    def abort(self, err: GatewayError) -> list[bytes]:
        """End the stream now: the error chunk (unless one went out already), then `[DONE]`."""
        return [*self.fail(err), DONE_FRAME]


@dataclass(frozen=True)
class LocalAnswer:
    """An in-process upstream's answer, exactly as a provider would send it over HTTP."""

    status: int
    body: bytes  # a JSON body, or the whole SSE stream of a streamed request
    headers: Mapping[str, str] = field(default_factory=dict)


class LocalUpstream(Protocol):
    """A provider that lives inside infer0 (the sandbox): answers an `UpstreamRequest`
    the adapter built, in place of the HTTP round trip. `created` is the pipeline's
    clock (unix seconds), so answers are reproducible under a test clock."""

    def answer(self, req: UpstreamRequest, *, created: int) -> LocalAnswer: ...


@runtime_checkable
class Adapter(Protocol):
    """Everything the pipeline calls on a wire format's adapter, and nothing else.

    `local` is None for a provider reached over HTTP through the shared session, or the
    `LocalUpstream` that answers in-process; either way the same request is built and the
    same answer parsed, so the pipeline has no per-adapter branch.
    """

    wire: ClassVar[str]
    local: ClassVar[LocalUpstream | None]

    def param_support(self, route: Route) -> ParamSupport: ...

    def build_request(self, route: Route, body: Mapping[str, Any], *, stream: bool,
                      app_json: tuple[Mapping[str, Any], bytes] | None = None) -> UpstreamRequest:
        """The upstream request for prepared `body`. `app_json`: the app's decoded body and its bytes;
        an adapter may send those bytes as they are when its payload equals that body."""

    def parse_response(self, route: Route, raw: bytes, *, created: int) -> ParsedResponse: ...

    def stream_translator(
        self, route: Route, body: Mapping[str, Any], *, include_usage: bool, created: int
    ) -> StreamTranslator: ...

    def read_error(self, status: int, raw: bytes) -> UpstreamFailure: ...

    def models_request(self, route: Route) -> UpstreamRequest: ...

    def parse_models(self, raw: bytes) -> list[str]: ...

    def build_embeddings_request(
        self, route: Route, req: EmbeddingsRequest
    ) -> tuple[UpstreamRequest, tuple[str, ...]]:
        """`POST /v1/embeddings` upstream (providers/embeddings_wire.py) and the optional fields
        left out; a wire without embeddings raises GatewayError `embeddings_not_supported`."""
        ...

    def parse_embeddings(self, route: Route, raw: bytes, *, encoding_format: str) -> ParsedResponse:
        """The provider's embeddings answer as OpenAI's `list` of `embedding`s, vectors in
        `encoding_format`; `usage.prompt_tokens` = input tokens."""
        ...


def category_for_status(status: int) -> str:
    if status in (401, 403):
        return "auth"
    if status == 429:
        return "rate_limit"
    if status == 402:
        return "payment"
    if status == 404:
        return "not_found"
    if status >= 500:
        return "server"
    return "bad_request"


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


# NaN and Infinity refused (parse_constant): Python's json reads them, and infer0 would pass them
# on to apps whose JSON parsers refuse them (RFC 8259 §6 has no such numbers).
_READER = json.JSONDecoder(parse_constant=_not_json)
_READ = document_decoder(_READER)  # its C scanner called directly (gateway/json_scan.py)


def read_json(text: str | bytes) -> Any:
    """JSON text from a provider (or a JSON string inside a request, such as a tool call's
    `arguments`) -> its value. Raises ValueError for anything that is not JSON: malformed text,
    NaN / Infinity, and nesting too deep for the decoder, whose RecursionError escaped every
    `except ValueError` and ended as a 500 (or as a second HTTP head inside a stream)."""
    try:
        if isinstance(text, (bytes, bytearray)):
            try:  # nearly always UTF-8: read it so first
                return _READ(text.decode("utf-8"))
            except ValueError:  # read as json.loads reads bytes (a BOM, UTF-16/32), with its errors
                text = text.decode(json.detect_encoding(text), "surrogatepass")
        return _READ(text)
    except RecursionError:
        raise ValueError("JSON nested too deep to read") from None


def load_json(raw: bytes) -> Any:
    """A provider's JSON body, or None when it is not JSON (read_json's rules)."""
    try:
        return read_json(raw)
    except ValueError:  # UnicodeDecodeError is one
        return None


# Built once: json.dumps with any non-default argument builds a new JSONEncoder on every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dump_json(obj: Any) -> bytes:
    return _ENCODER.encode(obj).encode()
