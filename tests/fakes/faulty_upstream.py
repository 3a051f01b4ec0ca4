"""A provider that misbehaves on purpose, at the byte level: a raw asyncio server on loopback.

    with FaultyUpstream() as up:          # runs on a thread of its own (sync tests can use it)
        up.fault = "reset_mid_stream"     # what the next requests get (see FAULTS)
        ...                               # point a provider connection at up.url
        up.wait_all_closed()              # every connection infer0 opened has been closed

It speaks just enough HTTP/1.1 to read one request (head + Content-Length body) and then
does what `fault` says, for whichever wire the path names: OpenAI's `/v1/chat/completions`
(and Gemini's `/v1beta/openai/...`, Azure's `/openai/deployments/...`), Anthropic's
`/v1/messages`, OpenAI's `/v1/responses`. Streaming or not is read from the body's `stream`.
No aiohttp on the answering side: aiohttp's server would refuse to send most of these.

FAULTS (each a function of (wire, stream) -> what is written):
  refused               (not served here: point the connection at `closed_port()` instead)
  reset_before_headers  request read, then RST
  reset_mid_stream      200 head and part of the answer, then RST
  error_event           200, then the wire's own error (an SSE error event / an error JSON body)
  error_after_content   stream: some content, then the wire's error event
  malformed_json        200 with JSON cut short (non-stream body, or the first SSE data)
  sse_no_data           stream: JSON lines without the `data:` field, then end
  sse_partial_last_line stream: content, then `data: {"cho` and the connection closed
  sse_5mb_line          stream: one 5 MB `data:` line (not JSON)
  slow_drip             a valid answer, one byte per second
  never_ends            stream: content, then SSE comments every 0.2 s, forever;
                        non-stream: chunked body, a space every 0.2 s, forever
  non_utf8              200 whose body (or first data line) is not UTF-8
  huge_body             non-stream: a 100 MB body; stream: a 100 MB line with no end
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import threading
import time

from tests.support.processes import free_port

MB = 1024 * 1024
FAULTS = ("reset_before_headers", "reset_mid_stream", "error_event", "error_after_content", "malformed_json",
          "sse_no_data", "sse_partial_last_line", "sse_5mb_line", "slow_drip", "never_ends", "non_utf8",
          "huge_body")


def closed_port() -> int:
    """A loopback port nothing listens on (tests/support/processes.free_port: no other
    pytest-xdist worker starts a server there)."""
    return free_port()


def wire_of(path: str) -> str:
    if path.startswith("/v1/messages"):
        return "anthropic"
    if path.startswith("/v1/responses"):
        return "responses"
    return "openai"  # openai, gemini's OpenAI endpoint, azure deployments


def _sse(data, event: str | None = None) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    return (f"event: {event}\n" if event else "").encode() + f"data: {text}\n\n".encode()


def _chunk(text: str, finish: str | None = None) -> dict:
    return {"id": "chatcmpl-f", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": finish}]}


def content_frames(wire: str) -> list[bytes]:
    """The opening of a good stream: enough for infer0 to have sent content to its client."""
    if wire == "anthropic":
        start = {"id": "msg_f", "type": "message", "role": "assistant", "model": "m", "content": [],
                 "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 1}}
        return [_sse({"type": "message_start", "message": start}, "message_start"),
                _sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                     "content_block_start"),
                _sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}},
                     "content_block_delta")]
    if wire == "responses":
        resp = {"id": "resp_f", "object": "response", "status": "in_progress", "model": "m", "output": []}
        return [_sse({"type": "response.created", "sequence_number": 0, "response": resp}, "response.created"),
                _sse({"type": "response.output_text.delta", "sequence_number": 1, "item_id": "msg_f",
                      "output_index": 0, "content_index": 0, "delta": "Hel"}, "response.output_text.delta")]
    return [_sse(_chunk("Hel"))]


def closing_frames(wire: str) -> list[bytes]:
    if wire == "anthropic":
        return [_sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
                _sse({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                      "usage": {"output_tokens": 2}}, "message_delta"),
                _sse({"type": "message_stop"}, "message_stop")]
    if wire == "responses":
        resp = {"id": "resp_f", "object": "response", "status": "completed", "model": "m", "output": [],
                "usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}}
        return [_sse({"type": "response.completed", "sequence_number": 2, "response": resp}, "response.completed")]
    return [_sse(_chunk("lo", "stop")), b"data: [DONE]\n\n"]


def error_frame(wire: str) -> bytes:
    if wire == "anthropic":
        return _sse({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, "error")
    if wire == "responses":
        return _sse({"type": "error", "code": "server_error", "message": "The server had an error",
                     "param": None, "sequence_number": 2}, "error")
    return _sse({"error": {"message": "The server had an error", "type": "server_error", "code": None}})


def answer_body(wire: str) -> bytes:
    if wire == "anthropic":
        obj = {"id": "msg_f", "type": "message", "role": "assistant", "model": "m",
               "content": [{"type": "text", "text": "Hello"}], "stop_reason": "end_turn", "stop_sequence": None,
               "usage": {"input_tokens": 3, "output_tokens": 2}}
    elif wire == "responses":
        obj = {"id": "resp_f", "object": "response", "status": "completed", "model": "m",
               "output": [{"type": "message", "id": "msg_f", "role": "assistant", "status": "completed",
                           "content": [{"type": "output_text", "text": "Hello", "annotations": []}]}],
               "usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}}
    else:
        obj = {"id": "chatcmpl-f", "object": "chat.completion", "created": 1, "model": "m",
               "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"},
                            "finish_reason": "stop"}],
               "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}
    return json.dumps(obj).encode()


def error_body(wire: str) -> bytes:
    if wire == "anthropic":
        return json.dumps({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}).encode()
    return json.dumps({"error": {"message": "The server had an error", "type": "server_error", "code": None}}).encode()


def _head(length: int | None, stream: bool, *, chunked: bool = False) -> bytes:
    kind = "text/event-stream" if stream else "application/json"
    lines = ["HTTP/1.1 200 OK", f"Content-Type: {kind}", "Connection: close"]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    elif length is not None:
        lines.append(f"Content-Length: {length}")
    # else: the body ends when the connection does
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class FaultyUpstream:
    """The server; `fault` may be changed between requests. `open_connections` counts sockets
    infer0 has open to it right now; `requests` counts requests read."""

    def __init__(self) -> None:
        self.fault = "error_event"
        self.open_connections = 0
        self.requests = 0
        self._cond = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="faulty-upstream", daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultyUpstream:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc) -> None:
        async def stop():
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()
        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def wait_all_closed(self, timeout: float = 10.0) -> bool:
        """True once every connection to this server has been closed by infer0 (the condition, not a sleep)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.open_connections:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _count(self, delta: int) -> None:
        with self._cond:
            self.open_connections += delta
            self._cond.notify_all()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One request per connection (every answer says `Connection: close`), then wait for
        infer0 to hang up: a connection infer0 forgets to close stays counted."""
        self._count(+1)
        answer = hangup = None
        try:
            request = await _read_request(reader)
            if request is None:
                return
            self.requests += 1
            path, body = request
            try:
                stream = bool(json.loads(body).get("stream"))
            except (ValueError, AttributeError):
                stream = False
            answer = asyncio.ensure_future(self._answer(self.fault, wire_of(path), stream, reader, writer))
            hangup = asyncio.ensure_future(_hangup(reader))  # done once infer0 closes
            done, _ = await asyncio.wait({answer, hangup}, return_when=asyncio.FIRST_COMPLETED)
            if answer in done and answer.exception() is None and answer.result() == "close":
                return
            await asyncio.wait({hangup})
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            for task in (answer, hangup):
                if task is not None and not task.done():
                    task.cancel()
            if not writer.is_closing():
                writer.close()
            self._count(-1)

    async def _answer(self, fault: str, wire: str, stream: bool, reader, writer) -> str:
        """Write the fault; "close" when the fault is that the upstream ends the body by closing,
        "wait" when infer0 has to give up on it."""
        if fault == "reset_before_headers":
            _reset(writer)
            return "close"
        if fault == "reset_mid_stream":
            body = b"".join(content_frames(wire)) if stream else answer_body(wire)
            writer.write(_head(None if stream else len(body), stream) + (body if stream else body[: len(body) // 2]))
            await writer.drain()
            _reset(writer)
            return "close"
        if fault == "slow_drip":
            body = b"".join(content_frames(wire) + closing_frames(wire)) if stream else answer_body(wire)
            writer.write(_head(len(body), stream))
            for i in range(len(body)):
                writer.write(body[i:i + 1])
                await writer.drain()
                await asyncio.sleep(1.0)
            return "wait"
        if fault == "never_ends":
            if stream:
                writer.write(_head(None, True) + b"".join(content_frames(wire)))
                filler = b": still thinking\n\n"
            else:
                writer.write(_head(None, False, chunked=True))
                filler = b"1\r\n \r\n"
            while True:  # until infer0 hangs up (this task is then cancelled)
                await writer.drain()
                await asyncio.sleep(0.2)
                writer.write(filler)
        if fault == "huge_body":
            size = 100 * MB
            if stream:
                writer.write(_head(None, True) + b"data: ")
                piece = b"x" * MB
            else:
                writer.write(_head(size, False) + b'{"id": "')
                piece = b"a" * MB
                size -= 8
            sent = 0
            while sent < size:
                writer.write(piece[: size - sent])
                sent += len(piece)
                await writer.drain()
            return "wait"
        body = _plain_fault(fault, wire, stream)
        writer.write(_head(None if stream else len(body), stream) + body)
        await writer.drain()
        return "close" if fault in ("sse_no_data", "sse_partial_last_line") else "wait"


def _plain_fault(fault: str, wire: str, stream: bool) -> bytes:
    """The faults that are one fixed body."""
    if fault == "error_event":
        return error_frame(wire) if stream else error_body(wire)
    if fault == "error_after_content":
        return b"".join(content_frames(wire)) + error_frame(wire) if stream else error_body(wire)
    if fault == "malformed_json":
        return b'data: {"id": "chatcmpl-f", "choices": [\n\n' if stream else b'{"id": "chatcmpl-f", "choices": ['
    if fault == "sse_no_data":
        frames = content_frames(wire) + closing_frames(wire)
        return b"".join(f.replace(b"data: ", b"").replace(b"event: ", b"") for f in frames)
    if fault == "sse_partial_last_line":
        return b"".join(content_frames(wire)) + b'data: {"cho'
    if fault == "sse_5mb_line":
        return b"data: " + b"x" * (5 * MB) + b"\n\n"
    if fault == "non_utf8":
        junk = b"\xff\xfe\xfa\xc3\x28 not utf-8 \xa0\xa1"
        return b"data: " + junk + b"\n\n" if stream else junk
    raise ValueError(f"unknown fault {fault!r}")


async def _hangup(reader: asyncio.StreamReader) -> None:
    """Returns when the peer closed (EOF) or reset the connection."""
    try:
        await reader.read()
    except ConnectionError:
        pass


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0), not FIN: the peer sees 'connection reset'."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, bytes] | None:
    """(path, body) of the next request, or None when the client closed the connection."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    path = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else "/"
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return path, body
