"""A row id in a page's path longer than a 64-bit integer is the router's friendly 404 on both
engines. SQLite's driver refuses such a Python int outright (OverflowError: a 500 page there)
while PostgreSQL simply found no row; ids are at most 18 digits now (web/routes.py)."""

from __future__ import annotations

from tests.support.oauth import World

HUGE = "9" * 23


async def test_an_id_past_64_bits_is_not_found_on_every_engine(server):
    world = World(await server())
    try:
        browser = await world.user("ids@example.com")
        for path in (f"/providers/{HUGE}", f"/providers/{HUGE}/limits"):
            resp, html = await browser.get(path)
            assert resp.status == 404 and "<!doctype html>" in html.lower(), path
    finally:
        await world.close()
