import pytest

from tests.support.oauth import World


@pytest.fixture
async def world(server):
    w = World(await server())
    yield w
    await w.close()
