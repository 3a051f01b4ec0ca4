"""Gateway unit fixtures: a real aiohttp ClientSession, and the network edge mocked by aioresponses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace

import aiohttp
import pytest
from aioresponses import aioresponses
from aioresponses import core as aioresponses_core


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class _Response(aiohttp.ClientResponse):
    """aioresponses 0.7.9 predates the `stream_writer` argument aiohttp 3.14 requires."""

    def __init__(self, method, url, **kwargs) -> None:
        kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


@pytest.fixture
def mocked(monkeypatch: pytest.MonkeyPatch) -> Iterator[aioresponses]:
    monkeypatch.setattr(aioresponses_core, "ClientResponse", _Response)
    with aioresponses() as m:
        yield m
