"""POST /v1/responses (OpenAI Responses API) and POST /v1/messages (Anthropic Messages API).

Both take the chat path's steps (api/call_steps.py): the access token, the grant's route,
the grant's limits reserved before the provider is called and settled once with the real
usage (also for a cut stream or a failure), one usage record, the x-infer0-* and
x-ratelimit-* headers, and a stream prepared with the security, CORS and request-id headers.
Two ways to the provider:

* native: the connection speaks the app's API itself (an OpenAI connection for /v1/responses,
  an Anthropic one for /v1/messages): the body goes through as it is (gateway/passthrough.py);
* translated: every other connection: the app's body -> Chat Completions
  (gateway/inbound/), the gateway pipeline, and the answer or stream translated back.

/v1/responses errs in OpenAI's error object, like the rest of /v1. /v1/messages errs in
Anthropic's shape, `{"type": "error", "error": {"type", "message"}}` (status from the /v1
table, type from errors/anthropic_errors.py), also for a bad token, a limits refusal or an
unrouted method; it takes the token in `x-api-key` (what Anthropic's SDKs send) or in
`Authorization: Bearer`, and ignores `anthropic-version`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .. import keys
from ..errors.anthropic_errors import anthropic_error_body
from ..gateway import passthrough, pipeline
from ..gateway.inbound import messages, responses, responses_output
from ..gateway.inbound.common import ChatRequest
from ..gateway.inbound.messages_stream import MessagesStream
from ..gateway.inbound.responses_stream import ResponsesStream
from ..gateway.params import parse_body
from ..gateway.profiles.apply import Changes
from ..gateway.providers.base import GatewayError, Route, dump_json
from ..oauth.bearer import REALM, authenticate, resource_metadata_url
from ..services.grants import AccessContext
from ..services.limits import UNLIMITED, LimitGate, Reservation
from ..services.usage_log import UsageRecord
from .call_steps import (
    JSON,
    answer_headers,
    count,
    error_response,
    reserve,
    reserve_now,
    route_for,
    settle,
    stream_response,
    upstream_timeout,
)
from .limit_answers import streamed_text_chars
from .limit_failover import FailoverLimits

MESSAGES_PATH = "/v1/messages"


def is_messages_path(path: str) -> bool:
    """/v1/messages and what the anthropic SDK calls below it (count_tokens, batches): answered
    in Anthropic's error shape, which that SDK reads (an OpenAI-shaped 404 it did not)."""
    return path == MESSAGES_PATH or path.startswith(MESSAGES_PATH + "/")
# Generated text in a passed-through stream (Anthropic text/partial_json deltas, Responses
# deltas): what a stream cut before its usage is charged by.
_NATIVE_TEXT = re.compile(rb'"(?:text|partial_json|delta|thinking)"\s*:\s*"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class InboundApi:
    """What differs between the two inbound APIs; the steps are the same."""

    native_wire: str  # connections of this wire format speak the API natively ...
    native_kinds: frozenset[str] | None  # ... if their kind is one of these (None: any kind of that wire)
    native: passthrough.NativeApi
    check_native: Callable[[Mapping[str, Any]], None]  # refusals that apply before a pass-through too
    to_chat: Callable[[Mapping[str, Any]], ChatRequest]
    answer: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]]  # (chat.completion, app body)
    stream: Callable[[Mapping[str, Any], str], Any]  # (app body, model) -> translator
    error: Callable[[GatewayError], web.Response]

    def is_native(self, route: Route) -> bool:
        return route.wire == self.native_wire and (self.native_kinds is None or route.kind in self.native_kinds)


# -- /v1/messages in Anthropic's language ---------------------------------------------------
def anthropic_response(code: str | None, status: int, message: str, headers=None) -> web.Response:
    return web.json_response(anthropic_error_body(code, status, message), status=status, headers=headers)


def anthropic_error(err: GatewayError) -> web.Response:
    return anthropic_response(err.code, err.status, err.message, err.headers)


def as_anthropic(answer: web.Response | web.HTTPException) -> web.Response:
    """An OpenAI-shaped /v1 error answer (code and message in its body) in Anthropic's shape,
    with the same status and headers (WWW-Authenticate, Allow, Retry-After)."""
    try:
        error = json.loads(answer.text or "{}").get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, Mapping):
        error = {}
    headers = {k: v for k, v in answer.headers.items() if k.lower() not in ("content-length", "content-type")}
    return anthropic_response(error.get("code"), answer.status,
                              str(error.get("message") or "The request could not be served."), headers)


def _no_check(body: Mapping[str, Any]) -> None:
    """Anthropic judges its own API's bodies on a pass-through."""


MESSAGES_API = InboundApi(
    native_wire="anthropic", native_kinds=None, native=passthrough.NATIVE["messages"], check_native=_no_check,
    to_chat=messages.to_chat, answer=lambda chat, body: messages.to_message(chat),
    stream=lambda body, model: MessagesStream(model=model), error=anthropic_error)

RESPONSES_API = InboundApi(
    native_wire="openai", native_kinds=frozenset({"openai"}), native=passthrough.NATIVE["responses"],
    check_native=responses.check_stateless, to_chat=responses.to_chat, answer=responses_output.to_response,
    stream=lambda body, model: ResponsesStream(body, model=model, created_at=int(time.time())), error=error_response)


async def create_message(request: web.Request) -> web.StreamResponse:
    """POST /v1/messages."""
    token = request.headers.get("x-api-key", "").strip() or None
    if token is None and not request.headers.get("Authorization"):
        challenge = f'Bearer realm="{REALM}", resource_metadata="{resource_metadata_url(request)}"'  # RFC 9728 §5.1
        return anthropic_response("invalid_token", 401, "Missing access token: send it in the x-api-key header "
                                  "(or as Authorization: Bearer).", {"WWW-Authenticate": challenge})
    try:
        ctx = await authenticate(request, token)
    except web.HTTPException as exc:
        return as_anthropic(exc)
    return await _serve(request, ctx, MESSAGES_API)


async def create_response(request: web.Request) -> web.StreamResponse:
    """POST /v1/responses."""
    return await _serve(request, await authenticate(request), RESPONSES_API)


# -- the steps ------------------------------------------------------------------------------
async def _serve(request: web.Request, ctx: AccessContext, api: InboundApi) -> web.StreamResponse:
    started = time.perf_counter()
    app = request.app
    gate = app[keys.LIMITS]
    res = UNLIMITED
    rec = UsageRecord(user_id=ctx.user_id, app_id=ctx.app_id, grant_id=ctx.grant_id,
                      provider_kind=ctx.provider_kind or "", model=ctx.model or "", status=200,
                      latency_ms=0.0, streamed=False)
    try:
        raw = await request.read()
        body = parse_body(raw)
        model = body.get("model")  # a non-string is refused by the translation or the provider
        route = await route_for(request, ctx, model if isinstance(model, str) else None)
        rec.provider_kind, rec.model = route.kind, route.model
        native = api.native if api.is_native(route) else None
        if native is not None:
            api.check_native(body)
            chat = None
            estimate = {"max_tokens": body.get("max_tokens") or body.get("max_output_tokens")}
        else:
            chat = api.to_chat(body)
            estimate = chat.body
        if not gate.unlimited(ctx.grant_id, ctx.provider_id):
            res = (reserve_now(request, gate, ctx, route, estimate, len(raw))
                   or await reserve(request, gate, ctx, route, estimate, len(raw)))
        http = app[keys.HTTP]
        timeout = upstream_timeout(app[keys.SETTINGS].upstream_timeout)
        failover = FailoverLimits(request, ctx, estimate, len(raw), res,
                                  keep=api.is_native if native is not None else None)
        if body.get("stream") is True:
            rec.streamed = True
            if native is not None:
                return await _native_stream(request, api, route, body, rec, failover, timeout)
            return await _translated_stream(request, api, route, body, chat, rec, failover, timeout)
        timeout = upstream_timeout(app[keys.SETTINGS].upstream_timeout, True)  # the whole answer, not a stream
        if native is not None:
            route, done = await failover.first_answer(
                route, lambda r: passthrough.complete(http, r, native, body, timeout=timeout))
            res = failover.res  # the reservation the answer holds (failover may have moved it)
            answer, usage, model, extra = done.body, done.usage, done.model, {}
        else:
            route, result = await failover.first_answer(
                route, lambda r: pipeline.complete(http, r, chat.body, timeout=timeout))
            res = failover.res  # before translating the answer, which can fail
            answer = dump_json(api.answer(json.loads(result.body), body))
            usage, model, extra = result.usage, result.model, _changes_headers(chat, result.changes)
        rec.provider_kind = route.kind  # the connection that answered (failover)
        if not res.settled:
            settle(gate, res, usage, len(answer))
    except GatewayError as err:
        rec.fail(err.status, err.code or err.type)
        gate.settle(res, 0, 0)  # refused or failed before an answer: only the request counts
        return api.error(err)
    finally:
        gate.settle(res)  # still open (cancelled mid-call): the prompt as estimated
        rec.latency_ms = (time.perf_counter() - started) * 1000
        if not rec.streamed or rec.status != 200:
            app[keys.USAGE].record(rec)
    count(rec, usage)
    rec.model = model
    headers = answer_headers(route, model, extra)
    if res.seen:
        headers.update(res.headers())
    return web.Response(body=answer, status=200, content_type=JSON, headers=headers)


async def _translated_stream(request: web.Request, api: InboundApi, route: Route, body: dict, chat: ChatRequest,
                             rec: UsageRecord, failover: FailoverLimits, timeout) -> web.StreamResponse:
    http = request.app[keys.HTTP]
    route, result = await failover.first_answer(route, lambda r: pipeline.stream(http, r, chat.body, timeout=timeout))
    res = failover.res
    rec.provider_kind = route.kind
    limited, chars, started = not res.settled, 0, time.perf_counter()
    try:  # from here on, whatever fails, the `finally` settles the reservation the answer holds
        async with result:
            translator = api.stream(body, route.model)
            response = _open(request, route, _changes_headers(chat, result.changes), res)
            await response.prepare(request)
            for frame in getattr(translator, "start", list)():
                await response.write(frame)
            async for frame in result:
                if limited:
                    chars += streamed_text_chars(frame)
                for out in translator.feed_frame(frame):
                    await response.write(out)
            for out in translator.finish():
                await response.write(out)
            await response.write_eof()
        if result.error is not None:
            rec.fail(result.error.status, result.error.code or result.error.type)
    except (ConnectionResetError, ConnectionError):
        rec.fail(499, "client_closed")  # the client went away; leaving `async with` closed the upstream
    finally:
        _close(request, rec, res, limited, result.usage, result.model, chars, started)
    return response


async def _native_stream(request: web.Request, api: InboundApi, route: Route, body: dict, rec: UsageRecord,
                         failover: FailoverLimits, timeout) -> web.StreamResponse:
    http = request.app[keys.HTTP]
    route, stream = await failover.first_answer(
        route, lambda r: passthrough.open_stream(http, r, api.native, body, timeout=timeout))
    res = failover.res
    rec.provider_kind = route.kind
    limited, chars, started = not res.settled, 0, time.perf_counter()
    try:  # from here on, whatever fails, the `finally` settles the reservation the answer holds
        async with stream:
            response = _open(request, route, {}, res)
            await response.prepare(request)
            async for chunk in stream:
                if limited:
                    chars += sum(len(m) for m in _NATIVE_TEXT.findall(chunk))
                await response.write(chunk)
            await response.write_eof()
        if stream.error is not None:
            rec.fail(stream.error.status, stream.error.code or stream.error.type)
        elif stream.watch.failed:
            rec.fail(502, "provider_error")  # the provider's stream carried an error event
    except (ConnectionResetError, ConnectionError):
        rec.fail(499, "client_closed")
    finally:
        _close(request, rec, res, limited, stream.watch.usage, stream.watch.model or route.model, chars, started)
    return response


def _changes_headers(chat: ChatRequest, changes: Changes) -> dict[str, str]:
    """x-infer0-*-params: what the translation dropped plus what the provider's profile changed."""
    dropped = tuple(sorted(set(chat.dropped) | set(changes.dropped)))
    return Changes(dropped, changes.renamed, changes.adjusted).headers()


def _open(request: web.Request, route: Route, extra: dict[str, str], res: Reservation) -> web.StreamResponse:
    headers = answer_headers(route, route.model, extra)
    if res.seen:
        headers.update(res.headers())
    return stream_response(request, headers)


def _close(request: web.Request, rec: UsageRecord, res: Reservation, limited: bool, usage, model: str,
           chars: int, started: float) -> None:
    """A stream's end: its usage into the record and the reservation (once), the record queued."""
    rec.model = model
    count(rec, usage)
    if limited:
        gate: LimitGate = request.app[keys.LIMITS]
        settle(gate, res, usage, chars)
    rec.latency_ms += (time.perf_counter() - started) * 1000
    request.app[keys.USAGE].record(rec)
