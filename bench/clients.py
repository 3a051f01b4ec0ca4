"""Small clients for what wrk cannot see: latency at concurrency 1 (blocking socket, keep-alive,
no framework in the way), time to first token and gaps between chunks, and many concurrent
streams checked for lost or reordered chunks."""

from __future__ import annotations

import asyncio
import re
import socket
import statistics
import time

# A content delta of the fake upstream is the text "<i> ": OpenAI `"content":"3 "`,
# Anthropic `"text":"3 "`, as they arrive at the client (infer0 answers in OpenAI frames).
TOKEN_RE = re.compile(rb'"(?:content|text)"\s*:\s*"(\d+) "')


def build_request(port: int, path: str, body: bytes, auth: str | None,
                  ctype: str = "application/json") -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\n" + (f"Authorization: {auth}\r\n" if auth else "") + "\r\n")
    return head.encode() + body


class ChunkDecoder:
    """Incremental HTTP/1.1 chunked transfer decoding."""

    def __init__(self):
        self.raw = b""
        self.done = False
        self._need = -1  # bytes of chunk data (+ CRLF) still expected, -1 = at a size line

    def feed(self, data: bytes) -> bytes:
        self.raw += data
        out = []
        while not self.done:
            if self._need < 0:
                eol = self.raw.find(b"\r\n")
                if eol < 0:
                    break
                size = int(self.raw[:eol].split(b";")[0], 16)
                if size == 0:  # last chunk: "0\r\n" then the empty trailer line "\r\n"
                    if len(self.raw) < eol + 4:
                        break
                    self.raw = self.raw[eol + 4:]
                    self.done = True
                    break
                self.raw = self.raw[eol + 2:]
                self._need = size + 2
            if len(self.raw) < self._need:
                break
            out.append(self.raw[:self._need - 2])
            self.raw = self.raw[self._need:]
            self._need = -1
        return b"".join(out)


def parse_head(head: bytes) -> tuple[int, int | None, bool]:
    status = int(head[9:12])
    length, chunked = None, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    return status, length, chunked


class BlockingConn:
    """One keep-alive connection with a blocking socket (TCP_NODELAY)."""

    def __init__(self, port: int):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def _recv(self) -> bytes:
        data = self.sock.recv(262144)
        if not data:
            raise ConnectionError("server closed the connection")
        return data

    def _head(self) -> bytes:
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                head, self.buf = self.buf[:end], self.buf[end + 4:]
                return head
            self.buf += self._recv()

    def roundtrip(self, request: bytes) -> tuple[int, bytes]:
        self.sock.sendall(request)
        status, length, chunked = parse_head(self._head())
        if chunked:
            dec, body = ChunkDecoder(), []
            body.append(dec.feed(self.buf))
            while not dec.done:
                body.append(dec.feed(self._recv()))
            self.buf = dec.raw
            return status, b"".join(body)
        length = length or 0
        while len(self.buf) < length:
            self.buf += self._recv()
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, body

    def stream(self, request: bytes) -> tuple[int, float, list[tuple[float, int]]]:
        """Sends a streaming request; returns (status, t_sent, [(arrival time, token index), ...])."""
        t0 = time.perf_counter()
        self.sock.sendall(request)
        status, length, chunked = parse_head(self._head())
        if not chunked:
            length = length or 0
            while len(self.buf) < length:
                self.buf += self._recv()
            self.buf = self.buf[length:]
            return status, t0, []
        dec, sse, tokens = ChunkDecoder(), b"", []
        data = self.buf
        while True:
            now = time.perf_counter()
            sse += dec.feed(data)
            cut = sse.rfind(b"\n\n")
            if cut >= 0:
                tokens.extend((now, int(m)) for m in TOKEN_RE.findall(sse, 0, cut))
                sse = sse[cut + 2:]
            if dec.done:
                break
            data = self._recv()
        self.buf = dec.raw
        return status, t0, tokens


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


def latency_c1(targets: dict[str, tuple[int, bytes]], requests: int, block: int = 100,
               warmup: int = 50) -> dict[str, dict]:
    """Round-robin blocks of `block` sequential requests over every target (one keep-alive
    connection each), so background noise hits all targets alike. Times are µs."""
    conns = {name: BlockingConn(port) for name, (port, _) in targets.items()}
    samples: dict[str, list[float]] = {name: [] for name in targets}
    errors = {name: 0 for name in targets}
    try:
        for name, (_, req) in targets.items():
            for _ in range(warmup):
                conns[name].roundtrip(req)
        done = 0
        while done < requests:
            n = min(block, requests - done)
            for name, (_, req) in targets.items():
                conn, out = conns[name], samples[name]
                for _ in range(n):
                    t0 = time.perf_counter_ns()
                    status, _ = conn.roundtrip(req)
                    out.append((time.perf_counter_ns() - t0) / 1000)
                    if status != 200:
                        errors[name] += 1
            done += n
    finally:
        for c in conns.values():
            c.close()
    return {name: {"requests": len(v), "errors": errors[name], "p50_us": round(pct(v, 50), 1),
                   "p90_us": round(pct(v, 90), 1), "p99_us": round(pct(v, 99), 1),
                   "mean_us": round(statistics.fmean(v), 1)} for name, v in samples.items()}


def stream_timing(targets: dict[str, tuple[int, bytes]], streams: int, chunks: int) -> dict[str, dict]:
    """Sequential streams, round-robin over targets: TTFT, inter-chunk gaps, lost/reordered."""
    conns = {name: BlockingConn(port) for name, (port, _) in targets.items()}
    out = {name: {"ttft": [], "gaps": [], "lost": 0, "reordered": 0, "errors": 0} for name in targets}
    try:
        for name, (_, req) in targets.items():  # warm-up
            conns[name].stream(req)
        for _ in range(streams):
            for name, (_, req) in targets.items():
                status, t0, toks = conns[name].stream(req)
                r = out[name]
                if status != 200 or not toks:
                    r["errors"] += 1
                    continue
                r["ttft"].append((toks[0][0] - t0) * 1000)
                r["gaps"].extend((b[0] - a[0]) * 1000 for a, b in zip(toks, toks[1:]))
                lost, reordered = check_sequence([t for _, t in toks], chunks)
                r["lost"] += lost
                r["reordered"] += reordered
    finally:
        for c in conns.values():
            c.close()
    return {name: {"streams": len(r["ttft"]), "errors": r["errors"],
                   "ttft_p50_ms": round(pct(r["ttft"], 50), 3), "ttft_p99_ms": round(pct(r["ttft"], 99), 3),
                   "gap_p50_ms": round(pct(r["gaps"], 50), 3), "gap_p99_ms": round(pct(r["gaps"], 99), 3),
                   "lost_chunks": r["lost"], "reordered_chunks": r["reordered"]} for name, r in out.items()}


def check_sequence(seen: list[int], expected: int) -> tuple[int, int]:
    """(lost, reordered) for a stream that should carry 0 .. expected-1 in order."""
    reordered = sum(1 for a, b in zip(seen, seen[1:]) if b <= a)
    lost = max(0, expected - len(set(seen) & set(range(expected))))
    return lost, reordered


async def concurrent_streams(port: int, request: bytes, n: int, chunks: int, batch: int = 50,
                             batch_gap: float = 0.02, timeout: float = 60.0) -> dict:
    """Opens `n` streams (ramped in batches, to stay inside the listen backlog), reads them all
    to the end and checks every stream's chunks."""
    stats = {"active": 0, "max_active": 0, "completed": 0, "failed": 0, "lost": 0, "reordered": 0}
    errors: dict[str, int] = {}

    async def one():
        writer = None
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status, _, chunked = parse_head(head[:-4])
            if status != 200 or not chunked:
                raise RuntimeError(f"status {status}")
            stats["active"] += 1
            stats["max_active"] = max(stats["max_active"], stats["active"])
            dec, sse, seen = ChunkDecoder(), b"", []
            try:
                while not dec.done:
                    data = await reader.read(65536)
                    if not data:
                        raise ConnectionError("closed mid-stream")
                    sse += dec.feed(data)
                    cut = sse.rfind(b"\n\n")
                    if cut >= 0:
                        seen.extend(int(m) for m in TOKEN_RE.findall(sse, 0, cut))
                        sse = sse[cut + 2:]
            finally:
                stats["active"] -= 1
            lost, reordered = check_sequence(seen, chunks)
            stats["lost"] += lost
            stats["reordered"] += reordered
            stats["completed"] += 1
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
            stats["failed"] += 1
            key = type(exc).__name__ + (f": {exc}" if str(exc) else "")
            errors[key[:120]] = errors.get(key[:120], 0) + 1
        finally:
            if writer is not None:
                writer.close()

    started = time.perf_counter()
    tasks = []
    for i in range(n):
        if i and i % batch == 0:
            await asyncio.sleep(batch_gap)
        tasks.append(asyncio.create_task(one()))
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout)
    except asyncio.TimeoutError:
        errors["timeout"] = sum(1 for t in tasks if not t.done())
    stats.pop("active")
    return {**stats, "streams": n, "chunks_per_stream": chunks, "seconds": round(time.perf_counter() - started, 2),
            "errors": errors}
