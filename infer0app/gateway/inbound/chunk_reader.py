"""Reading the pipeline's Chat Completions stream: the part both inbound stream translators
(`messages_stream.MessagesStream`, `responses_stream.ResponsesStream`) share.

`ChunkReader` parses the pipeline's SSE frames (`chat.completion.chunk` JSON, error chunks,
`[DONE]`), keeps the answering model, the usage and the finish reason, and cuts each chunk's
delta into the calls its subclass answers with its own API's events:

* `_begin(chunk)`: the chunk arrived (before usage and delta are read);
* `_text(kind, text)`: delta text, `content` then `refusal`, named by the subclass's
  `_TEXT_KINDS` (the kind of block or part each goes into);
* `_open_call(call, function)`: the first fragment of a tool call, answers its index;
* `_call_delta(index, function)`: each fragment of that call, the first included;
* `_finished()` / `_failed(error, message)`: the end, once (`finish()` / `fail()`).

Tool-call fragments are matched to calls by the chat `index`; for providers that omit it,
a new `id` is a new call and a fragment without one continues the last call. Nothing is
read after the end (after `[DONE]`, `finish()` or an error chunk).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infer0app.gateway.inbound.common import IdMaker, first_choice
from infer0app.gateway.providers.base import read_json
from infer0app.gateway.sse import SSEParser

#: The message of a mid-stream failure whose error object carries none.
PROVIDER_FAILED = "The provider failed while answering."


class ChunkReader:
    """The shared reading of one translated stream; see the module doc for the hooks.

    `model` names the model until the subclass takes the chunks' `model`; `new_id` makes
    object ids (tests pass a counter). `usage` and `finish_reason` are the last seen.
    """

    #: (delta key, the kind `_text` is told) for the delta's text fields, in the order read
    _TEXT_KINDS: tuple[tuple[str, str], ...] = (("content", "content"), ("refusal", "refusal"))

    def __init__(self, *, model: str, new_id: IdMaker) -> None:
        self.model = model
        self.usage: dict[str, Any] | None = None
        self.finish_reason: str | None = None
        self._new_id = new_id
        self._parser = SSEParser()
        self._ended = False
        self._calls: dict[Any, int] = {}  # chat tool-call index (or id) -> the subclass's index
        self._last_call: Any = None

    def feed_frame(self, frame: bytes) -> list[bytes]:
        """One or more SSE frames from the pipeline -> the API's event frames (frames that
        are not JSON objects are skipped; `[DONE]` finishes)."""
        out: list[bytes] = []
        for event in self._parser.feed(frame):
            if event.data == "[DONE]":
                out.extend(self.finish())
                continue
            try:
                chunk = read_json(event.data)
            except ValueError:
                continue
            if isinstance(chunk, Mapping):
                out.extend(self.feed_chunk(chunk))
        return out

    def feed_chunk(self, chunk: Mapping[str, Any]) -> list[bytes]:
        """One parsed `chat.completion.chunk` (or error chunk) -> the API's event frames."""
        if self._ended:
            return []
        if isinstance(chunk.get("error"), Mapping):
            return self.fail(chunk["error"])
        out = self._begin(chunk)
        if chunk.get("usage") is not None:
            self.usage = self._usage(chunk["usage"])
        choice = first_choice(chunk)
        delta = choice.get("delta") if isinstance(choice.get("delta"), Mapping) else {}
        for key, kind in self._TEXT_KINDS:
            text = delta.get(key)
            if isinstance(text, str) and text:
                out.extend(self._text(kind, text))
        for call in delta.get("tool_calls") or []:
            if isinstance(call, Mapping):
                out.extend(self._tool_call(call))
        if choice.get("finish_reason"):
            self.finish_reason = str(choice["finish_reason"])
        return out

    def _tool_call(self, call: Mapping[str, Any]) -> list[bytes]:
        key = call.get("index")
        if key is None:  # providers that omit `index`: a new id is a new call
            key = call.get("id") if call.get("id") and call.get("id") not in self._calls else self._last_call
        fn = call.get("function") if isinstance(call.get("function"), Mapping) else {}
        out: list[bytes] = []
        if key not in self._calls:
            index, opened = self._open_call(call, fn)
            out.extend(opened)
            self._calls[key] = index
        self._last_call = key
        out.extend(self._call_delta(self._calls[key], fn))
        return out

    def finish(self) -> list[bytes]:
        """The end of the answer (`[DONE]` or the pipeline's end). Idempotent; nothing after a failure."""
        if self._ended:
            return []
        self._ended = True
        return self._finished()

    def fail(self, error: Mapping[str, Any]) -> list[bytes]:
        """The stream broke (an OpenAI error object). Once; nothing after the end."""
        if self._ended:
            return []
        self._ended = True
        return self._failed(error, str(error.get("message") or PROVIDER_FAILED))

    # ------------------------------------------------------------ the subclass's API

    def _begin(self, chunk: Mapping[str, Any]) -> list[bytes]:
        raise NotImplementedError

    def _usage(self, raw: Any) -> dict[str, Any]:
        raise NotImplementedError

    def _text(self, kind: str, text: str) -> list[bytes]:
        raise NotImplementedError

    def _open_call(self, call: Mapping[str, Any], fn: Mapping[str, Any]) -> tuple[int, list[bytes]]:
        raise NotImplementedError

    def _call_delta(self, index: int, fn: Mapping[str, Any]) -> list[bytes]:
        raise NotImplementedError

    def _finished(self) -> list[bytes]:
        raise NotImplementedError

    def _failed(self, error: Mapping[str, Any], message: str) -> list[bytes]:
        raise NotImplementedError
