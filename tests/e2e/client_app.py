"""A small third-party web app on loopback that uses infer0 the way the developer page says:

1. "Connect infer0" sends the browser to {infer0}/oauth/authorize?client_id&redirect_uri&response_type=code&state;
2. /callback checks `state` and exchanges the code at {infer0}/v1/oauth/token (form-encoded,
   client_id + client_secret + redirect_uri), keeping the tokens server-side;
3. /ask calls {infer0}/v1/chat/completions with the official `openai` SDK (AsyncOpenAI,
   base_url={infer0}/v1, api_key=<access token>), plain or streaming, and shows the answer.

Every call's outcome is kept in `ClientApp.calls` so the test can check exactly what the SDK
got back, including the 401 after the user revokes the app.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode

import aiohttp
import openai
from aiohttp import web
from aiohttp.test_utils import TestServer

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Acme Notes</title>
<link rel="icon" href="data:,">
<style>
 body {{ font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #1b1f24; }}
 .card {{ border: 1px solid #d0d7de; border-radius: 8px; padding: 1rem; margin: 1rem 0; }}
 .button, button {{ display: inline-block; background: #1f6feb; color: #fff; border: 0; border-radius: 6px;
                    padding: .6rem 1rem; font-size: 1rem; text-decoration: none; cursor: pointer; margin: .2rem 0; }}
 pre {{ white-space: pre-wrap; word-break: break-word; background: #f6f8fa; padding: .75rem; border-radius: 6px; }}
 .error {{ color: #cf222e; }}
</style></head>
<body><h1>Acme Notes</h1>{body}</body></html>"""


@dataclass
class Call:
    mode: str  # "plain" | "stream"
    ok: bool
    text: str = ""
    model: str = ""
    status: int | None = None  # HTTP status of an error
    error: str = ""
    chunks: int = 0


@dataclass
class ClientApp:
    infer0_url: str
    client_id: str = ""
    client_secret: str = ""
    url: str = ""  # set when started
    access_token: str = ""
    refresh_token: str = ""
    token_response: dict = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    _states: set[str] = field(default_factory=set)
    _server: TestServer | None = None

    @property
    def redirect_uri(self) -> str:
        return self.url + "/callback"

    async def start(self, port: int) -> None:
        """Listen on 127.0.0.1:port (the port is chosen first so the redirect URI can be registered)."""
        app = web.Application()
        app.router.add_get("/", self.home)
        app.router.add_get("/connect", self.connect)
        app.router.add_get("/callback", self.callback)
        app.router.add_post("/ask", self.ask)
        self._server = TestServer(app, host="127.0.0.1", port=port)
        await self._server.start_server()
        self.url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()

    def page(self, title: str, body: str) -> web.Response:
        return web.Response(text=PAGE.format(title=html.escape(title), body=body), content_type="text/html")

    async def home(self, request: web.Request) -> web.Response:
        if not self.access_token:
            return self.page("Welcome", '<div class="card"><p>Acme Notes can write with AI using your own '
                                        'provider, through infer0.</p>'
                                        '<a class="button" id="connect" href="/connect">Connect infer0</a></div>')
        rows = "".join(
            f'<div class="card call" data-mode="{c.mode}" data-ok="{str(c.ok).lower()}">'
            f"<strong>{c.mode}</strong> "
            + (f"<pre>{html.escape(c.text)}</pre><small>model {html.escape(c.model)}</small>" if c.ok else
               f'<p class="error">infer0 answered {c.status}: {html.escape(c.error)}</p>')
            + "</div>" for c in self.calls)
        return self.page("Connected", '<p id="connected">Connected to infer0.</p>'
                         '<form method="post" action="/ask"><input type="hidden" name="mode" value="plain">'
                         '<button id="ask-plain">Ask (plain)</button></form>'
                         '<form method="post" action="/ask"><input type="hidden" name="mode" value="stream">'
                         '<button id="ask-stream">Ask (streaming)</button></form>' + rows)

    async def connect(self, request: web.Request) -> web.Response:
        state = secrets.token_urlsafe(16)
        self._states.add(state)
        params = {"client_id": self.client_id, "redirect_uri": self.redirect_uri, "response_type": "code",
                  "state": state}
        if getattr(self, "prompt", ""):  # e.g. "consent": ask the user again although they approved before
            params["prompt"] = self.prompt
        query = urlencode(params)
        raise web.HTTPFound(f"{self.infer0_url}/oauth/authorize?{query}")

    async def callback(self, request: web.Request) -> web.Response:
        state = request.query.get("state", "")
        if state not in self._states:
            return self.page("Error", '<p class="error">Unknown state.</p>')
        self._states.discard(state)
        if "error" in request.query:
            return self.page("Not connected", f'<p class="error" id="denied">{html.escape(request.query["error"])}</p>')
        form = {"grant_type": "authorization_code", "code": request.query.get("code", ""),
                "client_id": self.client_id, "client_secret": self.client_secret,
                "redirect_uri": self.redirect_uri}
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{self.infer0_url}/v1/oauth/token", data=form) as resp:
                body = await resp.json()
                if resp.status != 200:
                    return self.page("Error", f'<p class="error">token exchange failed: {html.escape(str(body))}</p>')
        self.token_response = body
        self.access_token = body["access_token"]
        self.refresh_token = body.get("refresh_token", "")
        raise web.HTTPFound("/")

    async def ask(self, request: web.Request) -> web.Response:
        mode = (await request.post()).get("mode", "plain")
        sdk = openai.AsyncOpenAI(base_url=self.infer0_url + "/v1", api_key=self.access_token, max_retries=0,
                                 timeout=30)
        messages = [{"role": "user", "content": f"Hello from Acme ({mode})"}]
        try:
            if mode == "stream":
                parts, chunks, model = [], 0, ""
                stream = await sdk.chat.completions.create(
                    model="(ignored — uses user's configured model)", messages=messages, stream=True)
                async for chunk in stream:
                    chunks += 1
                    model = chunk.model or model
                    if chunk.choices and chunk.choices[0].delta.content:
                        parts.append(chunk.choices[0].delta.content)
                self.calls.append(Call(mode, True, "".join(parts), model, chunks=chunks))
            else:
                chat = await sdk.chat.completions.create(
                    model="(ignored — uses user's configured model)", messages=messages)
                self.calls.append(Call(mode, True, chat.choices[0].message.content or "", chat.model))
        except openai.APIStatusError as exc:
            self.calls.append(Call(mode, False, status=exc.status_code, error=str(exc.message)))
        finally:
            await sdk.close()
        raise web.HTTPFound("/")
