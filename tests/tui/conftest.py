"""TUI fixtures: a data dir populated through the services, and the real admin app from its factory."""

from __future__ import annotations

import contextlib
import re
from html import unescape

import pytest

from admin_tui.app import make_admin_app
from infer0app.services.datadir import open_data_dir
from tests.tui.seed import seed


@pytest.fixture
def seeded(data_dir):
    return seed(data_dir)


@pytest.fixture
def admin_app(make_settings):
    def make(**overrides):
        return make_admin_app(make_settings(**overrides))
    return make


@contextlib.contextmanager
def opened_store(data_dir):
    """The data dir opened the way the CLI opens it, for setup before or checks after the app runs.

    Peewee binds the models to one database per process, so while the app runs, tests go
    through the app's own store instead: `call(app, fn, ...)`.
    """
    store, vault = open_data_dir(data_dir, create=False)
    try:
        yield store, vault
    finally:
        store.close()


def call(app, fn, *args, **kwargs):
    """Run a service, or the test's own query, against the running app's store (as the server or
    the CLI would). Unlike the screens' AdminContext.call, a test may read rows back."""
    store = app.ctx.store
    if not store.db.is_closed():
        return fn(store, *args, **kwargs)
    with store.db.connection_context():
        return fn(store, *args, **kwargs)


async def settle(pilot, rounds: int = 6) -> None:
    """Let workers finish and their messages land (a loaded list may start a detail load)."""
    app = pilot.app
    for _ in range(rounds):
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in app.workers):
            break


async def goto(pilot, key: str) -> None:
    """Wait for the data dir to be open, then switch section by its number key."""
    await settle(pilot)
    assert pilot.app.ctx is not None, "the admin app did not open the data dir"
    await pilot.press(key)
    await settle(pilot)


def screen_text(app) -> str:
    """Everything visible on the terminal, as plain text."""
    svg = app.export_screenshot()
    text = unescape(" ".join(re.findall(r">([^<>]*)</text>", svg))).replace("\xa0", " ")
    return re.sub(r"[ ]+", " ", text)
