"""Every audit row names its actor one way: user:<email|id>, cli:<login>, admin-tui:<login>,
client:<client_id> (services/audit.py), whichever face did the deed."""

from __future__ import annotations

import pytest

from infer0app.services import audit
from infer0app.services.datadir import open_data_dir
from infer0app.store.models import AuditEvent
from tests.support.audit import LOGIN, actors_by_action
from tests.support.processes import run_cli_json


def test_cli_actions_are_recorded_as_cli_and_the_login(data_dir):
    run_cli_json("users", "create", "--email", "dev@example.com", data_dir=data_dir)
    app = run_cli_json("apps", "create", "--owner", "dev@example.com", "--name", "A",
                       "--redirect-uri", "https://a.example/cb", data_dir=data_dir)
    run_cli_json("apps", "disable", "--client-id", app["client_id"], data_dir=data_dir)
    run_cli_json("providers", "add", "--user", "dev@example.com", "--kind", "sandbox", data_dir=data_dir)
    run_cli_json("users", "disable", "--email", "dev@example.com", data_dir=data_dir)
    actors = actors_by_action(data_dir)
    assert set(actors) >= {"user.create", "app.create", "app.disable", "provider.add", "user.disable"}
    assert set().union(*actors.values()) == {f"cli:{LOGIN}"}


async def test_page_actions_are_recorded_as_the_signed_in_user(browser, data_dir):
    await browser.signup("Pat@Example.com")
    resp, _ = await browser.submit("/providers", "/providers", {"kind": "sandbox", "name": "S"})
    assert resp.status == 200
    resp, _ = await browser.submit("/dev/apps", "/dev/apps", {"name": "Mine", "type": "public",
                                                             "redirect_uris": "http://127.0.0.1/cb"})
    assert resp.status == 200 and resp.history[0].status == 303  # registered, then redirected
    actors = actors_by_action(data_dir)
    assert set(actors) >= {"user.create", "user.signin", "provider.add", "app.create"}
    assert set().union(*actors.values()) == {"user:pat@example.com"}


@pytest.mark.parametrize("actor", ["cli", "signup", "oauth", "", "user:", "robot:x", "admin-tui"])
def test_an_actor_in_another_shape_is_refused(tmp_path, actor):
    store, _vault = open_data_dir(tmp_path / "d")
    try:
        with pytest.raises(ValueError, match="audit actor"):
            audit.record(store, actor, "user.create", "x@example.com")
        assert AuditEvent.select().count() == 0
    finally:
        store.close()
