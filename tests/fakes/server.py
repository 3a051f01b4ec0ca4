"""Run a fake upstream on 127.0.0.1 (ephemeral port) for the length of an `async with`.

    from tests.fakes import run_fake

    async with run_fake("anthropic") as fake:          # or "openai", "gemini", "azure"
        route = fake.route()                           # a gateway Route with the valid key
        result = await pipeline.complete(http, route, body)
        assert fake.requests[-1].json["max_tokens"] == 4096
        fake.knobs.fail_status = 429                   # flip behaviour at run time

`fake.route(api_key="wrong")` gives the provider's real 401 (or Gemini's 400) body;
`fake.route(kind="groq")` speaks the same wire under another provider kind.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from infer0app.gateway.providers.base import Route
from tests.fakes.brain import Knobs

VALID_KEY = "sk-fake-valid-0123456789abcdef"

_ROOTS = {"openai": "/v1", "gemini": "/v1beta/openai", "azure": "", "anthropic": ""}
_MODELS = {
    "openai": ["gpt-4o-mini", "gpt-4o"],
    "gemini": ["gemini-2.5-flash", "gemini-3-flash-preview"],
    "azure": ["gpt-4o-mini", "gpt-4o"],
    "anthropic": ["claude-sonnet-4-5", "claude-haiku-4-5"],
}
_DEFAULT_MODEL = {"openai": "gpt-4o-mini", "gemini": "gemini-2.5-flash", "azure": "chat-deploy", "anthropic": "claude-sonnet-4-5"}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    json: Any


@dataclass
class FakeState:
    kind: str
    key: str
    models: list[str]
    deployments: list[str] = field(default_factory=lambda: ["chat-deploy"])
    knobs: Knobs = field(default_factory=Knobs)
    requests: list[Recorded] = field(default_factory=list)
    streams_started: int = 0
    streams_completed: int = 0
    disconnects: int = 0
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)

    def note_disconnect(self) -> None:
        self.disconnects += 1
        self.disconnected.set()


STATE: web.AppKey[FakeState] = web.AppKey("fake_state", FakeState)


@web.middleware
async def record(request: web.Request, handler: Any) -> web.StreamResponse:
    raw = await request.read()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    request.app[STATE].requests.append(
        Recorded(request.method, request.path, dict(request.query),
                 {k.lower(): v for k, v in request.headers.items()}, raw, parsed)
    )
    response = await handler(request)
    cookie = request.app[STATE].knobs.set_cookie
    if cookie is not None and not response.prepared:
        response.headers["Set-Cookie"] = cookie
    return response


async def write_frames(request: web.Request, resp: web.StreamResponse, frames: list[bytes], *,
                       delay: float, end: bool = True) -> web.StreamResponse:
    """Write SSE frames one by one; a client hang-up is recorded, not raised."""
    state = request.app[STATE]
    state.streams_started += 1
    stall_after = state.knobs.stall_after
    try:
        for i, frame in enumerate(frames):
            if stall_after is not None and i == stall_after:
                await asyncio.sleep(3600)  # a hung upstream; ends when the client goes away
            if delay:
                await asyncio.sleep(delay)
            await resp.write(frame)
        if end:
            await resp.write_eof()
    except asyncio.CancelledError:
        state.note_disconnect()
        raise
    except ConnectionError:
        state.note_disconnect()
        return resp
    state.streams_completed += 1
    return resp


@dataclass
class FakeUpstream:
    kind: str
    root_url: str
    state: FakeState

    @property
    def base_url(self) -> str:
        """What a user would type as the provider's base URL."""
        return self.root_url + _ROOTS[self.kind]

    @property
    def key(self) -> str:
        return self.state.key

    @property
    def knobs(self) -> Knobs:
        return self.state.knobs

    @property
    def requests(self) -> list[Recorded]:
        return self.state.requests

    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.state.requests if r.method == "POST"]

    def route(self, *, kind: str | None = None, model: str | None = None, api_key: str | None = "",
              **options: Any) -> Route:
        return Route(
            kind=kind or ("azure-openai" if self.kind == "azure" else self.kind),
            wire=self.kind,
            base_url=self.base_url,
            api_key=self.state.key if api_key == "" else api_key,
            model=model or _DEFAULT_MODEL[self.kind],
            options=options,
        )


def make_app(kind: str, state: FakeState) -> web.Application:
    app = web.Application(middlewares=[record])
    app[STATE] = state
    if kind == "anthropic":
        from tests.fakes.anthropic_fake import add_routes
    else:
        from tests.fakes.openai_fake import add_routes
    add_routes(app, kind)
    return app


@asynccontextmanager
async def run_fake(kind: str, *, key: str = VALID_KEY, **knobs: Any) -> AsyncIterator[FakeUpstream]:
    """Start the fake `kind` ("openai", "anthropic", "gemini", "azure") on loopback."""
    if kind not in _ROOTS:
        raise ValueError(f"no fake for {kind!r}")
    state = FakeState(kind=kind, key=key, models=list(_MODELS[kind]), knobs=Knobs(**knobs))
    server = TestServer(make_app(kind, state), host="127.0.0.1")
    await server.start_server(shutdown_timeout=0.5)
    try:
        yield FakeUpstream(kind, str(server.make_url("")).rstrip("/"), state)
    finally:
        await server.close()
