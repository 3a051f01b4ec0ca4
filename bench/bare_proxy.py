"""The Python ceiling: a bare aiohttp pass-through proxy. One shared ClientSession, no auth,
no parsing: the request body goes up as bytes, the answer comes back as bytes (streamed
chunk by chunk when the upstream streams).

    python -m bench.bare_proxy --port 9002 --upstream http://127.0.0.1:9001 [--uvloop]
"""

from __future__ import annotations

import argparse
import asyncio

import aiohttp
from aiohttp import web

UPSTREAM = web.AppKey("upstream", str)
SESSION = web.AppKey("session", aiohttp.ClientSession)


async def forward(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    headers = {"Content-Type": request.headers.get("Content-Type", "application/json"),
               "Authorization": "Bearer sk-bench-upstream"}
    url = request.app[UPSTREAM] + request.rel_url.path_qs
    async with request.app[SESSION].request(request.method, url, data=body, headers=headers) as up:
        ctype = up.headers.get("Content-Type", "application/json")
        if ctype.startswith("text/event-stream"):
            resp = web.StreamResponse(status=up.status, headers={"Content-Type": ctype, "Cache-Control": "no-cache"})
            await resp.prepare(request)
            async for piece in up.content.iter_any():
                await resp.write(piece)
            await resp.write_eof()
            return resp
        return web.Response(body=await up.read(), status=up.status, headers={"Content-Type": ctype})


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _session_ctx(app: web.Application):
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0)
    app[SESSION] = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None))
    yield
    await app[SESSION].close()


def make_app(upstream: str) -> web.Application:
    app = web.Application()
    app[UPSTREAM] = upstream.rstrip("/")
    app.cleanup_ctx.append(_session_ctx)
    app.router.add_get("/healthz", healthz)
    app.router.add_route("POST", "/{tail:.*}", forward)
    return app


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="bare aiohttp pass-through proxy (bench ceiling)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--uvloop", action="store_true")
    p.add_argument("--reuse-port", action="store_true")
    args = p.parse_args(argv)
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        raise SystemExit("the bench proxy listens on loopback only")
    # glibc raises its mmap threshold only after freeing a large mmapped block. Until then,
    # every 256 KiB recv buffer asyncio allocates is an mmap/mremap/munmap round trip (about
    # 10 µs a request here). infer0 crosses that line while starting up (SQLite, templates);
    # do the same, so the ceiling is not handicapped by an allocator quirk.
    del bytearray(4 << 20)[:]
    loop = None
    if args.uvloop:
        import uvloop
        loop = uvloop.new_event_loop()
        asyncio.set_event_loop(loop)
    web.run_app(make_app(args.upstream), host=args.host, port=args.port, access_log=None, print=None,
                loop=loop, reuse_port=args.reuse_port or None)


if __name__ == "__main__":
    main()
