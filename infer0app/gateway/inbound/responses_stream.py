"""Chat Completions stream frames -> the Responses API's typed stream events.

The pipeline's stream (OpenAI `chat.completion.chunk` frames, error chunks, `[DONE]`)
is fed frame by frame; out come SSE frames `event: <type>` + `data: {..., "type",
"sequence_number"}` in the order OpenAI sends them and the `openai` SDK's
`responses.stream()` accumulator requires:

    response.created, response.in_progress                      (start)
    response.output_item.added (message)                        first text of a message
      response.content_part.added (output_text | refusal)
      response.output_text.delta | response.refusal.delta ...
      response.output_text.done | response.refusal.done
      response.content_part.done
    response.output_item.done
    response.output_item.added (function_call)                  one per tool call
      response.function_call_arguments.delta ...
      response.function_call_arguments.done
    response.output_item.done
    response.completed | response.incomplete                    (finish, with usage)

A message item is closed when the first tool call starts; tool-call items stay open until
the end (chat streams may interleave fragments of parallel calls), then close in order.
An error chunk (the provider failed mid-stream) becomes an `error` event followed by
`response.failed` whose `response.error` says why. `sequence_number` counts from 0.
The Responses stream has no `[DONE]` line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from infer0app.gateway.inbound.chunk_reader import ChunkReader
from infer0app.gateway.inbound.common import IdMaker, random_id
from infer0app.gateway.inbound.responses_output import (
    echo_fields,
    finish_status,
    function_call_item,
    response_object,
    response_usage,
)
from infer0app.gateway.sse import encode_event

#: infer0 error codes whose Responses `response.error.code` is not `server_error`.
_FAILED_CODES = {"provider_rate_limited": "rate_limit_exceeded", "rate_limited": "rate_limit_exceeded"}


class ResponsesStream(ChunkReader):
    """One streamed `/v1/responses` answer. Call `start()` once, `feed_frame()` with each
    frame the pipeline yields, then `finish()`; each returns SSE frames (bytes) for the app.

    `body` is the app's Responses request (its settings are repeated in the response);
    `model` names the model until the provider's chunks name the one that answered;
    `created_at` is unix seconds; `new_id` makes item ids (tests pass a counter).
    """

    #: delta text -> the content part it goes into
    _TEXT_KINDS = (("content", "output_text"), ("refusal", "refusal"))

    def __init__(
        self,
        body: Mapping[str, Any],
        *,
        model: str,
        created_at: int,
        response_id: str | None = None,
        new_id: IdMaker = random_id,
    ) -> None:
        super().__init__(model=model, new_id=new_id)
        self._echo = echo_fields(body)
        self.response_id = response_id or new_id("resp")
        self.created_at = created_at
        self._seq = 0
        self._items: list[dict[str, Any]] = []  # output items in order, as built so far
        self._open: list[int] = []  # output indexes not yet done
        self._message: int | None = None  # output index of the open message item
        self._part: dict[str, Any] | None = None  # the message's open content part

    # ------------------------------------------------------------ framing

    def _event(self, kind: str, **fields: Any) -> bytes:
        frame = encode_event(kind, {"type": kind, "sequence_number": self._seq, **fields})
        self._seq += 1
        return frame

    def _response(self, status: str, *, reason: str | None = None, error: dict[str, Any] | None = None,
                  output: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return response_object(response_id=self.response_id, created_at=self.created_at, model=self.model,
                               echo=self._echo, status=status, output=output if output is not None else [],
                               usage=self.usage if status != "in_progress" else None,
                               incomplete_reason=reason, error=error)

    def start(self) -> list[bytes]:
        return [self._event("response.created", response=self._response("in_progress")),
                self._event("response.in_progress", response=self._response("in_progress"))]

    # ------------------------------------------------------------ input

    def _begin(self, chunk: Mapping[str, Any]) -> list[bytes]:
        if chunk.get("model"):
            self.model = str(chunk["model"])
        return []

    def _usage(self, raw: Any) -> dict[str, Any]:
        return response_usage(raw)

    # ------------------------------------------------------------ message text

    def _text(self, kind: str, text: str) -> list[bytes]:
        out: list[bytes] = []
        if self._message is None:
            index = len(self._items)
            item = {"id": self._new_id("msg"), "type": "message", "role": "assistant", "status": "in_progress",
                    "content": []}
            self._items.append(item)
            self._open.append(index)
            self._message = index
            out.append(self._event("response.output_item.added", output_index=index, item=_copy(item)))
        item = self._items[self._message]
        if self._part is None or self._part["type"] != kind:
            out.extend(self._close_part())
            self._part = ({"type": "output_text", "text": "", "annotations": [], "logprobs": []} if kind == "output_text"
                          else {"type": "refusal", "refusal": ""})
            item["content"].append(self._part)
            out.append(self._event("response.content_part.added", item_id=item["id"], output_index=self._message,
                                   content_index=len(item["content"]) - 1, part=_copy(self._part)))
        where = {"item_id": item["id"], "output_index": self._message, "content_index": len(item["content"]) - 1}
        if kind == "output_text":
            self._part["text"] += text
            out.append(self._event("response.output_text.delta", **where, delta=text, logprobs=[]))
        else:
            self._part["refusal"] += text
            out.append(self._event("response.refusal.delta", **where, delta=text))
        return out

    def _close_part(self) -> list[bytes]:
        part, self._part = self._part, None
        if part is None or self._message is None:
            return []
        item = self._items[self._message]
        where = {"item_id": item["id"], "output_index": self._message, "content_index": len(item["content"]) - 1}
        if part["type"] == "output_text":
            done = self._event("response.output_text.done", **where, text=part["text"], logprobs=[])
        else:
            done = self._event("response.refusal.done", **where, refusal=part["refusal"])
        return [done, self._event("response.content_part.done", **where, part=_copy(part))]

    def _close_message(self, status: str) -> list[bytes]:
        if self._message is None:
            return []
        out = self._close_part()
        index, self._message = self._message, None
        out.append(self._close_item(index, status))
        return out

    def _close_item(self, index: int, status: str) -> bytes:
        item = self._items[index]
        item["status"] = status
        self._open.remove(index)
        return self._event("response.output_item.done", output_index=index, item=_copy(item))

    # ------------------------------------------------------------ tool calls

    def _open_call(self, call: Mapping[str, Any], fn: Mapping[str, Any]) -> tuple[int, list[bytes]]:
        out = self._close_message("completed")
        index = len(self._items)
        item = function_call_item(self._new_id("fc"), str(call.get("id") or self._new_id("call")),
                                  str(fn.get("name") or ""), "", "in_progress")
        self._items.append(item)
        self._open.append(index)
        out.append(self._event("response.output_item.added", output_index=index, item=_copy(item)))
        return index, out

    def _call_delta(self, index: int, fn: Mapping[str, Any]) -> list[bytes]:
        item = self._items[index]
        if fn.get("name") and not item["name"]:
            item["name"] = str(fn["name"])
        args = fn.get("arguments")
        if not (isinstance(args, str) and args):
            return []
        item["arguments"] += args
        return [self._event("response.function_call_arguments.delta", item_id=item["id"], output_index=index,
                            delta=args)]

    # ------------------------------------------------------------ the end

    def _finished(self) -> list[bytes]:
        """Close every open item and send `response.completed` (or `.incomplete`)."""
        status, reason = finish_status(self.finish_reason)
        item_status = "incomplete" if status == "incomplete" else "completed"
        out = self._close_message(item_status)
        for index in list(self._open):
            item = self._items[index]
            out.append(self._event("response.function_call_arguments.done", item_id=item["id"], output_index=index,
                                   arguments=item["arguments"]))
            out.append(self._close_item(index, item_status))
        kind = "response.completed" if status == "completed" else "response.incomplete"
        out.append(self._event(kind, response=self._response(status, reason=reason, output=_copy(self._items))))
        return out

    def _failed(self, error: Mapping[str, Any], message: str) -> list[bytes]:
        """An `error` event, then `response.failed` whose `response.error` says why."""
        code = str(error.get("code") or "server_error")
        failed = {"code": _FAILED_CODES.get(code, "server_error"), "message": message}
        return [
            self._event("error", code=code, message=message, param=error.get("param")),
            self._event("response.failed", response=self._response("failed", error=failed,
                                                                    output=_copy(self._items))),
        ]


def _copy(value: Any) -> Any:
    """A snapshot for one event (later deltas mutate the live items)."""
    return json.loads(json.dumps(value))
