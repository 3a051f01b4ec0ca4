"""Witnesses for egress tests: listeners that count connections, a recorder of every connect()
the process attempts, and a resolver answering from a table (no DNS needed offline).

    async with CountingListener("127.0.0.1") as target:     # answers 200 "ok" by default
        ...                                                 # target.port, target.accepted
    with ConnectRecorder() as attempts:                     # sys.audit "socket.connect"
        ...
    assert attempts.addresses == []
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Iterable, Mapping

from aiohttp.abc import AbstractResolver, ResolveResult

#: The `--upstream-allow` every test server gets unless a test says otherwise: the provider
#: fakes (tests/fakes) listen on 127.0.0.1, which infer0 refuses by default. Tests of the
#: refusal itself pass `upstream_allow=""` (or a narrower entry) explicitly.
FAKES_ALLOW = "127.0.0.1"


class CountingListener:
    """A real TCP listener on `host` (port 0: any free port; pass one to share a port across
    loopback addresses). Counts accepted connections, reads one request head, answers
    `response` (bytes of a whole HTTP/1.1 response) and closes."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, response: bytes | None = None) -> None:
        self.host, self.port = host, port
        self.response = response if response is not None else http_response(200, b'{"data": []}')
        self.accepted = 0
        self._server: asyncio.base_events.Server | None = None

    async def __aenter__(self) -> CountingListener:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def url(self, path: str = "/") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(self.response)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def http_response(status: int, body: bytes = b"", headers: Mapping[str, str] | None = None) -> bytes:
    head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Content-Type: application/json",
            "Connection: close"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class MapResolver(AbstractResolver):
    """Resolves names from a table {name: [address, ...]}; unknown names fail like NXDOMAIN.
    A value may be a list of lists: successive lookups get successive answers (DNS rebinding)."""

    def __init__(self, table: Mapping[str, Iterable[str] | list[list[str]]]) -> None:
        self._table = {k.lower(): list(v) for k, v in table.items()}
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        self.lookups.append(host)
        answers = self._table.get(host.lower().rstrip("."))
        if answers is None:
            raise OSError(socket.EAI_NONAME, "Name or service not known")
        if answers and isinstance(answers[0], list):
            answers = answers.pop(0) if len(answers) > 1 else answers[0]
        return [{"hostname": host, "host": a, "port": port, "proto": 0, "flags": 0,
                 "family": socket.AF_INET6 if ":" in a else socket.AF_INET} for a in answers]

    async def close(self) -> None:
        return None


class ConnectRecorder:
    """Records the address of every socket connect() this process attempts while active
    (Python's audit event "socket.connect", raised before the system call)."""

    _active: list[ConnectRecorder] = []
    _installed = False

    def __init__(self) -> None:
        self.addresses: list[tuple] = []

    def __enter__(self) -> ConnectRecorder:
        if not ConnectRecorder._installed:
            sys.addaudithook(ConnectRecorder._hook)  # cannot be removed: it checks _active
            ConnectRecorder._installed = True
        ConnectRecorder._active.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        ConnectRecorder._active.remove(self)

    @staticmethod
    def _hook(event: str, args: tuple) -> None:
        if event == "socket.connect" and ConnectRecorder._active:
            for recorder in ConnectRecorder._active:
                recorder.addresses.append(args[1])
