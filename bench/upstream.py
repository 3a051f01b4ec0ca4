"""A fast fake LLM upstream for the benchmarks: raw asyncio HTTP/1.1, no framework.

Speaks just enough of two wires to be proxied for real:

* OpenAI:    POST /v1/chat/completions  (JSON, or SSE when the body has "stream": true),
             POST /v1/embeddings  (one 256-float vector, JSON)
* Anthropic: POST /v1/messages          (JSON, or SSE event stream)

Streams carry CHUNKS content deltas whose text is "<i> " (i = 0 .. CHUNKS-1), so a client can
check for lost or reordered chunks. The headers and chunk 0 go out at once; chunk i follows
at i * INTERVAL. Runtime knobs, for the harness between phases:

    GET /_bench/config?chunks=64&interval_ms=2     set the stream shape
    GET /_bench/stats                              {"requests": n, "streams": n, "open_streams": n}
    GET /_bench/health                             200

    python -m bench.upstream --port 9001 [--chunks 64] [--interval-ms 0] [--no-uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
from urllib.parse import parse_qs, urlsplit

STREAM_RE = re.compile(rb'"stream"\s*:\s*true')
CREATED = 1_700_000_000
TEXT = "Hello from the bench upstream."

OPENAI_JSON = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": CREATED, "model": "bench-model",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": TEXT}, "finish_reason": "stop",
                 "logprobs": None}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
}, separators=(",", ":")).encode()

ANTHROPIC_JSON = json.dumps({
    "id": "msg_bench", "type": "message", "role": "assistant", "model": "bench-model",
    "content": [{"type": "text", "text": TEXT}], "stop_reason": "end_turn", "stop_sequence": None,
    "usage": {"input_tokens": 12, "output_tokens": 7},
}, separators=(",", ":")).encode()

MODELS_JSON = json.dumps({"object": "list", "data": [
    {"id": "bench-model", "object": "model", "created": CREATED, "owned_by": "bench"}]}).encode()

SSE_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")


def http_response(status: int, body: bytes, ctype: bytes = b"application/json", close: bool = False) -> bytes:
    reason = {200: b"OK", 404: b"Not Found", 400: b"Bad Request"}.get(status, b"Status")
    conn = b"Connection: close\r\n" if close else b""
    return (b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n"
            % (status, reason, ctype, len(body), conn)) + body


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _sse(obj: dict, event: str | None = None) -> bytes:
    head = f"event: {event}\n".encode() if event else b""
    return head + b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


def openai_frames(n: int, include_usage: bool) -> list[bytes]:
    frames = []
    for i in range(n):
        delta = {"role": "assistant", "content": f"{i} "} if i == 0 else {"content": f"{i} "}
        frames.append(_sse({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": CREATED,
                            "model": "bench-model", "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}))
    tail = _sse({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": CREATED, "model": "bench-model",
                 "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    if include_usage:
        tail += _sse({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": CREATED,
                      "model": "bench-model", "choices": [],
                      "usage": {"prompt_tokens": 12, "completion_tokens": n, "total_tokens": 12 + n}})
    frames[-1] += tail + b"data: [DONE]\n\n"
    return frames


def anthropic_frames(n: int) -> list[bytes]:
    head = _sse({"type": "message_start", "message": {
        "id": "msg_bench", "type": "message", "role": "assistant", "model": "bench-model", "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 12, "output_tokens": 1}}},
        "message_start")
    head += _sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                 "content_block_start")
    frames = [_sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": f"{i} "}},
                   "content_block_delta") for i in range(n)]
    frames[0] = head + frames[0]
    frames[-1] += (_sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
                   + _sse({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                           "usage": {"output_tokens": n}}, "message_delta")
                   + _sse({"type": "message_stop"}, "message_stop"))
    return frames


class State:
    def __init__(self, chunks: int, interval_ms: float):
        self.requests = 0
        self.streams = 0
        self.open_streams = 0
        self.set_shape(chunks, interval_ms)

    def set_shape(self, chunks: int, interval_ms: float) -> None:
        self.chunks, self.interval = max(1, chunks), max(0.0, interval_ms) / 1000
        # Pre-framed (HTTP chunked) streams, so a stream costs one write per chunk and nothing else.
        self.frames = {
            ("openai", False): [chunk(f) for f in openai_frames(self.chunks, False)],
            ("openai", True): [chunk(f) for f in openai_frames(self.chunks, True)],
            ("anthropic", False): [chunk(f) for f in anthropic_frames(self.chunks)],
        }
        self.frames[("anthropic", True)] = self.frames[("anthropic", False)]


OK_OPENAI = http_response(200, OPENAI_JSON)
OK_ANTHROPIC = http_response(200, ANTHROPIC_JSON)
OK_MODELS = http_response(200, MODELS_JSON)
# One 256-float embedding per call (the bench body embeds one short text), as OpenAI answers it.
EMBEDDINGS_JSON = json.dumps({"object": "list", "model": "bench-embed", "usage": {"prompt_tokens": 8, "total_tokens": 8},
                              "data": [{"object": "embedding", "index": 0,
                                        "embedding": [round((i % 17) / 17 - 0.5, 6) for i in range(256)]}]},
                             separators=(",", ":")).encode()
OK_EMBEDDINGS = http_response(200, EMBEDDINGS_JSON)
NOT_FOUND = http_response(404, b'{"error":{"message":"not found"}}')


class Upstream(asyncio.Protocol):
    def __init__(self, state: State):
        self.state = state
        self.buf = b""
        self.transport: asyncio.Transport | None = None
        self.streaming: asyncio.TimerHandle | None = None
        self.busy = False
        self.close_after = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        if self.streaming is not None:
            self.streaming.cancel()
            self.streaming = None
        if self.busy:
            self.state.open_streams -= 1
            self.busy = False
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.busy:
            self._process()

    def _process(self) -> None:
        while self.transport is not None and not self.busy:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end].decode("latin-1")
            lines = head.split("\r\n")
            try:
                method, target, _ = lines[0].split(" ", 2)
            except ValueError:
                self.transport.write(http_response(400, b"{}", close=True))
                self.transport.close()
                return
            length, chunked, close = 0, False, False
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "transfer-encoding" and "chunked" in value.lower():
                    chunked = True
                elif name == "connection" and value.strip().lower() == "close":
                    close = True
            start = end + 4
            if chunked:
                body, consumed = _dechunk(self.buf, start)
                if body is None:
                    return
                self.buf = self.buf[consumed:]
            else:
                if len(self.buf) - start < length:
                    return
                body = self.buf[start:start + length]
                self.buf = self.buf[start + length:]
            self.close_after = close
            self._respond(method, target, body)
            if close and not self.busy and self.transport is not None:
                self.transport.close()

    def _respond(self, method: str, target: str, body: bytes) -> None:
        st, t = self.state, self.transport
        st.requests += 1
        path = target.split("?", 1)[0]
        if method == "POST" and path.endswith("/chat/completions"):
            wire, reply = "openai", OK_OPENAI
        elif method == "POST" and path.endswith("/messages"):
            wire, reply = "anthropic", OK_ANTHROPIC
        elif method == "POST" and path.endswith("/embeddings"):
            t.write(OK_EMBEDDINGS)
            return
        elif path.startswith("/_bench/"):
            t.write(self._admin(path, target))
            return
        elif method == "GET" and path.endswith("/models"):
            t.write(OK_MODELS)
            return
        else:
            t.write(NOT_FOUND)
            return
        if not STREAM_RE.search(body):
            t.write(reply)
            return
        frames = st.frames[(wire, b"include_usage" in body)]
        st.streams += 1
        st.open_streams += 1
        self.busy = True
        t.write(SSE_HEAD + frames[0])
        if len(frames) == 1:
            self._finish()
            return
        loop = asyncio.get_running_loop()
        if st.interval <= 0:
            t.write(b"".join(frames[1:]))
            self._finish()
            return
        started = loop.time()
        self._next(loop, frames, 1, started)

    def _next(self, loop, frames: list[bytes], i: int, started: float) -> None:
        self.streaming = loop.call_at(started + i * self.state.interval, self._send, loop, frames, i, started)

    def _send(self, loop, frames: list[bytes], i: int, started: float) -> None:
        self.streaming = None
        if self.transport is None:
            return
        self.transport.write(frames[i])
        if i + 1 < len(frames):
            self._next(loop, frames, i + 1, started)
        else:
            self._finish()

    def _finish(self) -> None:
        self.transport.write(b"0\r\n\r\n")
        self.state.open_streams -= 1
        self.busy = False
        if self.close_after:
            self.transport.close()
        elif self.buf:
            asyncio.get_running_loop().call_soon(self._process)

    def _admin(self, path: str, target: str) -> bytes:
        st = self.state
        if path == "/_bench/config":
            q = parse_qs(urlsplit(target).query)
            st.set_shape(int(q.get("chunks", [st.chunks])[0]),
                         float(q.get("interval_ms", [st.interval * 1000])[0]))
        if path in ("/_bench/config", "/_bench/stats"):
            return http_response(200, json.dumps({
                "requests": st.requests, "streams": st.streams, "open_streams": st.open_streams,
                "chunks": st.chunks, "interval_ms": st.interval * 1000}).encode())
        if path == "/_bench/health":
            return http_response(200, b"{}")
        return NOT_FOUND


def _dechunk(buf: bytes, pos: int) -> tuple[bytes | None, int]:
    parts = []
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None, 0
        size = int(buf[pos:eol].split(b";")[0], 16)
        if size == 0:
            end = buf.find(b"\r\n", eol + 2)
            return (b"".join(parts), end + 2) if end >= 0 else (None, 0)
        if len(buf) < eol + 2 + size + 2:
            return None, 0
        parts.append(buf[eol + 2:eol + 2 + size])
        pos = eol + 2 + size + 2


async def serve(host: str, port: int, state: State) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Upstream(state), host, port, backlog=4096, reuse_address=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--chunks", type=int, default=64)
    p.add_argument("--interval-ms", type=float, default=0.0)
    p.add_argument("--no-uvloop", action="store_true", help="Use the default asyncio loop even if uvloop is installed.")
    args = p.parse_args(argv)
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        raise SystemExit("the bench upstream listens on loopback only")
    del bytearray(4 << 20)[:]  # raise glibc's mmap threshold now (see bare_proxy.py)
    state = State(args.chunks, args.interval_ms)
    if not args.no_uvloop:
        try:
            import uvloop
            uvloop.run(serve(args.host, args.port, state))
            return
        except ImportError:
            pass
    asyncio.run(serve(args.host, args.port, state))


if __name__ == "__main__":
    main()
