import pytest

from tests.support.backend import parametrize_backend
from tests.support.oauth import World


@pytest.fixture
async def world(server):
    w = World(await server())
    yield w
    await w.close()


def pytest_generate_tests(metafunc):
    """Each test that reaches infer0 runs on SQLite and on PostgreSQL (tests/support/backend.py)."""
    parametrize_backend(metafunc)
