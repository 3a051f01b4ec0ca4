"""Chat Completions stream frames -> Anthropic Messages stream events.

The pipeline's stream (OpenAI `chat.completion.chunk` frames, error chunks, `[DONE]`)
is fed frame by frame; out come SSE frames `event: <type>` + `data: {"type": ...}` in
Anthropic's order, as the `anthropic` SDK's `messages.stream()` accumulates them:

    message_start (usage zero: the chat stream reports usage at its end), ping
    content_block_start text     -> content_block_delta text_delta ...        -> content_block_stop
    content_block_start tool_use -> content_block_delta input_json_delta ...  -> content_block_stop
    message_delta (stop_reason, usage: input, cache read and output tokens), message_stop

Blocks are numbered 0, 1, ... in order; a new block stops the previous one, as
Anthropic's blocks never overlap. A tool call that ends with no argument text gets
`partial_json: "{}"` so the SDK's accumulated `input` is an object. (A fragment of an
earlier, already stopped tool call - chat streams may interleave parallel calls - is
still sent as a delta of that block's index; the SDK accumulates it by index.)
An error chunk (the provider failed mid-stream) becomes Anthropic's `error` event,
which the SDK raises as an API error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from infer0app.errors.anthropic_errors import anthropic_error_body
from infer0app.gateway.inbound.common import IdMaker, first_choice, random_id
from infer0app.gateway.inbound.messages import message_usage, stop_reason
from infer0app.gateway.sse import SSEParser, encode_event



class MessagesStream:
    """One streamed `/v1/messages` answer: `feed_frame()` with each frame the pipeline
    yields, then `finish()`; both return SSE frames (bytes) for the app.

    `model` names the model until a chunk names the one that answered; `new_id` makes the
    message id (tests pass a counter).
    """

    def __init__(self, *, model: str, message_id: str | None = None, new_id: IdMaker = random_id) -> None:
        self.message_id = message_id or new_id("msg")
        self.model = model
        self.usage: dict[str, int] | None = None
        self.finish_reason: str | None = None
        self._new_id = new_id
        self._parser = SSEParser()
        self._started = False
        self._ended = False
        self._blocks: list[dict[str, Any]] = []  # {"type", "args": bool} per block index
        self._open: int | None = None  # the block index not yet stopped
        self._calls: dict[Any, int] = {}  # chat tool-call index -> block index
        self._last_call: Any = None

    def _event(self, kind: str, **fields: Any) -> bytes:
        return encode_event(kind, {"type": kind, **fields})

    def _start(self) -> list[bytes]:
        if self._started:
            return []
        self._started = True
        message = {"id": self.message_id, "type": "message", "role": "assistant", "model": self.model,
                   "content": [], "stop_reason": None, "stop_sequence": None,
                   "usage": {"input_tokens": 0, "output_tokens": 0}}
        return [self._event("message_start", message=message), self._event("ping")]

    def feed_frame(self, frame: bytes) -> list[bytes]:
        """One or more SSE frames from the pipeline -> Anthropic event frames."""
        out: list[bytes] = []
        for event in self._parser.feed(frame):
            if event.data == "[DONE]":
                out.extend(self.finish())
                continue
            try:
                chunk = json.loads(event.data)
            except ValueError:
                continue
            if isinstance(chunk, Mapping):
                out.extend(self.feed_chunk(chunk))
        return out

    def feed_chunk(self, chunk: Mapping[str, Any]) -> list[bytes]:
        """One parsed `chat.completion.chunk` (or error chunk) -> Anthropic event frames."""
        if self._ended:
            return []
        if isinstance(chunk.get("error"), Mapping):
            return self.fail(chunk["error"])
        if chunk.get("model") and not self._started:
            self.model = str(chunk["model"])
        out = self._start()
        if chunk.get("usage") is not None:
            self.usage = message_usage(chunk["usage"])
        choice = first_choice(chunk)
        delta = choice.get("delta") if isinstance(choice.get("delta"), Mapping) else {}
        for key in ("content", "refusal"):
            if isinstance(delta.get(key), str) and delta[key]:
                out.extend(self._text(delta[key]))
        for call in delta.get("tool_calls") or []:
            if isinstance(call, Mapping):
                out.extend(self._tool_call(call))
        if choice.get("finish_reason"):
            self.finish_reason = str(choice["finish_reason"])
        return out

    def _new_block(self, block: dict[str, Any]) -> list[bytes]:
        out = self._stop_open()
        index = len(self._blocks)
        self._blocks.append({"type": block["type"], "args": False})
        self._open = index
        out.append(self._event("content_block_start", index=index, content_block=block))
        return out

    def _stop_open(self) -> list[bytes]:
        if self._open is None:
            return []
        index, self._open = self._open, None
        out = []
        state = self._blocks[index]
        if state["type"] == "tool_use" and not state["args"]:
            state["args"] = True
            out.append(self._event("content_block_delta", index=index,
                                   delta={"type": "input_json_delta", "partial_json": "{}"}))
        out.append(self._event("content_block_stop", index=index))
        return out

    def _text(self, text: str) -> list[bytes]:
        out: list[bytes] = []
        if self._open is None or self._blocks[self._open]["type"] != "text":
            out.extend(self._new_block({"type": "text", "text": ""}))
        out.append(self._event("content_block_delta", index=self._open, delta={"type": "text_delta", "text": text}))
        return out

    def _tool_call(self, call: Mapping[str, Any]) -> list[bytes]:
        key = call.get("index")
        if key is None:  # providers that omit `index`: a new id is a new call
            key = call.get("id") if call.get("id") and call.get("id") not in self._calls else self._last_call
        fn = call.get("function") if isinstance(call.get("function"), Mapping) else {}
        out: list[bytes] = []
        if key not in self._calls:
            out.extend(self._new_block({"type": "tool_use", "id": str(call.get("id") or self._new_id("toolu")),
                                        "name": str(fn.get("name") or ""), "input": {}}))
            self._calls[key] = self._open
        self._last_call = key
        index = self._calls[key]
        args = fn.get("arguments")
        if isinstance(args, str) and args:
            self._blocks[index]["args"] = True
            out.append(self._event("content_block_delta", index=index,
                                   delta={"type": "input_json_delta", "partial_json": args}))
        return out

    def finish(self) -> list[bytes]:
        """Stop the open block, then `message_delta` (stop_reason, usage) and `message_stop`. Idempotent."""
        if self._ended:
            return []
        out = self._start()
        self._ended = True
        out.extend(self._stop_open())
        usage = self.usage or {"output_tokens": 0}
        out.append(self._event("message_delta",
                               delta={"stop_reason": stop_reason(self.finish_reason or "stop"), "stop_sequence": None},
                               usage=usage))
        out.append(self._event("message_stop"))
        return out

    def fail(self, error: Mapping[str, Any]) -> list[bytes]:
        """The stream broke (an OpenAI error object) -> Anthropic's `error` event."""
        if self._ended:
            return []
        self._ended = True
        message = str(error.get("message") or "The provider failed while answering.")
        code = error.get("code")
        return [self._event("error", **anthropic_error_body(str(code) if code else None, 500, message))]
