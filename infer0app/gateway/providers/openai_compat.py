"""OpenAI chat-completions wire: OpenAI, Mistral, Groq, DeepSeek, xAI, OpenRouter, Together,
Fireworks, Ollama and any custom OpenAI-compatible server.

Pass-through by design (DESIGN.md §5): the request body is the app's, with `model`
replaced by the user's model and the params policy and the provider's profile applied
(`gateway.profiles`). Replies are put in OpenAI's shape by `profiles.replies`: a body is
re-serialised only when `normalise_body` changed it; a stream chunk that a cheap byte
check shows to be in OpenAI's shape already (`plain_open_chunk`: one open choice, no
usage, no tool calls) is forwarded byte for byte, every other chunk goes through
`StreamNormaliser` (Azure's choice-less filter chunk dropped, tool-call deltas numbered,
usage moved to one final usage chunk, a missing finish reason or `[DONE]` supplied).

For accounting, streamed requests ask the provider for `stream_options.include_usage`
where its profile says it accepts that field (not Mistral, not Azure before 2024-09-01;
`route.options["stream_usage"] = False` turns it off for a custom server); providers
that report usage anyway (on the finish chunk) are read there. The usage chunk reaches
only apps that asked for it. A stream that ends before any `finish_reason` and without
`[DONE]` gets an OpenAI error chunk first.

Contract capabilities per kind, as data (`_KIND_SUPPORT`): Groq documents 400s for
`logprobs`, `top_logprobs` and `n` != 1; Ollama silently ignores `n` and `logprobs`, which
would break the app's contract, so infer0 rejects them there. Field-level rules (Groq's
`logit_bias`, `messages[].name`, ...) are in the profiles.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from infer0app.gateway.errors import stream_error
from infer0app.gateway.profiles.replies import StreamNormaliser, normalise_body
from infer0app.gateway.profiles.table import resolve
from infer0app.gateway.providers.base import (
    CAPABILITIES,
    LocalUpstream,
    ParamSupport,
    ParsedResponse,
    Route,
    StreamTranslator,
    UpstreamFailure,
    UpstreamRequest,
    Usage,
    category_for_status,
    dump_json,
    load_json,
)
from infer0app.gateway.providers import embeddings_wire
from infer0app.gateway.sse import SSEEvent, encode_data

_FULL = ParamSupport(capabilities=CAPABILITIES)
_KIND_SUPPORT: Mapping[str, ParamSupport] = {
    "groq": ParamSupport(capabilities=CAPABILITIES - {"n", "logprobs"}),
    "ollama": ParamSupport(capabilities=CAPABILITIES - {"n", "logprobs"}),
}

_ERROR_RE = re.compile(r'^\s*\{\s*"error"\s*:')


def plain_open_chunk(data: str) -> bool:
    """Whether a chunk is in OpenAI's shape with nothing to fix: one choice, index 0, still
    open (finish_reason null), no tool calls, no usage object. Substring checks only (a
    regex or a JSON parse costs several times more on the hot path; bench/replies_micro.py);
    whatever they cannot vouch for goes through the normaliser, which is always right."""
    return ('"tool_calls"' not in data and '"x_groq"' not in data and 'chat.completion.chunk"' in data
            and ('"finish_reason":null' in data or '"finish_reason": null' in data)
            and ('"index":0' in data or '"index": 0' in data)
            and data.count('"finish_reason"') == 1
            and ('"usage"' not in data or '"usage":null' in data or '"usage": null' in data))


def join_url(base: str, path: str) -> str:
    return base.rstrip("/") + path


def bearer_headers(route: Route, *, stream: bool = False) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if stream:
        headers["Accept"] = "text/event-stream"
    if route.api_key:
        headers["Authorization"] = f"Bearer {route.api_key}"
    return headers


def upstream_payload(route: Route, body: Mapping[str, Any], *, stream: bool, model: bool = True) -> dict[str, Any]:
    """The app's body with the user's model and infer0's stream settings."""
    payload = dict(body)
    if model:
        payload["model"] = route.model
    else:
        payload.pop("model", None)
    if stream:
        payload["stream"] = True
        if route.options.get("stream_usage", True) and \
                resolve(route.kind, route.model, api_version=route.options.get("api_version")).stream_options:
            opts = dict(payload.get("stream_options") or {})
            opts["include_usage"] = True
            payload["stream_options"] = opts
    else:
        payload.pop("stream", None)
        payload.pop("stream_options", None)
    return payload


def openai_error_message(obj: Any) -> tuple[str, str | None]:
    """(message, code) from an OpenAI-style error body, tolerating list-wrapped bodies."""
    if isinstance(obj, list) and obj:
        obj = obj[0]
    if isinstance(obj, Mapping):
        err = obj.get("error", obj)
        if isinstance(err, Mapping):
            code = err.get("code")
            return str(err.get("message") or ""), (str(code) if code is not None else None)
        if isinstance(err, str):
            return err, None
    return "", None


def read_openai_error(status: int, raw: bytes) -> UpstreamFailure:
    message, code = openai_error_message(load_json(raw))
    if not message:
        message = raw[:300].decode("utf-8", errors="replace").strip()
    category = category_for_status(status)
    if code == "insufficient_quota":
        category = "payment"
    return UpstreamFailure(category, message)


def parse_openai_models(raw: bytes) -> list[str]:
    obj = load_json(raw)
    data = obj.get("data") if isinstance(obj, Mapping) else None
    if not isinstance(data, list):
        raise ValueError("no model list")
    return [str(m["id"]) for m in data if isinstance(m, Mapping) and m.get("id")]


class PassthroughTranslator(StreamTranslator):
    """Forwards OpenAI chunks, in OpenAI's shape: byte for byte when a cheap check shows
    the chunk needs nothing, else through `StreamNormaliser`; reads usage and the model."""

    tool_stop_is_tool_calls: ClassVar[bool] = False  # Gemini ends tool-calling turns with "stop"

    def __init__(self, route: Route, *, include_usage: bool, created: int) -> None:
        super().__init__(route, include_usage=include_usage, created=created)
        self._norm = StreamNormaliser(include_usage=include_usage, model=route.model,
                                      tool_stop_is_tool_calls=self.tool_stop_is_tool_calls)
        self._seen = False  # a chunk went through the normaliser (it knows id, created, model)
        self._raw_usage: dict[str, Any] | None = None

    def ended_properly(self) -> bool:
        # [DONE], or every choice finished (some servers close without [DONE]: that is complete)
        return self._norm.complete

    def closing_frames(self) -> list[bytes]:
        return self._norm.closing_frames()

    def feed(self, event: SSEEvent) -> list[bytes]:
        data = event.data
        if self._done or self.error is not None or not data:
            return []
        if data == "[DONE]":
            self._done = True
            self._norm.feed(data)
            return []
        if _ERROR_RE.match(data):
            message, _code = openai_error_message(load_json(data.encode()))
            return self.fail(stream_error(self.route, "server", message), encode_data(data))
        # the hot path: forwarded as it came (a chunk cut short, e.g. a partial last line, does
        # not end in "}" and goes through the normaliser, whose JSON parse refuses it)
        if self._seen and data[-1] == "}" and plain_open_chunk(data):
            self._norm.note_open(0)
            self._out += 1
            return [encode_data(data)]
        frames = self._norm.feed(data)
        self._seen = True
        self.model = self._norm.model
        if self._norm.usage is not None and self._norm.usage is not self._raw_usage:
            self._raw_usage = self._norm.usage
            self.usage = Usage.from_openai(self._raw_usage)
        self._out += len(frames)
        return frames


class OpenAICompatAdapter:
    wire: ClassVar[str] = "openai"
    local: ClassVar[LocalUpstream | None] = None
    translator_class: ClassVar[type[PassthroughTranslator]] = PassthroughTranslator

    def param_support(self, route: Route) -> ParamSupport:
        return _KIND_SUPPORT.get(route.kind, _FULL)

    def chat_url(self, route: Route) -> str:
        return join_url(route.base_url, "/chat/completions")

    def headers(self, route: Route, *, stream: bool = False) -> dict[str, str]:
        return bearer_headers(route, stream=stream)

    def payload(self, route: Route, body: Mapping[str, Any], *, stream: bool) -> dict[str, Any]:
        return upstream_payload(route, body, stream=stream)

    def build_request(self, route: Route, body: Mapping[str, Any], *, stream: bool,
                      app_json: tuple[Mapping[str, Any], bytes] | None = None) -> UpstreamRequest:
        """POST {base}/chat/completions with the route's model. When the payload is exactly the
        app's body (`app_json`: it named this model and nothing was fitted), the app's bytes go
        as they are: they decode to the same JSON (request_shape.decode_json refused duplicate
        names, NaN, lone surrogates, anything but UTF-8), and a long conversation is not encoded
        a second time (~2.4 µs for the bench's small body, ~1 ms for 200 KB)."""
        payload = self.payload(route, body, stream=stream)
        data = app_json[1] if app_json is not None and payload == app_json[0] else dump_json(payload)
        return UpstreamRequest("POST", self.chat_url(route), self.headers(route, stream=stream), data)

    def parse_response(self, route: Route, raw: bytes, *, created: int) -> ParsedResponse:
        obj = load_json(raw)
        if not isinstance(obj, dict) or not isinstance(obj.get("choices"), list):
            raise ValueError("not a chat.completion")
        fixed = normalise_body(obj, tool_stop_is_tool_calls=self.translator_class.tool_stop_is_tool_calls)
        if not obj.get("model"):
            obj["model"] = route.model
            fixed = True
        return ParsedResponse(
            body=dump_json(obj) if fixed else raw,
            usage=Usage.from_openai(obj.get("usage")),
            model=str(obj["model"]),
        )

    def stream_translator(
        self, route: Route, body: Mapping[str, Any], *, include_usage: bool, created: int
    ) -> PassthroughTranslator:
        return self.translator_class(route, include_usage=include_usage, created=created)

    def read_error(self, status: int, raw: bytes) -> UpstreamFailure:
        return read_openai_error(status, raw)

    def models_request(self, route: Route) -> UpstreamRequest:
        headers = {k: v for k, v in self.headers(route).items() if k != "Content-Type"}
        return UpstreamRequest("GET", join_url(route.base_url, "/models"), headers)

    def parse_models(self, raw: bytes) -> list[str]:
        return parse_openai_models(raw)

    # -- embeddings (every OpenAI-wire kind whose kinds.py row says `embeddings`) --------------
    def embeddings_url(self, route: Route) -> str:
        return join_url(route.base_url, "/embeddings")

    def embeddings_model(self, route: Route) -> str | None:
        """The `model` field of the upstream body (None: the URL names it, as Azure's does)."""
        return route.model

    def build_embeddings_request(self, route: Route, req: embeddings_wire.EmbeddingsRequest
                                 ) -> tuple[UpstreamRequest, tuple[str, ...]]:
        payload, dropped = embeddings_wire.upstream_payload(route.kind, req, self.embeddings_model(route))
        return UpstreamRequest("POST", self.embeddings_url(route), self.headers(route), dump_json(payload)), dropped

    def parse_embeddings(self, route: Route, raw: bytes, *, encoding_format: str) -> ParsedResponse:
        body, usage, model = embeddings_wire.parse_response(raw, model=route.model, encoding_format=encoding_format)
        return ParsedResponse(body=body, usage=usage, model=model)
