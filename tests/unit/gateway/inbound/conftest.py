"""A loopback stand-in for the inbound routes: the official SDKs talk to it, it translates
with the inbound modules, calls the real gateway pipeline against the fake providers in
tests/fakes, and translates the answer back. So the SDKs' own parsers judge our output,
and the providers' fakes judge what reaches them (Mock only at the network edge).

These stay unit tests of the translators (deterministic ids, every translation path on all three
wires); the real routes, with tokens, limits, usage and pass-through, are tested in
tests/integration/api/test_inbound_sdk.py."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from infer0app.errors.anthropic_errors import anthropic_error_body
from infer0app.gateway import pipeline
from infer0app.gateway.inbound import messages, responses, responses_output
from infer0app.gateway.inbound.messages_stream import MessagesStream
from infer0app.gateway.inbound.responses_stream import ResponsesStream
from infer0app.gateway.providers.base import GatewayError
from tests.fakes.server import FakeUpstream, run_fake


def counter_ids() -> Callable[[str], str]:
    """Deterministic ids: resp_1, msg_2, fc_3, ..."""
    n = itertools.count(1)
    return lambda prefix: f"{prefix}_{next(n)}"


@dataclass
class Shim:
    url: str
    fake: FakeUpstream
    http: aiohttp.ClientSession
    chat_bodies: list[dict[str, Any]] = field(default_factory=list)  # what went into the pipeline


SHIM = web.AppKey("shim", Shim)


async def _relay(request: web.Request, result: Any, translator: Any, opening: list[bytes]) -> web.StreamResponse:
    """The pipeline's stream through an inbound stream translator, as the real route does."""
    resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await resp.prepare(request)
    for frame in opening:
        await resp.write(frame)
    async with result:
        async for frame in result:
            for out in translator.feed_frame(frame):
                await resp.write(out)
    for out in translator.finish():
        await resp.write(out)
    return resp


async def _responses(request: web.Request) -> web.StreamResponse:
    shim = request.app[SHIM]
    route, http = shim.fake.route(), shim.http
    body = await request.json()
    try:
        chat = responses.to_chat(body)
        shim.chat_bodies.append(chat.body)
        if not chat.stream:
            result = await pipeline.complete(http, route, chat.body, clock=lambda: 1_700_000_000)
            return web.json_response(responses_output.to_response(json.loads(result.body), body))
        result = await pipeline.stream(http, route, chat.body, clock=lambda: 1_700_000_000)
    except GatewayError as err:
        return web.Response(status=err.status, body=err.to_json(), content_type="application/json")
    translator = ResponsesStream(body, model=route.model, created_at=1_700_000_000)
    return await _relay(request, result, translator, translator.start())


async def _messages(request: web.Request) -> web.StreamResponse:
    shim = request.app[SHIM]
    route, http = shim.fake.route(), shim.http
    body = await request.json()
    try:
        chat = messages.to_chat(body)
        shim.chat_bodies.append(chat.body)
        if not chat.stream:
            result = await pipeline.complete(http, route, chat.body)
            return web.json_response(messages.to_message(json.loads(result.body)))
        result = await pipeline.stream(http, route, chat.body)
    except GatewayError as err:
        return web.json_response(anthropic_error_body(err.code, err.status, err.message), status=err.status)
    return await _relay(request, result, MessagesStream(model=route.model), [])


@asynccontextmanager
async def run_shim(kind: str, **knobs: Any) -> AsyncIterator[Shim]:
    """The fake provider `kind` ("openai", "anthropic", "gemini") behind the shim."""
    async with run_fake(kind, **knobs) as fake, aiohttp.ClientSession() as http:
        app = web.Application()
        shim = app[SHIM] = Shim(url="", fake=fake, http=http)
        app.router.add_post("/v1/responses", _responses)
        app.router.add_post("/v1/messages", _messages)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        shim.url = str(server.make_url("/v1"))
        try:
            yield shim
        finally:
            await server.close()


@pytest.fixture(params=["openai", "anthropic", "gemini"])
async def shim(request: pytest.FixtureRequest) -> AsyncIterator[Shim]:
    async with run_shim(request.param) as running:
        yield running
