"""Each test here that reaches infer0 runs on SQLite and on PostgreSQL (tests/support/backend.py)."""

import pytest

from tests.support.backend import parametrize_backend
from tests.support.oauth import World


def pytest_generate_tests(metafunc):
    parametrize_backend(metafunc)


@pytest.fixture
async def world(server):
    """The real app on loopback with its store (tests/support/oauth.py)."""
    w = World(await server())
    yield w
    await w.close()
