"""Slow clients cannot hold connections: a body that does not arrive is answered 408 and the
connection closed (`--body-read-timeout`); headers trickling in are cut off
(`--keepalive-timeout`). Raw sockets, because HTTP clients send what they declare.

The waits below are safety bounds on a test that would otherwise hang, not timed assertions:
the server is asked to give up after 1 s and must do so at all.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from infer0app import keys
from tests.support.processes import ServerProcess
from tests.support.seed import seed_grant

SAFETY = 60  # seconds: far beyond the 1 s (plus aiohttp's 10 s lingering close) the server is given


async def _connect(url: str):
    host, port = url.removeprefix("http://").split(":")
    return await asyncio.open_connection(host, int(port))


async def _declare_and_stall(url: str, path: str, content_type: str, token: str | None = None) -> bytes:
    """Declare a 1 MiB body, send 10 bytes of it, and return everything the server sends
    until it closes the connection."""
    reader, writer = await _connect(url)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    writer.write((f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: {content_type}\r\n{auth}"
                  "Content-Length: 1048576\r\n\r\n").encode() + b'{"messages')
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), SAFETY)  # read() returns at EOF: the server closed
    finally:
        writer.close()


def _split(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


async def _healthy(url: str) -> int:
    reader, writer = await _connect(url)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), SAFETY)
    writer.close()
    return _split(answer)[0]


@pytest.fixture
async def slow_server(server):
    srv = await server(body_read_timeout=1, keepalive_timeout=1)
    return srv, str(srv.make_url("")).rstrip("/")


async def test_stalled_bodies_get_408_in_each_halfs_language_and_are_closed(slow_server):
    """/v1 answers OpenAI's error object, the OAuth token endpoint RFC 6749 JSON, a page HTML;
    each connection is then closed (after aiohttp's bounded lingering read), and the server
    keeps serving. The three stall at once."""
    srv, url = slow_server
    seeded = seed_grant(srv.app[keys.STORE], srv.app[keys.VAULT], kind="sandbox")
    chat, token, page = await asyncio.gather(
        _declare_and_stall(url, "/v1/chat/completions", "application/json", seeded.access_token),
        _declare_and_stall(url, "/v1/oauth/token", "application/x-www-form-urlencoded"),
        _declare_and_stall(url, "/login", "application/x-www-form-urlencoded"))

    status, headers, body = _split(chat)
    assert status == 408 and headers["connection"].lower() == "close"
    error = json.loads(body)["error"]
    assert error["code"] == "request_timeout" and error["type"] == "invalid_request_error"

    status, _, body = _split(token)
    assert status == 408 and json.loads(body)["error"] == "invalid_request"

    status, headers, _ = _split(page)
    assert status == 408 and headers["content-type"].startswith("text/html")
    assert await _healthy(url) == 200


async def test_body_arriving_in_pieces_within_the_timeout_is_served(server):
    srv = await server(body_read_timeout=30)
    url = str(srv.make_url("")).rstrip("/")
    seeded = seed_grant(srv.app[keys.STORE], srv.app[keys.VAULT], kind="sandbox")
    body = json.dumps({"messages": [{"role": "user", "content": "in two pieces"}]}).encode()
    reader, writer = await _connect(url)
    writer.write((f"POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                  f"Authorization: Bearer {seeded.access_token}\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {len(body)}\r\n\r\n").encode() + body[:7])
    await writer.drain()
    await asyncio.sleep(0.2)  # the handler is waiting on the rest of the body
    writer.write(body[7:])
    await writer.drain()
    status, _, answer = _split(await asyncio.wait_for(reader.read(), SAFETY))
    writer.close()
    assert status == 200
    assert "in two pieces" in json.loads(answer)["choices"][0]["message"]["content"]


async def test_headers_trickling_in_are_cut_off(slow_server):
    """Slowloris: one byte of a header value every 0.2 s, never the line that ends the headers."""
    _, url = slow_server
    reader, writer = await _connect(url)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Drip: ")
    answer = None
    for _ in range(SAFETY * 5):
        try:
            writer.write(b"a")
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(100), 0.2)
        except asyncio.TimeoutError:
            continue
        except ConnectionError:
            answer = b""
        break
    writer.close()
    assert answer == b"", f"the server kept waiting for headers that never ended (got {answer!r})"
    assert await _healthy(url) == 200


def test_serve_applies_the_body_read_timeout(data_dir):
    """The real `infer0 serve` (run_app) passes the setting to aiohttp's connection handler too."""
    proc = ServerProcess(data_dir, "--body-read-timeout", "1")
    try:
        status = asyncio.run(_first_answer(proc.url, "/v1/oauth/token"))
        assert status == 408
        assert asyncio.run(_healthy(proc.url)) == 200
    finally:
        proc.stop()


async def _first_answer(url: str, path: str) -> int:
    """The status answered to a stalled 1 MiB form body (without waiting for the close)."""
    reader, writer = await _connect(url)
    writer.write((f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  "Content-Length: 1048576\r\n\r\ngrant_type").encode())
    await writer.drain()
    try:
        line = await asyncio.wait_for(reader.readline(), SAFETY)
    finally:
        writer.close()
    return int(line.split()[1])
