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

from collections.abc import Mapping
from typing import Any

from infer0app.errors.anthropic_errors import anthropic_error_body
from infer0app.gateway.inbound.chunk_reader import ChunkReader
from infer0app.gateway.inbound.common import IdMaker, random_id
from infer0app.gateway.inbound.messages import message_usage, stop_reason
from infer0app.gateway.sse import encode_event


class MessagesStream(ChunkReader):
    """One streamed `/v1/messages` answer: `feed_frame()` with each frame the pipeline
    yields, then `finish()`; both return SSE frames (bytes) for the app.

    `model` names the model until a chunk names the one that answered; `new_id` makes the
    message id (tests pass a counter).
    """

    def __init__(self, *, model: str, message_id: str | None = None, new_id: IdMaker = random_id) -> None:
        super().__init__(model=model, new_id=new_id)
        self.message_id = message_id or new_id("msg")
        self._started = False
        self._blocks: list[dict[str, Any]] = []  # {"type", "args": bool} per block index
        self._open: int | None = None  # the block index not yet stopped

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

    def _begin(self, chunk: Mapping[str, Any]) -> list[bytes]:
        if chunk.get("model") and not self._started:  # message_start names the model that answered
            self.model = str(chunk["model"])
        return self._start()

    def _usage(self, raw: Any) -> dict[str, int]:
        return message_usage(raw)

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
        out = self._release(index)  # a call whose name never came still gets its start
        state = self._blocks[index]
        if state["type"] == "tool_use" and not state["args"]:
            state["args"] = True
            out.append(self._event("content_block_delta", index=index,
                                   delta={"type": "input_json_delta", "partial_json": "{}"}))
        out.append(self._event("content_block_stop", index=index))
        return out

    def _text(self, kind: str, text: str) -> list[bytes]:
        """Content and refusal text alike go into a text block (Anthropic has no refusal block)."""
        out: list[bytes] = []
        if self._open is None or self._blocks[self._open]["type"] != "text":
            out.extend(self._new_block({"type": "text", "text": ""}))
        out.append(self._event("content_block_delta", index=self._open, delta={"type": "text_delta", "text": text}))
        return out

    def _open_call(self, call: Mapping[str, Any], fn: Mapping[str, Any]) -> tuple[int, list[bytes]]:
        block = {"type": "tool_use", "id": str(call.get("id") or self._new_id("toolu")),
                 "name": str(fn.get("name") or ""), "input": {}}
        if block["name"]:
            out = self._new_block(block)
            return self._open, out
        # Some OpenAI-compatible servers send a call's name after its first fragment. Anthropic
        # names the tool only in `content_block_start` (the SDK reads it there and nowhere
        # else), so the start, and the argument text meanwhile, wait for the name.
        out = self._stop_open()
        self._open = len(self._blocks)
        self._blocks.append({"type": "tool_use", "args": False, "waiting": block, "held": []})
        return self._open, out

    def _release(self, index: int) -> list[bytes]:
        """The held `content_block_start` of a call opened without a name, and its held deltas."""
        state = self._blocks[index]
        block = state.pop("waiting", None)
        if block is None:
            return []
        return [self._event("content_block_start", index=index, content_block=block), *state.pop("held")]

    def _call_delta(self, index: int, fn: Mapping[str, Any]) -> list[bytes]:
        state = self._blocks[index]
        out: list[bytes] = []
        if "waiting" in state and fn.get("name"):
            state["waiting"]["name"] = str(fn["name"])
            out = self._release(index)
        args = fn.get("arguments")
        if isinstance(args, str) and args:
            state["args"] = True
            delta = self._event("content_block_delta", index=index,
                                delta={"type": "input_json_delta", "partial_json": args})
            (state["held"] if "waiting" in state else out).append(delta)
        return out

    def _finished(self) -> list[bytes]:
        """Stop the open block, then `message_delta` (stop_reason, usage) and `message_stop`."""
        out = self._start()
        out.extend(self._stop_open())
        usage = self.usage or {"output_tokens": 0}
        out.append(self._event("message_delta",
                               delta={"stop_reason": stop_reason(self.finish_reason or "stop"), "stop_sequence": None},
                               usage=usage))
        out.append(self._event("message_stop"))
        return out

    def _failed(self, error: Mapping[str, Any], message: str) -> list[bytes]:
        """Anthropic's `error` event, which the SDK raises as an API error."""
        code = error.get("code")
        return [self._event("error", **anthropic_error_body(str(code) if code else None, 500, message))]
