"""Anthropic stream events -> OpenAI `chat.completion.chunk` frames, one event at a time.

* `message_start` -> the first chunk, `delta: {"role": "assistant", "content": ""}`;
  its usage gives the input and cache token counts.
* `content_block_start` of a `tool_use` -> a `tool_calls` delta with the call's OpenAI
  index (0, 1, ... in order of appearance), id, name and `arguments: ""`;
  `input_json_delta` fragments -> `arguments` fragments for that index. A tool call that
  ends with no argument text gets `"{}"` so the app's accumulated arguments parse.
* `text_delta` -> content deltas. The synthetic JSON-mode tool (see anthropic.py) is
  streamed as content instead of a tool call.
* thinking / signature deltas, `content_block_stop`, `message_stop` and `ping` produce
  nothing.
* `message_delta` -> a chunk with the mapped `finish_reason` (its usage is cumulative).
* `error` (after the 200) -> an OpenAI error chunk, then `[DONE]`; later events ignored.
* at the end: a usage chunk (`choices: []`) when the app asked for
  `stream_options.include_usage`, then `data: [DONE]`. A stream cut before
  `message_stop` ends with an error chunk instead.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from infer0app.gateway.errors import stream_error
from infer0app.gateway.providers.base import Route, StreamTranslator, Usage, read_json
from infer0app.gateway.providers.base import token_count as _n
from infer0app.gateway.sse import SSEEvent, encode_json

log = logging.getLogger(__name__)

STOP_REASONS: Mapping[str, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "pause_turn": "stop",
}


def finish_reason(stop_reason: Any) -> str | None:
    if stop_reason is None:
        return None
    mapped = STOP_REASONS.get(stop_reason)
    if mapped is None:
        log.warning("unknown Anthropic stop_reason %r mapped to 'stop'", stop_reason)
        return "stop"
    return mapped


def error_category(kind: Any) -> str | None:
    """Anthropic error `type` -> infer0's failure category."""
    return {
        "authentication_error": "auth",
        "permission_error": "auth",
        "rate_limit_error": "rate_limit",
        "billing_error": "payment",
        "not_found_error": "not_found",
        "invalid_request_error": "bad_request",
        "request_too_large": "bad_request",
        "api_error": "server",
        "overloaded_error": "server",
        "timeout_error": "server",
    }.get(kind) if isinstance(kind, str) else None


def usage_of(raw: Any, previous: Usage | None = None) -> Usage | None:
    """Anthropic usage -> Usage. Fields missing from `raw` keep their `previous` value
    (a `message_delta` may carry only `output_tokens`)."""
    if not isinstance(raw, Mapping):
        return previous
    prev = previous or Usage()
    base_in = prev.prompt_tokens - prev.cached_tokens - prev.cache_write_tokens
    fresh = _n(raw["input_tokens"]) if "input_tokens" in raw and raw["input_tokens"] is not None else base_in
    read = _n(raw.get("cache_read_input_tokens")) if raw.get("cache_read_input_tokens") is not None else prev.cached_tokens
    write = (_n(raw.get("cache_creation_input_tokens")) if raw.get("cache_creation_input_tokens") is not None
             else prev.cache_write_tokens)
    out = _n(raw["output_tokens"]) if raw.get("output_tokens") is not None else prev.completion_tokens
    return Usage(prompt_tokens=fresh + read + write, completion_tokens=out, cached_tokens=read, cache_write_tokens=write)


class AnthropicTranslator(StreamTranslator):
    def __init__(self, route: Route, *, include_usage: bool, created: int, json_tool: str) -> None:
        super().__init__(route, include_usage=include_usage, created=created)
        self.json_tool = json_tool
        self._id = "chatcmpl-anthropic"
        self._blocks: dict[int, dict[str, Any]] = {}  # anthropic block index -> state
        self._tool_count = 0
        self._json_answer = False

    def _frame(self, choices: list[dict[str, Any]], usage: Usage | None = None) -> bytes:
        obj = {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model or self.route.model,
            "choices": choices,
        }
        if usage is not None:
            obj["usage"] = usage.to_openai()
        return encode_json(obj)

    def _chunk(self, delta: dict[str, Any], finish: str | None = None, *, count: bool = True) -> bytes:
        if count:  # the role-only first chunk is not content: an error after it is still an HTTP error
            self._out += 1
        return self._frame([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}])

    def feed(self, event: SSEEvent) -> list[bytes]:
        if self.error is not None or self._done:
            return []
        # Every Anthropic event is a JSON object: anything else is a broken stream, and skipping it
        # would drop content silently. ValueError: the pipeline ends the stream provider_bad_response.
        data = read_json(event.data)
        if not isinstance(data, dict):
            raise ValueError("an Anthropic stream event that is not a JSON object")
        kind = data.get("type") or event.event
        handler = getattr(self, f"_on_{kind}", None)
        return handler(data) if handler else []

    def _on_message_start(self, data: dict[str, Any]) -> list[bytes]:
        msg = data.get("message") or {}
        if msg.get("id"):
            self._id = f"chatcmpl-{msg['id']}"
        if msg.get("model"):
            self.model = str(msg["model"])
        self.usage = usage_of(msg.get("usage"), self.usage)
        return [self._chunk({"role": "assistant", "content": ""}, count=False)]

    def _on_content_block_start(self, data: dict[str, Any]) -> list[bytes]:
        block = data.get("content_block") or {}
        index = data.get("index", len(self._blocks))
        kind = block.get("type")
        if kind == "tool_use" and block.get("name") == self.json_tool:
            self._blocks[index] = {"kind": "json", "args": False}
            self._json_answer = True
            return []
        if kind == "tool_use":
            state = {"kind": "tool", "index": self._tool_count, "args": False}
            self._tool_count += 1
            self._blocks[index] = state
            call = {"index": state["index"], "id": block.get("id"), "type": "function",
                    "function": {"name": block.get("name"), "arguments": ""}}
            return [self._chunk({"tool_calls": [call]})]
        self._blocks[index] = {"kind": kind}
        if kind == "text" and block.get("text"):
            return [self._chunk({"content": block["text"]})]
        return []

    def _on_content_block_delta(self, data: dict[str, Any]) -> list[bytes]:
        delta = data.get("delta") or {}
        state = self._blocks.get(data.get("index"), {})
        kind = delta.get("type")
        if kind == "text_delta" and delta.get("text"):
            return [self._chunk({"content": delta["text"]})]
        if kind == "input_json_delta" and delta.get("partial_json"):
            if state.get("kind") == "json":
                state["args"] = True
                return [self._chunk({"content": delta["partial_json"]})]
            if state.get("kind") == "tool":
                state["args"] = True
                fragment = {"index": state["index"], "function": {"arguments": delta["partial_json"]}}
                return [self._chunk({"tool_calls": [fragment]})]
        return []

    def _on_content_block_stop(self, data: dict[str, Any]) -> list[bytes]:
        state = self._blocks.get(data.get("index"), {})
        if state.get("args") is False:  # a tool call (or JSON answer) with no input text: "{}"
            state["args"] = True
            if state["kind"] == "json":
                return [self._chunk({"content": "{}"})]
            return [self._chunk({"tool_calls": [{"index": state["index"], "function": {"arguments": "{}"}}]})]
        return []

    def _on_message_delta(self, data: dict[str, Any]) -> list[bytes]:
        self.usage = usage_of(data.get("usage"), self.usage)
        stop = (data.get("delta") or {}).get("stop_reason")
        if stop is None:
            return []
        finish = "stop" if self._json_answer and stop == "tool_use" else finish_reason(stop)
        return [self._chunk({}, finish)]

    def _on_message_stop(self, data: dict[str, Any]) -> list[bytes]:
        self._done = True
        return []

    def _on_error(self, data: dict[str, Any]) -> list[bytes]:
        err = data.get("error") or {}
        category = error_category(err.get("type")) or "server"
        return self.fail(stream_error(self.route, category, str(err.get("message") or "")))

    def closing_frames(self) -> list[bytes]:
        if not (self.include_usage and self.usage is not None):
            return []
        return [self._frame([], self.usage)]
