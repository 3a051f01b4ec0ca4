"""The I/O shell of the chat pipeline - the only gateway module doing HTTP.

    result = await complete(http, route, body)            # non-streaming
    result = await stream(http, route, body)              # streaming
    async with result:
        async for frame in result: await response.write(frame)
    record(result.usage)

`http` is the app's one shared `aiohttp.ClientSession`; `route` says where the call
goes (provider, model, key); `body` is the app's decoded JSON request (use
`params.parse_body` for raw bytes). Both calls apply the params policy and the
provider's profile first (`params.prepare`: 400 on a contract break; what was dropped,
renamed or adjusted is in `changes`, sent to the app as the `x-infer0-*-params` headers).

Errors before any byte reached the app raise `GatewayError` (status, OpenAI error
object, extra headers such as `retry-after`) - see `gateway/errors.py` for the status
codes. Redirects are never followed (`allow_redirects=False`: a 3xx is a provider
failure), and a destination the session's egress connector refuses answers 403
`provider_destination_refused` (DESIGN.md §3.12). Once a stream has started, failures become an OpenAI error chunk followed by
`data: [DONE]`, so the app's SDK raises and the connection ends cleanly.

Every wire format goes through the same adapter calls (`providers.base.Adapter`): build
the request, send it, read an error or parse the answer (a body, or a stream through
the adapter's `StreamTranslator`). Only the transport differs: an adapter whose `local`
upstream is set (the sandbox) is answered in-process instead of over HTTP.

Cancellation: leaving the `async with` block, calling `aclose()`, or the handler task
being cancelled while awaiting the next frame closes the upstream connection at once,
so a client hanging up cancels the upstream request.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import yarl

from infer0app.egress.connector import DestinationRefused
from infer0app.gateway.deadline import answer_within
from infer0app.gateway.bounded_read import (MAX_ANSWER_BYTES, AnswerTooLarge, QuietTimer, read_answer,
                                             read_error_body)
from infer0app.gateway.errors import (
    bad_response_error,
    destination_refused_error,
    timeout_error,
    too_large_error,
    unreachable_error,
    upstream_error,
)
from infer0app.gateway.params import prepare
from infer0app.gateway.profiles.apply import Changes
from infer0app.gateway.providers.base import (
    GatewayError,
    LocalAnswer,
    Route,
    StreamTranslator,
    UpstreamRequest,
    Usage,
    gateway_error,
)
from infer0app.gateway.providers.registry import get_adapter
from infer0app.gateway.sse import SSEParser

log = logging.getLogger(__name__)

#: connect within 10 s; for a stream, at most 300 s between two reads.
DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=300)
LIST_TIMEOUT = aiohttp.ClientTimeout(total=20, sock_connect=10)


@dataclass(slots=True)  # built on every call: not frozen (providers/base.py UpstreamRequest)
class ChatResult:
    """A finished non-streaming call. `body` is OpenAI `chat.completion` JSON whose
    `model` is the model that answered; answer it with `status` and `headers`."""

    status: int
    body: bytes
    usage: Usage | None
    model: str
    changes: Changes
    content_type: str = "application/json"

    @property
    def dropped_params(self) -> tuple[str, ...]:
        return self.changes.dropped

    @property
    def headers(self) -> dict[str, str]:
        return self.changes.headers()


async def complete(
    http: aiohttp.ClientSession,
    route: Route,
    body: Mapping[str, Any],
    *,
    timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    clock: Callable[[], float] = time.time,
    raw: bytes | None = None,
) -> ChatResult:
    """One non-streaming call on `route`. `raw`: the bytes `body` was decoded from, which the
    adapter may send as they are when nothing in them changes (OpenAICompatAdapter.build_request)."""
    adapter = get_adapter(route.wire)
    prepared = prepare(route, body, adapter)
    created = int(clock())
    req = adapter.build_request(route, prepared.body, stream=False,
                                app_json=None if raw is None else (body, raw))
    local = adapter.local
    if local is None:
        try:
            # the whole-answer bound (timeout.total) by the loop's deadline sweep, not aiohttp's
            # timer per call (gateway/deadline.py); http.request directly, not through
            # send_upstream: one coroutine layer fewer on the hot path
            with answer_within(timeout.total):
                async with http.request(req.method, _url(req.url), headers=req.headers, data=req.body,
                                        timeout=_without_total(timeout), allow_redirects=False) as resp:
                    status, headers = resp.status, resp.headers
                    length = resp.content_length
                    if status < 300 and length is not None and length <= MAX_ANSWER_BYTES:
                        raw = await resp.read()  # framed and small enough: read_answer's own first case, inline
                    else:
                        raw = await (read_answer(resp) if status < 300 else read_error_body(resp))
        except TimeoutError:
            raise timeout_error(route) from None
        except DestinationRefused:  # a ClientError too: caught first
            raise destination_refused_error() from None
        except aiohttp.ClientError:
            raise unreachable_error(route) from None
        except AnswerTooLarge:
            raise too_large_error(route) from None
    else:
        answer = local.answer(req, created=created)
        raw, status, headers = answer.body, answer.status, answer.headers
    if status >= 300:
        raise upstream_error(route, status, adapter.read_error(status, raw), headers)
    try:
        parsed = adapter.parse_response(route, raw, created=created)
    except (ValueError, TypeError, KeyError, AttributeError):
        raise bad_response_error(route) from None
    return ChatResult(200, parsed.body, parsed.usage, parsed.model, prepared.changes)


class LocalResponse:
    """A `LocalAnswer` read the way the pipeline reads an `aiohttp.ClientResponse`
    (status, headers, `read()`, `content.readany()`, `release()`, `close()`)."""

    __slots__ = ("status", "headers", "_body")

    def __init__(self, answer: LocalAnswer) -> None:
        self.status = answer.status
        self.headers = answer.headers
        self._body = answer.body

    @property
    def content(self) -> LocalResponse:
        return self

    async def read(self) -> bytes:
        return self._body

    async def readany(self) -> bytes:
        body, self._body = self._body, b""
        return body

    def release(self) -> None:
        pass

    def close(self) -> None:
        pass


class StreamResult:
    """An open stream of OpenAI SSE frames (bytes), ending with `data: [DONE]\\n\\n`.

    Iterate it once. `usage` (None until the provider reported it) and `model` are
    filled in as frames pass; read them after iteration. Use `async with` (or call
    `aclose()`) so the upstream connection is released even if iteration stops early.
    """

    status = 200
    content_type = "text/event-stream"

    def __init__(
        self,
        route: Route,
        changes: Changes,
        translator: StreamTranslator,
        response: aiohttp.ClientResponse | LocalResponse,
        quiet_limit: float | None = None,
    ) -> None:
        self.route = route
        self.changes = changes
        self.dropped_params = changes.dropped
        self._translator = translator
        self._resp = response
        self._parser = SSEParser()
        self._quiet = QuietTimer(quiet_limit)  # bytes but no event for too long: a timeout too
        self._pending: deque[bytes] = deque()
        self._eof = False
        self._closed = False

    @property
    def usage(self) -> Usage | None:
        return self._translator.usage

    @property
    def model(self) -> str:
        return self._translator.model or self.route.model

    @property
    def headers(self) -> dict[str, str]:
        return self.changes.headers()

    @property
    def error(self) -> GatewayError | None:
        """The error that ended the stream, if one did (it was sent as a chunk)."""
        return self._translator.error

    async def _pump(self, *, raise_errors: bool) -> None:
        tr = self._translator
        try:
            chunk = await self._resp.content.readany()
        except TimeoutError:
            err = timeout_error(self.route)
        except aiohttp.ClientError:
            err = unreachable_error(self.route)
        else:
            frames: list[bytes] = []
            try:
                events = self._parser.feed(chunk) if chunk else self._parser.flush()
                for event in events:
                    frames.extend(tr.feed(event))
            except (ValueError, TypeError, KeyError, AttributeError):
                log.warning("unreadable stream event from %s", self.route.provider_label, exc_info=True)
                frames.extend(tr.abort(bad_response_error(self.route, "an unreadable stream event")))
                self._pending.extend(frames)
                self._eof = True
                self._close(clean=False)
                return
            if not chunk or tr.error is not None or tr.done:
                frames.extend(tr.finish())
                self._eof = True
                self._close(clean=True)  # release(): pooled if the body ended, else dropped
            self._pending.extend(frames)
            if self._eof or self._quiet.saw(events):
                return
            err = timeout_error(self.route)
        if raise_errors:
            raise err
        self._pending.extend(tr.abort(err))
        self._eof = True
        self._close(clean=False)

    async def _prime(self) -> None:
        """Read until the first content frame, so early failures are real HTTP errors."""
        tr = self._translator
        try:
            while not self._eof and not tr.started and tr.error is None:
                await self._pump(raise_errors=True)
        except BaseException:
            self._close(clean=False)
            raise
        if tr.error is not None and tr.error_before_output:
            self._close(clean=False)
            raise tr.error

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        try:
            while True:
                while self._pending:
                    yield self._pending.popleft()
                if self._eof or self._closed:
                    return
                await self._pump(raise_errors=False)
        finally:
            self._close(clean=self._eof)

    def _close(self, *, clean: bool) -> None:
        if self._closed:
            return
        self._closed = True
        if clean:
            self._resp.release()
        else:
            self._resp.close()  # drops the connection: the provider sees the hang-up

    async def aclose(self) -> None:
        self._close(clean=False)

    async def __aenter__(self) -> StreamResult:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._close(clean=False)


async def stream(
    http: aiohttp.ClientSession,
    route: Route,
    body: Mapping[str, Any],
    *,
    timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    clock: Callable[[], float] = time.time,
) -> StreamResult:
    adapter = get_adapter(route.wire)
    prepared = prepare(route, body, adapter)
    created = int(clock())
    req = adapter.build_request(route, prepared.body, stream=True)
    translator = adapter.stream_translator(route, prepared.body, include_usage=prepared.include_usage, created=created)
    local = adapter.local
    if local is None:
        resp = await send_upstream(http, route, req, timeout)
    else:
        resp = LocalResponse(local.answer(req, created=created))
    if resp.status >= 300:
        try:
            raw = await (read_error_body(resp) if local is None else resp.read())
        finally:
            resp.release()
        raise upstream_error(route, resp.status, adapter.read_error(resp.status, raw), resp.headers)
    result = StreamResult(route, prepared.changes, translator, resp, timeout.sock_read)
    await result._prime()
    return result


async def list_models(
    http: aiohttp.ClientSession, route: Route, *, timeout: aiohttp.ClientTimeout = LIST_TIMEOUT
) -> list[str]:
    """The provider's model ids - what the dashboard's "Test connection" calls.
    Raises GatewayError carrying the provider's own words on failure."""
    adapter = get_adapter(route.wire)
    req = adapter.models_request(route)
    local = adapter.local
    if local is None:
        raw, status, headers = await fetch_upstream(http, route, req, timeout)
    else:
        answer = local.answer(req, created=int(time.time()))
        raw, status, headers = answer.body, answer.status, answer.headers
    if status >= 300:
        failure = adapter.read_error(status, raw)
        if failure.category == "not_found":
            raise gateway_error(
                "provider_not_found",
                f"{route.provider_label} has no model list at this address (HTTP 404). Check the base URL.",
            )
        raise upstream_error(route, status, failure, headers, for_user=True)
    try:
        return adapter.parse_models(raw)
    except (ValueError, TypeError, KeyError):
        raise bad_response_error(route, "a model list infer0 cannot read") from None


async def send_upstream(
    http: aiohttp.ClientSession, route: Route, req: UpstreamRequest, timeout: aiohttp.ClientTimeout
) -> aiohttp.ClientResponse:
    """The one door for an upstream call (DESIGN.md §3.12), answer headers read, body not yet:
    redirects are never followed (a 3xx is the caller's provider error), and a failure to get
    an answer becomes the gateway's error: timeout -> 504 `provider_timeout`, a destination the
    egress policy refuses -> 403 `provider_destination_refused`, any other connection error ->
    502 `provider_unreachable`. `complete()` writes the same chain inline (one coroutine layer
    fewer on the hot path); every other call site goes through here."""
    try:
        return await http.request(
            req.method, _url(req.url), headers=req.headers, data=req.body, timeout=timeout,
            allow_redirects=False,
        )
    except TimeoutError:
        raise timeout_error(route) from None
    except DestinationRefused:  # a ClientError too: caught first
        raise destination_refused_error() from None
    except aiohttp.ClientError:
        raise unreachable_error(route) from None


async def fetch_upstream(
    http: aiohttp.ClientSession, route: Route, req: UpstreamRequest, timeout: aiohttp.ClientTimeout
) -> tuple[bytes, int, Any]:
    """`send_upstream`, then the whole body: (body bytes, HTTP status, response headers). A body
    that times out or breaks while being read maps like a failed send."""
    resp = await send_upstream(http, route, req, timeout)
    try:
        async with resp:
            raw = await (read_answer(resp) if resp.status < 300 else read_error_body(resp))
            return raw, resp.status, resp.headers
    except TimeoutError:
        raise timeout_error(route) from None
    except aiohttp.ClientError:
        raise unreachable_error(route) from None
    except AnswerTooLarge:
        raise too_large_error(route) from None


@functools.lru_cache(maxsize=16)
def _without_total(timeout: aiohttp.ClientTimeout) -> aiohttp.ClientTimeout:
    """`timeout` with its `total` left to `answer_within` (a handful of settings: built once each)."""
    if timeout.total is None:
        return timeout
    return aiohttp.ClientTimeout(connect=timeout.connect, sock_read=timeout.sock_read,
                                 sock_connect=timeout.sock_connect, ceil_threshold=timeout.ceil_threshold)


@functools.lru_cache(maxsize=1024)
def _url(url: str) -> yarl.URL:
    """Provider URLs are few and fixed: parse each once, not on every call (yarl is not free).
    One it cannot parse (a host IDNA cannot encode, saved before the form refused such hosts)
    is aiohttp's InvalidURL, a ClientError: `provider_unreachable`, not a 500."""
    try:
        return yarl.URL(url)
    except ValueError:  # UnicodeError is one
        raise aiohttp.InvalidURL(url) from None
