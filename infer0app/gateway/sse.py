"""Server-Sent Events: an incremental parser (bytes in, events out) and frame encoders.

The parser follows the WHATWG event-stream rules that matter for LLM APIs: lines end in
LF, CRLF or CR (a CR at the end of one chunk and an LF at the start of the next are one
line break); lines starting with ":" are comments; `data` lines of one event are joined
with "\\n"; one space after the colon is dropped; an empty line dispatches the event; a
UTF-8 byte-order mark at the very start is ignored. Lines are split as bytes, so a
multi-byte character cut between two network chunks is decoded whole.

Deviation, on purpose: `flush()` at the end of the body dispatches an event whose blank
line never came (some servers end with `data: [DONE]\\n` and close).

Bounded: a line, or the data of one event, longer than MAX_EVENT_BYTES raises ValueError
(the callers end the stream with `provider_bad_response`): a provider sending one endless
line cannot make the parser hold it all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

DONE_FRAME = b"data: [DONE]\n\n"
#: The longest line or event data accepted (16 MiB: an inline image fits, an endless line does not).
MAX_EVENT_BYTES = 16 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class SSEEvent:
    data: str
    event: str | None = None
    id: str | None = None


class SSEParser:
    """Feed network chunks with `feed()`; call `flush()` once at end of stream."""

    __slots__ = ("_buf", "_data", "_size", "_event", "_id", "_started", "_skip_lf")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._data: list[str] = []
        self._size = 0  # characters in _data
        self._event: str | None = None
        self._id: str | None = None
        self._started = False
        self._skip_lf = False  # the previous chunk ended in CR: a leading LF is its pair

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        buf = self._buf
        buf += chunk
        if not self._started:
            if len(buf) < 3 and _BOM.startswith(bytes(buf)):
                return []
            if buf.startswith(_BOM):
                del buf[:3]
            self._started = True
        out: list[SSEEvent] = []
        start = 0
        n = len(buf)
        while start < n:
            lf = buf.find(b"\n", start)
            cr = buf.find(b"\r", start, lf if lf != -1 else n)
            if cr != -1:
                end, nxt = cr, cr + 1
                if nxt < n and buf[nxt] == 0x0A:
                    nxt += 1
                elif nxt == n:
                    self._skip_lf = True
            elif lf != -1:
                end, nxt = lf, lf + 1
            else:
                break
            self._line(bytes(buf[start:end]), out)
            start = nxt
        del buf[:start]
        if len(buf) > MAX_EVENT_BYTES:
            raise ValueError(f"an SSE line longer than {MAX_EVENT_BYTES} bytes")
        return out

    def flush(self) -> list[SSEEvent]:
        out: list[SSEEvent] = []
        if self._buf:
            self._line(bytes(self._buf), out)
            self._buf.clear()
        self._line(b"", out)
        return out

    def _line(self, raw: bytes, out: list[SSEEvent]) -> None:
        if not raw:
            if self._data:
                out.append(SSEEvent(data="\n".join(self._data), event=self._event, id=self._id))
            self._data = []
            self._size = 0
            self._event = None
            return
        if raw[:1] == b":":
            return
        line = raw.decode("utf-8", errors="replace")
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._size += len(value)
            if self._size > MAX_EVENT_BYTES:
                raise ValueError(f"an SSE event longer than {MAX_EVENT_BYTES} bytes")
            self._data.append(value)
        elif name == "event":
            self._event = value or None
        elif name == "id":
            if "\x00" not in value:
                self._id = value
        # "retry" and unknown fields are ignored


def encode_data(data: str | bytes) -> bytes:
    """One `data:` frame. Multi-line data gets one `data:` line per line."""
    raw = data.encode() if isinstance(data, str) else data
    if b"\n" in raw or b"\r" in raw:
        lines = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        return b"".join(b"data: " + line + b"\n" for line in lines) + b"\n"
    return b"data: " + raw + b"\n\n"


def encode_json(obj: Any) -> bytes:
    return encode_data(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))


def encode_event(event: str, obj: Any) -> bytes:
    """A named event frame (what Anthropic sends); used by the fake servers."""
    return f"event: {event}\n".encode() + encode_json(obj)
