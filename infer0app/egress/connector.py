"""The aiohttp connector every upstream call goes through: the policy, asked at connect time.

    connector = EgressConnector(EgressPolicy.parse(settings.upstream_allow), limit=0)
    session = aiohttp.ClientSession(connector=connector, ...)
    ...
    try:
        async with session.get(url, allow_redirects=False) as resp: ...
    except DestinationRefused as exc:  # a ClientConnectionError: catch it before ClientError
        ...  # str(exc) == REFUSED_MESSAGE, whatever the target was

Three checks, each before a packet leaves, so neither the URL's spelling, DNS answers
(rebinding included) nor a followed redirect can reach a refused address:

1. `EgressConnector.connect` - hosts that spell an address (aiohttp skips the resolver for
   those; legacy spellings like 2130706433 or 0x7f.1 are judged as the address they mean).
2. `EgressResolver` - host names: every resolved address is judged, refused ones are
   dropped, and if none is left the call is refused. aiohttp caches what it returns.
3. The connector's `socket_factory` (aiohttp >= 3.12 hands it the addrinfo about to be
   connected) - a fail-closed backstop on the exact socket address for any path the other
   two did not see.

The message never says which address, port or rule was involved: a refused destination
answers the same whether something listens there or not.
"""

from __future__ import annotations

import errno
import socket
from collections import OrderedDict
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from infer0app.egress.policy import EgressPolicy, IPAddress, parse_address_literal

REFUSED_MESSAGE = ("infer0 is not allowed to connect to this address; "
                   "ask the operator to allow it with --upstream-allow.")


class DestinationRefused(aiohttp.ClientConnectionError):
    """The egress policy refused an upstream destination; nothing was sent to it.

    One type, one message (`REFUSED_MESSAGE`) for every refusal. It is an
    `aiohttp.ClientConnectionError`, so code that only knows aiohttp errors still treats
    it as "could not connect" rather than crashing.
    """

    def __init__(self) -> None:
        super().__init__(REFUSED_MESSAGE)


class _SocketRefused(PermissionError):
    """Raised inside aiohappyeyeballs by the socket factory. It must be an OSError there (other
    exceptions break its happy-eyeballs race); `EgressConnector.connect` turns it back into
    DestinationRefused."""

    MARK = "infer0 egress policy"

    def __init__(self) -> None:
        super().__init__(errno.EACCES, self.MARK)


class _Vouched:
    """(address, port) pairs a host-name allow entry resolved to, so the socket backstop can
    let them through. Bounded: only allow-listed names add to it."""

    def __init__(self, size: int = 4096) -> None:
        self._pairs: OrderedDict[tuple[IPAddress, int], None] = OrderedDict()
        self._size = size

    def add(self, ip: IPAddress, port: int) -> None:
        self._pairs[(ip, port)] = None
        self._pairs.move_to_end((ip, port))
        while len(self._pairs) > self._size:
            self._pairs.popitem(last=False)

    def __contains__(self, pair: tuple[IPAddress, int]) -> bool:
        return pair in self._pairs


class EgressResolver(AbstractResolver):
    """Resolves with `inner` (default: aiohttp's DefaultResolver), then keeps only the
    addresses the policy allows; raises DestinationRefused if none are left."""

    def __init__(self, policy: EgressPolicy, inner: AbstractResolver | None = None,
                 vouched: _Vouched | None = None) -> None:
        self._policy = policy
        self._inner = inner if inner is not None else DefaultResolver()
        self._vouched = vouched if vouched is not None else _Vouched()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        by_name = self._policy.allows_name(host, port)
        kept = []
        for result in results:
            ip = parse_address_literal(result["host"])
            if ip is None:
                continue
            if by_name:
                self._vouched.add(ip, result["port"])
                kept.append(result)
            elif self._policy.allows_address(ip, result["port"]):
                kept.append(result)
        if not kept:
            raise DestinationRefused()
        return kept

    async def close(self) -> None:
        await self._inner.close()


class EgressConnector(aiohttp.TCPConnector):
    """A TCPConnector whose every connection attempt is judged by an EgressPolicy."""

    #: (URL host, port) verdicts kept by `connect`; past this many, the table starts over.
    VERDICTS_MAX = 4096

    def __init__(self, policy: EgressPolicy, *, resolver: AbstractResolver | None = None,
                 **kwargs: Any) -> None:
        self._policy = policy
        # The policy is immutable, so a URL host's verdict never changes: judged once per
        # (host, port), not on every call (parsing and judging a literal cost ~10-20 µs a call).
        self._refused_literal: dict[tuple[str, int], bool] = {}
        self._vouched = _Vouched()
        self._egress_resolver = EgressResolver(policy, resolver, self._vouched)
        super().__init__(resolver=self._egress_resolver, socket_factory=self._open_socket, **kwargs)

    async def close(self, *args: Any, **kwargs: Any) -> None:
        # aiohttp closes only resolvers it made itself; ours wraps one it must release.
        closing = super().close(*args, **kwargs)
        if closing is not None:
            await closing
        await self._egress_resolver.close()

    async def connect(self, req: aiohttp.ClientRequest, traces: list[Any],
                      timeout: aiohttp.ClientTimeout) -> aiohttp.connector.Connection:
        where = (req.url.raw_host or "", req.port or 0)
        refused = self._refused_literal.get(where)
        if refused is None:
            literal = parse_address_literal(where[0])
            refused = literal is not None and not self._policy.allows_address(literal, where[1])
            if len(self._refused_literal) >= self.VERDICTS_MAX:
                self._refused_literal.clear()
            self._refused_literal[where] = refused
        if refused:
            raise DestinationRefused()
        try:
            return await super().connect(req, traces, timeout)
        except aiohttp.ClientConnectorError as exc:
            if _SocketRefused.MARK in str(exc.os_error):
                raise DestinationRefused() from None
            raise

    def _open_socket(self, addr_info: tuple[Any, ...]) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        ip = parse_address_literal(str(sockaddr[0]))
        port = int(sockaddr[1])
        if ip is None or not (self._policy.allows_address(ip, port) or (ip, port) in self._vouched):
            raise _SocketRefused()
        return socket.socket(family=family, type=type_, proto=proto)

