"""OpenAI chat-completions wire: OpenAI, Mistral, Groq, DeepSeek, xAI, OpenRouter, Together,
Fireworks, Ollama and any custom OpenAI-compatible server.

Pass-through by design (DESIGN.md §5): the request body is the app's, with `model`
replaced by the user's model and the params policy applied; the response body bytes go
back unchanged and stream `data:` payloads are forwarded byte for byte. Responses are
only *read* (never re-serialised) to extract usage and the answering model.

For accounting, streamed requests always ask the provider for
`stream_options.include_usage` (set `route.options["stream_usage"] = False` for a server
that rejects it); the usage-only chunk is then withheld from apps that did not ask for
it. A stream that ends without `[DONE]` gets one; one that ends before any
`finish_reason` gets an OpenAI error chunk first.

Known per-kind limits, as data (`_KIND_SUPPORT`): Groq documents 400s for `logprobs`,
`top_logprobs`, `logit_bias`, `messages[].name` and `n` != 1; Ollama silently ignores `n`
and `logprobs`, which would break the app's contract, so infer0 rejects them there.
Other kinds pass everything through and the provider's own 400 is relayed in plain words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from infer0app.gateway.errors import stream_error
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
from infer0app.gateway.sse import SSEEvent, encode_data

_FULL = ParamSupport(capabilities=CAPABILITIES)
_KIND_SUPPORT: Mapping[str, ParamSupport] = {
    "groq": ParamSupport(
        capabilities=CAPABILITIES - {"n", "logprobs", "message_names"},
        unsupported=frozenset({"logit_bias"}),
    ),
    "ollama": ParamSupport(
        capabilities=CAPABILITIES - {"n", "logprobs"},
        unsupported=frozenset({"logit_bias"}),
    ),
}

_USAGE_RE = re.compile(r'"usage"\s*:\s*\{')
_ERROR_RE = re.compile(r'^\s*\{\s*"error"\s*:')
_FINISH_RE = re.compile(r'"finish_reason"\s*:\s*"')


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
        if route.options.get("stream_usage", True):
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
    """Forwards OpenAI chunks unchanged; reads usage, model, finish and error chunks."""

    def __init__(self, route: Route, *, include_usage: bool, created: int) -> None:
        super().__init__(route, include_usage=include_usage, created=created)
        self._finished = False  # a chunk carried a finish_reason

    def rewrite(self, data: str) -> str:
        """Hook for providers whose chunks need a fix (see gemini.py)."""
        return data

    def ended_properly(self) -> bool:
        # some servers close after the finish chunk without sending [DONE]: that is complete
        return self._done or self._finished

    def feed(self, event: SSEEvent) -> list[bytes]:
        data = event.data
        if self._done or self.error is not None or not data:
            return []
        if data == "[DONE]":
            self._done = True
            return []
        if _ERROR_RE.match(data):
            message, _code = openai_error_message(load_json(data.encode()))
            return self.fail(stream_error(self.route, "server", message), encode_data(data))
        usage_only = False
        if self.model is None or _USAGE_RE.search(data):
            obj = load_json(data.encode())
            if isinstance(obj, dict):
                if self.model is None and obj.get("model"):
                    self.model = str(obj["model"])
                raw_usage = obj.get("usage")
                if raw_usage is None and isinstance(obj.get("x_groq"), dict):
                    raw_usage = obj["x_groq"].get("usage")
                usage = Usage.from_openai(raw_usage)
                if usage is not None:
                    self.usage = usage
                    usage_only = not obj.get("choices")
        if _FINISH_RE.search(data):
            self._finished = True
        if usage_only and not self.include_usage:
            return []
        self._out += 1
        return [encode_data(self.rewrite(data))]


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

    def build_request(self, route: Route, body: Mapping[str, Any], *, stream: bool) -> UpstreamRequest:
        return UpstreamRequest(
            "POST",
            self.chat_url(route),
            self.headers(route, stream=stream),
            dump_json(self.payload(route, body, stream=stream)),
        )

    def parse_response(self, route: Route, raw: bytes, *, created: int) -> ParsedResponse:
        obj = load_json(raw)
        if not isinstance(obj, dict) or not isinstance(obj.get("choices"), list):
            raise ValueError("not a chat.completion")
        fixed = self.fix_response(obj)
        if not obj.get("model"):
            obj["model"] = route.model
            fixed = True
        return ParsedResponse(
            body=dump_json(obj) if fixed else raw,
            usage=Usage.from_openai(obj.get("usage")),
            model=str(obj["model"]),
        )

    def fix_response(self, obj: dict[str, Any]) -> bool:
        """Hook: repair a provider's response in place; True when something changed."""
        return False

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
