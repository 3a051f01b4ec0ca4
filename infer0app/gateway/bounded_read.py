"""Reading a provider's answer without letting a broken or hostile one take the server with it.

A provider's non-streaming answer is read into memory before it is parsed; a stream's
events are parsed as they come. Three limits keep both bounded (issue 18 §3):

* `read_answer`: a body larger than `MAX_ANSWER_BYTES` (16 MiB, far beyond any chat answer,
  images included) is abandoned at the limit (`AnswerTooLarge`; the caller answers 502
  `provider_bad_response`) and its connection dropped, instead of being read whole.
* `read_error_body`: an error answer (status >= 300) is read only up to `ERROR_BODY_BYTES`:
  the message a provider puts there is short, and the rest is never looked at.
* `QuietTimer`: a stream whose bytes keep coming but whose events do not (one byte a
  second; SSE comments forever) is cut after the upstream timeout without a complete event,
  the same bound `sock_read` puts on a stream that stops sending altogether. (The SSE
  parser's own line limit is `gateway/sse.py`'s `MAX_EVENT_BYTES`.)
"""

from __future__ import annotations

import time

import aiohttp

MAX_ANSWER_BYTES = 16 * 1024 * 1024
ERROR_BODY_BYTES = 64 * 1024


class AnswerTooLarge(Exception):
    """The provider's answer passed MAX_ANSWER_BYTES; nothing more was read."""


async def read_answer(resp: aiohttp.ClientResponse, limit: int = MAX_ANSWER_BYTES) -> bytes:
    """The whole body (bytes), or AnswerTooLarge as soon as it is known to pass `limit` bytes:
    from Content-Length before reading anything, else while reading. Read errors
    (aiohttp.ClientError, TimeoutError) propagate."""
    length = resp.content_length
    if length is not None:
        if length > limit:
            raise AnswerTooLarge
        return await resp.read()  # framed by Content-Length: aiohttp reads no more than that
    parts: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise AnswerTooLarge
        parts.append(chunk)
    return b"".join(parts)


async def read_error_body(resp: aiohttp.ClientResponse, limit: int = ERROR_BODY_BYTES) -> bytes:
    """At most the first `limit` bytes of an error answer; b"" if reading it fails (the status
    alone then says what happened). The caller releases the response (dropping a connection
    whose body was not read to its end)."""
    buf = bytearray()
    try:
        async for chunk in resp.content.iter_any():
            buf += chunk
            if len(buf) >= limit:
                break
    except (TimeoutError, aiohttp.ClientError):
        return b""
    return bytes(buf[:limit])


class QuietTimer:
    """Seconds since a stream last produced a complete event, checked as chunks arrive.

    `saw(events)` after each chunk: True while the stream may go on, False once more than
    `limit` seconds passed with bytes but no event. Costs nothing while events flow (no clock
    read), one monotonic() per eventless chunk otherwise."""

    __slots__ = ("limit", "_since")

    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        self._since: float | None = None

    def saw(self, events: list) -> bool:
        if events or self.limit is None:
            self._since = None
            return True
        now = time.monotonic()
        if self._since is None:
            self._since = now
            return True
        return now - self._since <= self.limit
