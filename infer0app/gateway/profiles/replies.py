"""Replies of OpenAI-wire providers, put in the shape OpenAI itself sends (issue 14 §1, kind 3).

OpenAI's stream (https://platform.openai.com/docs/api-reference/chat-streaming): every
`chat.completion.chunk` has at least one choice, except the one usage chunk
(`choices: []`) sent last when the request had `stream_options.include_usage`; each
streamed tool-call delta has an `index`; the last chunk of every choice carries its
`finish_reason`; the stream ends with `data: [DONE]`. OpenAI's own example loop reads
`chunk.choices[0]`, so a chunk without choices breaks apps.

What providers send instead, and what `StreamNormaliser` does about it:

* Azure's first chunk `{"choices": [], "prompt_filter_results": [...]}` (and any other
  chunk with no choices and no usage): dropped.
* usage on the finish chunk (Mistral, Together), inside `x_groq` (Groq), or in a
  usage-only chunk: remembered and sent as one usage chunk at the end when the app
  asked for `include_usage` (never otherwise), taken off the choice chunks. OpenAI's own
  usage chunk (`choices: []`, complete usage) is forwarded as it came.
* a chunk already in OpenAI's shape keeps its bytes; only chunks that were changed are
  re-serialised.
* tool-call deltas without `index` (Gemini and some servers): numbered by call id.
* a stream that reached `[DONE]` with a choice still open: a closing chunk with
  `finish_reason` "tool_calls" (if the choice called tools) or "stop".
* a tool-calling choice that ends with `finish_reason: "stop"` (Gemini): "tool_calls",
  when built with `tool_stop_is_tool_calls` (not for OpenAI itself, which answers "stop"
  to a forced named tool).
* no `[DONE]`: `finish()` always ends with one. A stream that ended with neither
  `[DONE]` nor a finish reason is not complete (`complete` is False): the caller
  decides (infer0 sends an error chunk: the answer may be cut).

`normalise_body` does the same for a non-stream `chat.completion`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from infer0app.gateway.providers.base import read_json
from infer0app.gateway.sse import DONE_FRAME, encode_data, encode_json


def usage_in(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    """A chunk's or body's usage object, wherever the provider put it."""
    raw = obj.get("usage")
    if not isinstance(raw, dict):
        groq = obj.get("x_groq")
        raw = groq.get("usage") if isinstance(groq, dict) else None
    return raw if isinstance(raw, dict) else None


def complete_usage(usage: dict[str, Any]) -> dict[str, Any]:
    """`usage` with `total_tokens` filled in when the provider left it out."""
    if "total_tokens" not in usage and isinstance(usage.get("prompt_tokens"), int) \
            and isinstance(usage.get("completion_tokens"), int):
        return {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}
    return usage


class StreamNormaliser:
    """Feed each SSE `data` payload with `feed()`; call `finish()` once at the end.
    Both return complete SSE frames (bytes) for the app. A payload that is not a JSON object
    raises ValueError (the pipeline then ends the stream with `provider_bad_response`)."""

    def __init__(self, *, include_usage: bool, model: str = "", tool_stop_is_tool_calls: bool = False) -> None:
        self.include_usage = include_usage
        self.tool_stop_is_tool_calls = tool_stop_is_tool_calls
        self.usage: dict[str, Any] | None = None
        self.done = False  # the provider sent [DONE]
        self._meta: dict[str, Any] = {"object": "chat.completion.chunk", "model": model}
        self._open: dict[int, bool] = {}  # choice index -> still open (no finish_reason yet)
        self._tool_ids: dict[int, list[str]] = {}  # choice index -> tool-call ids in order
        self._usage_sent: dict[str, Any] | None = None  # the usage chunk forwarded as the provider sent it

    @property
    def model(self) -> str | None:
        """The model that answered, as the provider named it (None until a chunk said)."""
        return self._meta.get("model") or None

    @property
    def complete(self) -> bool:
        """The provider ended the stream properly ([DONE], or every choice finished)."""
        return self.done or (bool(self._open) and not any(self._open.values()))

    def feed(self, data: str) -> list[bytes]:
        if self.done:
            return []
        if data.strip() == "[DONE]":
            self.done = True
            return []
        obj = read_json(data)  # ValueError: the pipeline ends the stream with provider_bad_response
        if not isinstance(obj, dict):
            raise ValueError("a stream chunk that is not a JSON object")
        if "error" in obj:
            return [encode_data(data)]
        for key in ("id", "created", "system_fingerprint"):
            if obj.get(key) and key not in self._meta:
                self._meta[key] = obj[key]
        if obj.get("model"):
            self._meta["model"] = obj["model"]  # the model that answered, not the one asked for
        usage = usage_in(obj)
        if usage is not None:
            self.usage = complete_usage(usage)
        choices = obj.get("choices")
        if not isinstance(choices, list) or not choices:
            if self.include_usage and self.usage is obj.get("usage") and obj.get("object") == "chat.completion.chunk":
                self._usage_sent = self.usage  # OpenAI's own usage chunk: forwarded as it came
                return [encode_data(data)]
            return []  # usage-only (sent at the end) or a filter-results frame OpenAI never sends
        changed = isinstance(obj.pop("usage", None), dict)  # usage goes in its own chunk, if asked for
        for position, choice in enumerate(choices):
            if isinstance(choice, dict):
                changed |= self._choice(choice, position)
        for key, value in self._meta.items():
            if not obj.get(key):
                obj[key] = value
                changed = True
        if obj.get("object") != "chat.completion.chunk":
            obj["object"] = "chat.completion.chunk"
            changed = True
        # a chunk already in OpenAI's shape keeps its bytes ("usage": null included)
        return [encode_json(obj) if changed else encode_data(data)]

    def _choice(self, choice: dict[str, Any], position: int) -> bool:
        changed = "index" not in choice
        index = choice.setdefault("index", position)
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            delta = choice["delta"] = {}
            changed = True
        calls = delta.get("tool_calls")
        if isinstance(calls, list):
            ids = self._tool_ids.setdefault(index, [])
            for call in calls:
                if isinstance(call, dict):
                    changed |= self._index_call(call, ids)
        if self.tool_stop_is_tool_calls and choice.get("finish_reason") == "stop" and self._tool_ids.get(index):
            choice["finish_reason"] = "tool_calls"
            changed = True
        self._open[index] = not choice.get("finish_reason")
        return changed

    def note_open(self, index: int) -> None:
        """A frame the caller forwarded without `feed()` (it needed no fix) showed choice
        `index` still open (no finish_reason)."""
        self._open[index] = True

    @staticmethod
    def _index_call(call: dict[str, Any], ids: list[str]) -> bool:
        """Give `call` its `index` if it lacks one (True when it did)."""
        cid = call.get("id")
        if "index" in call:
            if cid and cid not in ids:
                ids.append(cid)
            return False
        if not cid:
            call["index"] = max(len(ids) - 1, 0)  # an id-less fragment continues the last call
            if not ids:
                ids.append("")
            return True
        if cid not in ids:
            ids.append(cid)
        call["index"] = ids.index(cid)
        return True

    def finish(self) -> list[bytes]:
        """The closing frames (see `closing_frames`), then `data: [DONE]`."""
        return [*self.closing_frames(), DONE_FRAME]

    def closing_frames(self) -> list[bytes]:
        """What a stream that ended sends before `[DONE]`: a closing chunk per choice left
        open (only after the provider's `[DONE]`), the usage chunk when asked for."""
        frames: list[bytes] = []
        if self.done:
            for index, is_open in sorted(self._open.items()):
                if is_open:
                    reason = "tool_calls" if self._tool_ids.get(index) else "stop"
                    frames.append(encode_json({**self._meta, "choices": [
                        {"index": index, "delta": {}, "logprobs": None, "finish_reason": reason}]}))
                    self._open[index] = False
        if self.include_usage and self.usage is not None and self.usage is not self._usage_sent:
            frames.append(encode_json({**self._meta, "choices": [], "usage": self.usage}))
        return frames


def normalise_body(obj: dict[str, Any], *, tool_stop_is_tool_calls: bool = False) -> bool:
    """Put a non-stream `chat.completion` body in OpenAI's shape, in place; True when
    something changed. Fills `object`, choice `index`, message `role`, a null
    `finish_reason` ("tool_calls" when the message calls tools, else "stop"), tool-call
    `type` and string `arguments`, and usage (from `x_groq`, `total_tokens`);
    `tool_stop_is_tool_calls`: "stop" on a message with tool calls becomes "tool_calls" (Gemini)."""
    changed = False
    if obj.get("object") != "chat.completion":
        obj["object"] = "chat.completion"
        changed = True
    for position, choice in enumerate(obj.get("choices") or []):
        if not isinstance(choice, dict):
            continue
        if "index" not in choice:
            choice["index"] = position
            changed = True
        message = choice.get("message")
        if not isinstance(message, dict):
            continue
        if not message.get("role"):
            message["role"] = "assistant"
            changed = True
        calls = message.get("tool_calls")
        for call in calls if isinstance(calls, list) else []:
            changed |= _fix_call(call)
        if not choice.get("finish_reason") or (tool_stop_is_tool_calls and calls and choice["finish_reason"] == "stop"):
            choice["finish_reason"] = "tool_calls" if calls else "stop"
            changed = True
    usage = usage_in(obj)
    if usage is not None:
        fixed = complete_usage(usage)
        if obj.get("usage") is not fixed:
            obj["usage"] = fixed
            changed = True
    return changed


def _fix_call(call: Any) -> bool:
    if not isinstance(call, dict):
        return False
    changed = False
    if not call.get("type"):
        call["type"] = "function"
        changed = True
    fn = call.get("function")
    if isinstance(fn, dict) and not isinstance(fn.get("arguments"), str):
        args = fn.get("arguments")
        fn["arguments"] = "{}" if args is None else json.dumps(args, ensure_ascii=False)
        changed = True
    return changed
