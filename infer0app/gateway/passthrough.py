"""Native pass-through: an inbound API's request sent as it is to a provider that speaks it.

    native = NATIVE["messages"]                       # or NATIVE["responses"]
    result = await complete(http, route, native, body)          # bytes as the provider answered
    stream = await open_stream(http, route, native, body)       # its SSE bytes, watched for usage
    async with stream:
        async for chunk in stream: await response.write(chunk)

* `messages`: an Anthropic connection and `POST /v1/messages` -> `{base}/v1/messages` with the
  user's key (`x-api-key`) and infer0's `anthropic-version`; the app's body unchanged but for
  `model` (the grant's model).
* `responses`: an OpenAI connection and `POST /v1/responses` -> `{base}/responses` with the
  user's key (Bearer); the app's body unchanged but for `model` and `store: false`. infer0's
  /v1/responses is stateless on every connection, so nothing is kept in the user's OpenAI
  account that a later call could not reach through another connection (and the stateful
  parameters are refused before this point, as on translated connections).

The answer (a body, or SSE events) reaches the app byte for byte. What infer0 reads from it:
the usage (for the usage log and the grant's limits) and the model that answered. Failures
before any byte reached the app raise `GatewayError` (the same mapping as chat:
gateway/errors.py), so the handler answers them in its API's own shape. A stream that breaks
later ends with that API's `error` event (`stream_failure`). Together with pipeline.py this is
the only gateway module doing HTTP; it uses the same shared client (DESIGN.md §3.12).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from infer0app.errors.anthropic_errors import anthropic_error_body
from infer0app.gateway.bounded_read import AnswerTooLarge, QuietTimer, read_answer, read_error_body
from infer0app.gateway.errors import (
    bad_response_error,
    timeout_error,
    too_large_error,
    unreachable_error,
    upstream_error,
)
from infer0app.gateway.pipeline import send_upstream
from infer0app.gateway.providers import anthropic as anthropic_wire
from infer0app.gateway.providers.anthropic_stream import usage_of as anthropic_usage
from infer0app.gateway.providers.base import (
    GatewayError,
    Route,
    UpstreamFailure,
    UpstreamRequest,
    Usage,
    dump_json,
    gateway_error,
    read_json,
    token_count,
)
from infer0app.gateway.providers.openai_compat import bearer_headers, join_url, read_openai_error
from infer0app.gateway.sse import SSEEvent, SSEParser, encode_event


def responses_usage(raw: Any) -> Usage | None:
    """A Responses `usage` object (input/output tokens, input_tokens_details.cached_tokens) -> Usage."""
    if not isinstance(raw, Mapping):
        return None
    details = raw.get("input_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, Mapping) else 0
    return Usage(prompt_tokens=token_count(raw.get("input_tokens")),
                 completion_tokens=token_count(raw.get("output_tokens")), cached_tokens=token_count(cached))


class Watch:
    """What infer0 reads from a passing stream: usage, the answering model, whether it ended."""

    def __init__(self) -> None:
        self.usage: Usage | None = None
        self.model = ""
        self.ended = False  # the API's terminal event (or an error event) was seen
        self.failed = False  # an error event was seen
        self.last_sequence = -1

    def feed(self, event: SSEEvent, data: Any) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class AnthropicWatch(Watch):
    def feed(self, event: SSEEvent, data: Any) -> None:
        kind = data.get("type")
        if kind == "message_start" and isinstance(data.get("message"), Mapping):
            self.model = str(data["message"].get("model") or "")
            self.usage = anthropic_usage(data["message"].get("usage"))
        elif kind == "message_delta":
            self.usage = anthropic_usage(data.get("usage"), self.usage)
        elif kind == "message_stop":
            self.ended = True
        elif kind == "error":
            self.ended = self.failed = True


class ResponsesWatch(Watch):
    def feed(self, event: SSEEvent, data: Any) -> None:
        kind = data.get("type")
        if isinstance(data.get("sequence_number"), int):
            self.last_sequence = data["sequence_number"]
        response = data.get("response")
        if isinstance(response, Mapping) and response.get("model"):
            self.model = str(response["model"])
        if kind in ("response.completed", "response.incomplete", "response.failed"):
            self.usage = responses_usage(response.get("usage")) if isinstance(response, Mapping) else None
            self.ended = True
            self.failed = kind == "response.failed"
        elif kind == "error":
            self.ended = self.failed = True


@dataclass(frozen=True)
class NativeApi:
    """One inbound API a provider speaks natively: how to call it and read its answers."""

    name: str
    request: Callable[[Route, Mapping[str, Any], bool], UpstreamRequest]
    read_error: Callable[[int, bytes], UpstreamFailure]
    body_usage: Callable[[Any], Usage | None]  # the answer's JSON -> its usage
    watch: Callable[[], Watch]
    stream_failure: Callable[[GatewayError, Watch], bytes]  # the API's own error event


def _messages_request(route: Route, body: Mapping[str, Any], stream: bool) -> UpstreamRequest:
    headers = anthropic_wire.headers(route)
    if stream:
        headers["accept"] = "text/event-stream"
    payload = {**body, "model": route.model}
    return UpstreamRequest("POST", anthropic_wire.api_base(route) + "/v1/messages", headers, dump_json(payload))


def _responses_request(route: Route, body: Mapping[str, Any], stream: bool) -> UpstreamRequest:
    payload = {**body, "model": route.model, "store": False}
    return UpstreamRequest("POST", join_url(route.base_url, "/responses"), bearer_headers(route, stream=stream),
                           dump_json(payload))


def _anthropic_failure(err: GatewayError, watch: Watch) -> bytes:
    return encode_event("error", anthropic_error_body(err.code, err.status, err.message))


def _responses_failure(err: GatewayError, watch: Watch) -> bytes:
    return encode_event("error", {"type": "error", "code": err.code, "message": err.message, "param": None,
                                  "sequence_number": watch.last_sequence + 1})


NATIVE: dict[str, NativeApi] = {
    "messages": NativeApi("messages", _messages_request, anthropic_wire.read_anthropic_error,
                          lambda obj: anthropic_usage(obj.get("usage")) if isinstance(obj, Mapping) else None,
                          AnthropicWatch, _anthropic_failure),
    "responses": NativeApi("responses", _responses_request, read_openai_error,
                           lambda obj: responses_usage(obj.get("usage")) if isinstance(obj, Mapping) else None,
                           ResponsesWatch, _responses_failure),
}


@dataclass(frozen=True)
class NativeResult:
    """A finished call: the provider's JSON answer as it came (`body`), its usage and model."""

    body: bytes
    usage: Usage | None
    model: str


async def _send(http: aiohttp.ClientSession, route: Route, native: NativeApi, body: Mapping[str, Any],
                stream: bool, timeout: aiohttp.ClientTimeout) -> aiohttp.ClientResponse:
    resp = await send_upstream(http, route, native.request(route, body, stream), timeout)
    if resp.status >= 300:
        try:
            raw = await read_error_body(resp)
        finally:
            resp.release()
        raise upstream_error(route, resp.status, native.read_error(resp.status, raw), resp.headers)
    return resp


async def complete(http: aiohttp.ClientSession, route: Route, native: NativeApi, body: Mapping[str, Any], *,
                   timeout: aiohttp.ClientTimeout) -> NativeResult:
    """Send `body` (stream off) and read the whole answer; GatewayError on any failure."""
    resp = await _send(http, route, native, body, False, timeout)
    try:
        async with resp:
            raw = await read_answer(resp)
    except TimeoutError:
        raise timeout_error(route) from None
    except aiohttp.ClientError:
        raise unreachable_error(route) from None
    except AnswerTooLarge:
        raise too_large_error(route) from None
    try:
        obj = read_json(raw)
    except ValueError:
        raise bad_response_error(route) from None
    if not isinstance(obj, Mapping):
        raise bad_response_error(route)
    return NativeResult(raw, native.body_usage(obj), str(obj.get("model") or route.model))


class NativeStream:
    """The provider's SSE bytes, chunk by chunk as they arrive; `watch` holds what was read from
    them (usage, model). A read failure, or an end without the API's terminal event, becomes that
    API's `error` event (`error` says which). Leaving `async with` closes the upstream at once."""

    def __init__(self, route: Route, native: NativeApi, resp: aiohttp.ClientResponse,
                 quiet_limit: float | None = None) -> None:
        self.route, self.native, self._resp = route, native, resp
        self.watch = native.watch()
        self.error: GatewayError | None = None
        self._parser = SSEParser()
        self._quiet = QuietTimer(quiet_limit)  # bytes but no event for too long: a timeout too

    def _see(self, events: list[SSEEvent]) -> list[SSEEvent]:
        for event in events:
            try:
                data = read_json(event.data)
            except ValueError:
                continue
            if isinstance(data, Mapping):
                self.watch.feed(event, data)
        return events

    async def __aiter__(self):
        while True:
            try:
                chunk = await self._resp.content.readany()
            except TimeoutError:
                self.error = timeout_error(self.route)
            except aiohttp.ClientError:
                self.error = unreachable_error(self.route)
            else:
                try:
                    events = self._see(self._parser.feed(chunk) if chunk else self._parser.flush())
                except ValueError:  # a line past the parser's limit
                    self.error = bad_response_error(self.route, "an unreadable stream event")
                    events = []
                if chunk and self.error is None:
                    yield chunk
                    if self._quiet.saw(events):
                        continue
                    self.error = timeout_error(self.route)
                elif not self.watch.ended and self.error is None:
                    self.error = gateway_error("provider_stream_ended",
                                               f"{self.route.provider_label}'s stream ended before it was complete.")
            if self.error is not None:
                yield self.native.stream_failure(self.error, self.watch)
            return

    async def __aenter__(self) -> NativeStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.watch.ended and self.error is None:
            self._resp.release()
        else:
            self._resp.close()  # drops the connection: the provider sees the hang-up


async def open_stream(http: aiohttp.ClientSession, route: Route, native: NativeApi, body: Mapping[str, Any], *,
                      timeout: aiohttp.ClientTimeout) -> NativeStream:
    """Send `body` with streaming on; GatewayError when the provider refuses before streaming."""
    return NativeStream(route, native, await _send(http, route, native, body, True, timeout), timeout.sock_read)
