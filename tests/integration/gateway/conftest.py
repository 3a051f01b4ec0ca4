"""Fixtures: a real aiohttp ClientSession and fake upstreams on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from infer0app.gateway.providers.base import Route
from tests.support.backend import parametrize_backend
from tests.fakes import FakeUpstream, run_fake

WIRES = ["openai", "anthropic", "gemini", "azure", "sandbox"]


@dataclass
class Upstream:
    wire: str
    route: Route
    fake: FakeUpstream | None  # None for the sandbox (no upstream)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture(params=WIRES)
async def upstream(request: pytest.FixtureRequest) -> AsyncIterator[Upstream]:
    async for up in _upstream(request.param):
        yield up


@pytest.fixture(params=[w for w in WIRES if w != "sandbox"])
async def remote_upstream(request: pytest.FixtureRequest) -> AsyncIterator[Upstream]:
    """Only the wires with a real (fake) provider behind them: the sandbox answers locally."""
    async for up in _upstream(request.param):
        yield up


async def _upstream(wire: str) -> AsyncIterator[Upstream]:
    if wire == "sandbox":
        yield Upstream("sandbox", Route(kind="sandbox", wire="sandbox", base_url="", model="sandbox-echo-1"), None)
        return
    async with run_fake(wire) as fake:
        yield Upstream(wire, fake.route(), fake)


def pytest_generate_tests(metafunc):
    """Each test that reaches infer0 runs on SQLite and on PostgreSQL (tests/support/backend.py)."""
    parametrize_backend(metafunc)
