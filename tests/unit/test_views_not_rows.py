"""Services hand out views, never rows: the check pages and the TUI run on what they receive."""

from __future__ import annotations

import pytest

from infer0app.app import create_app
from infer0app.services import accounts, providers
from infer0app.services.datadir import open_data_dir
from infer0app.services.views import RowLeak, check_no_rows
from infer0app.store.models import ProviderConnection
from infer0app.web.render import render


@pytest.fixture
def opened(tmp_path):
    store, vault = open_data_dir(tmp_path / "d")
    yield store, vault
    store.close()


def test_a_row_is_found_wherever_it_hides(opened):
    store, vault = opened
    user = accounts.create_user(store, "a@example.com", None, actor="user:a@example.com")
    view = providers.add_connection(store, vault, user.id, kind="sandbox", actor="user:a@example.com")
    row = ProviderConnection.get_by_id(view.id)
    for value, where in [(row, "ctx"), ({"conns": [row]}, "ctx['conns'][0]"),
                         ({"pair": (1, {"deep": row})}, "ctx['pair'][1]['deep']")]:
        with pytest.raises(RowLeak) as caught:
            check_no_rows(value, "ctx")
        assert where in str(caught.value) and "ProviderConnection" in str(caught.value)


def test_services_answer_pages_with_views(opened):
    store, vault = opened
    user = accounts.create_user(store, "b@example.com", "a long enough password", actor="user:b@example.com")
    conn = providers.add_connection(store, vault, user.id, kind="sandbox", actor="user:b@example.com")
    results = [user, accounts.authenticate(store, "b@example.com", "a long enough password"),
               accounts.get_user_by_email(store, "b@example.com"), accounts.list_users(store), conn,
               providers.list_connections(store, user.id), providers.get_connection(store, user.id, conn.id),
               providers.update_connection(store, vault, user.id, conn.id, name="n", base_url="", model="m",
                                           actor="user:b@example.com")]
    check_no_rows(results)
    assert conn.key_tail == "" and conn.models == () and conn.is_default


async def test_a_page_given_a_row_fails_loudly_not_lazily(aiohttp_client, make_settings, caplog):
    """A handler that slipped a row into a template context gets the 500 page and a logged
    RowLeak on its first run, instead of a lazy query on the event loop some day in production."""
    app = create_app(make_settings())

    async def leaky(request):
        return render(request, "dashboard/home.html", {"connections": [ProviderConnection(id=1, name="x")]})

    app.router.add_get("/test/leaky", leaky)
    client = await aiohttp_client(app)
    resp = await client.get("/test/leaky")
    html = await resp.text()
    assert resp.status == 500 and "Something went wrong" in html and "Traceback" not in html
    assert any("ProviderConnection row" in (r.exc_text or "") for r in caplog.records)
