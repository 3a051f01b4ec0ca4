"""Issue 17 §3, the newcomer walk, over real HTTP without JavaScript: provider labels said once,
the provider form showing only the fields a kind takes and starting on the sandbox, a model
required where a kind has none, a test result naming host and cause, the dashboard's connected
apps, and a usable page (not a 405) on GET of every POST-only form target."""

from __future__ import annotations

import re

import pytest

from infer0app import keys
from infer0app.services import accounts, apps, grants, providers
from infer0app.services.usage_log import UsageRecord, insert_batch
from tests.support.browser import Browser
from tests.support.processes import free_port

SANDBOX = "Sandbox (free, deterministic)"


@pytest.fixture
async def site(server):
    srv = await server()
    browser = Browser(str(srv.make_url("")).rstrip("/"))
    yield srv, browser
    await browser.close()


def connect_app(srv, email: str, conn_id: int, name: str = "Acme Notes") -> int:
    """The signed-up user `email` has authorized a new app on connection `conn_id`; the grant id."""
    store = srv.app[keys.STORE]
    user = accounts.get_user_by_email(store, email)
    dev = accounts.create_user(store, f"dev-{name.replace(' ', '')}@example.com", None, actor="cli:test")
    app, _ = apps.create_app(store, dev.id, name=name, redirect_uris=["https://notes.example/cb"], actor="cli:test")
    grants.approve(store, user_id=user.id, app_id=app.id, provider_id=conn_id, model="", scope="",
                   redirect_uri="https://notes.example/cb", code_challenge=None, code_challenge_method=None)
    return next(g.id for g in grants_of(srv, user.id) if g.app_id == app.id)


def grants_of(srv, user_id: int):
    from infer0app.services import grant_views
    return grant_views.list_grants(srv.app[keys.STORE], user_id=user_id)


def add_sandbox(srv, email: str, name: str = "") -> int:
    store, vault = srv.app[keys.STORE], srv.app[keys.VAULT]
    user = accounts.get_user_by_email(store, email)
    return providers.add_connection(store, vault, user.id, kind="sandbox", name=name).id


def field_group(html: str, name: str) -> str:
    match = re.search(rf'<div class="field" data-field="{name}"[^>]*>.*?</div>', html, re.S)
    assert match, f"no {name} field group"
    return match.group(0)


def shown(html: str, name: str) -> bool:
    group = field_group(html, name)
    opening = group.split(">", 1)[0]
    tag = re.search(rf'<input id="{name}"[^>]*>', group).group(0)
    assert ("hidden" in opening) == ("disabled" in tag), "a hidden field must be disabled (never sent)"
    return "hidden" not in opening


# -- labels ---------------------------------------------------------------------------------
async def test_a_connection_named_after_its_kind_is_labelled_once_everywhere(site):
    srv, browser = site
    await browser.signup("lena@example.com")
    conn = add_sandbox(srv, "lena@example.com")  # no name: it is named after its kind
    mine = add_sandbox(srv, "lena@example.com", name="Play")
    connect_app(srv, "lena@example.com", conn)
    for path in ("/", "/providers", "/connections"):
        _, html = await browser.get(path)
        assert f"{SANDBOX} ({SANDBOX})" not in html, path
        assert f"{SANDBOX}</strong> <span class=\"muted\">{SANDBOX}" not in html, path
    _, html = await browser.get("/connections")
    assert f"<option value=\"{conn}\" selected>{SANDBOX}</option>" in html
    assert f"<option value=\"{mine}\" >Play ({SANDBOX})</option>" in html
    _, html = await browser.get("/providers")
    card = html[html.index(f'id="conn-{conn}"'):].split("</li>")[0]
    assert card.count(SANDBOX) == 1


# -- the add form ---------------------------------------------------------------------------
async def test_the_add_form_starts_on_the_sandbox_and_shows_only_its_fields(site):
    srv, browser = site
    await browser.signup("nina@example.com")
    _, html = await browser.get("/providers")
    assert '<input type="hidden" name="kind" value="sandbox" data-kind-value>' in html
    assert re.search(r'<option value="sandbox" selected', html)
    assert not shown(html, "api_key") and not shown(html, "base_url") and not shown(html, "api_version")


@pytest.mark.parametrize("kind,key,base_url,api_version", [
    ("openai", True, True, False),
    ("azure-openai", True, True, True),
    ("openai-compatible", True, True, False),
    ("sandbox", False, False, False),
])
async def test_picking_a_kind_without_javascript_shows_the_fields_it_takes(site, kind, key, base_url, api_version):
    srv, browser = site
    await browser.signup("omar@example.com")
    resp, html = await browser.get(f"/providers?kind={kind}")
    assert resp.status == 200
    assert f'<input type="hidden" name="kind" value="{kind}" data-kind-value>' in html
    assert (shown(html, "api_key"), shown(html, "base_url"), shown(html, "api_version")) == (key, base_url, api_version)
    assert 'value="Show its fields"' in html  # the no-JavaScript way to switch kinds


async def test_an_unknown_kind_in_the_address_falls_back_to_the_sandbox(site):
    srv, browser = site
    await browser.signup("pia@example.com")
    resp, html = await browser.get("/providers?kind=<script>")
    assert resp.status == 200 and '<input type="hidden" name="kind" value="sandbox" data-kind-value>' in html


async def test_a_kind_without_a_default_model_is_not_saved_without_one(site):
    srv, browser = site
    await browser.signup("quinn@example.com")
    resp, html = await browser.submit("/providers", "/providers", {
        "kind": "openai-compatible", "base_url": "https://llm.example.com/v1", "api_key": "", "model": ""})
    assert resp.status == 400 and "Other OpenAI-compatible needs a model name" in html
    assert '<input id="model" name="model" maxlength="200" value="" aria-invalid="true"' in html
    _, html = await browser.get("/providers")
    assert "No provider connected yet" in html
    # Azure's deployment cannot be emptied on the edit page either
    resp, _ = await browser.submit("/providers", "/providers", {
        "kind": "azure-openai", "base_url": "https://res.openai.azure.com", "api_key": "azure-key-0123456789",
        "model": "gpt4o-deploy"})
    _, html = await browser.get("/providers")
    cid = re.findall(r'id="conn-(\d+)"', html)[-1]
    resp, html = await browser.submit(f"/providers/{cid}", f"/providers/{cid}", {
        "name": "Azure", "base_url": "https://res.openai.azure.com", "model": "", "api_key": ""})
    assert resp.status == 400 and "deployment name" in html
    _, edit = await browser.get(f"/providers/{cid}")
    assert 'value="gpt4o-deploy"' in edit and 'value="2024-10-21"' in edit  # the saved api-version is shown


async def test_a_key_sent_for_a_kind_without_one_is_not_stored(site):
    srv, browser = site
    await browser.signup("rae@example.com")
    resp, html = await browser.submit("/providers", "/providers", {"kind": "sandbox", "api_key": "sk-stray-0123456789"})
    assert resp.status == 200 and "sk-stray" not in html and "none needed" in html


# -- the test result --------------------------------------------------------------------------
async def test_an_unreachable_provider_is_named_with_its_host_and_the_cause(site):
    srv, browser = site
    await browser.signup("sam@example.com")
    port = free_port()  # nothing listens there (127.0.0.1 is allowed for the fakes)
    await browser.submit("/providers", "/providers", {
        "kind": "openai-compatible", "base_url": f"http://127.0.0.1:{port}/v1", "api_key": "sk-secret-0123456789",
        "model": "m"})
    _, html = await browser.get("/providers")
    cid = re.findall(r'id="conn-(\d+)"', html)[-1]
    _, html = await browser.submit("/providers", f"/providers/{cid}/test", {})
    assert (f"Could not reach Other OpenAI-compatible at 127.0.0.1:{port}: connection refused "
            "(nothing listens at that port?).") in html
    assert "The provider answered" not in html and "sk-secret" not in html and "/v1" not in \
        re.search(r'<p class="alert error" role="status">(.*?)</p>', html, re.S).group(1)


# -- the dashboard ----------------------------------------------------------------------------
async def test_the_dashboard_lists_connected_apps_with_provider_requests_and_a_failing_test(site):
    srv, browser = site
    await browser.signup("tia@example.com")
    _, html = await browser.get("/")
    assert "No app connected yet" in html
    conn = add_sandbox(srv, "tia@example.com", name="Play")
    gid = connect_app(srv, "tia@example.com", conn)
    user = accounts.get_user_by_email(srv.app[keys.STORE], "tia@example.com")
    app_id = next(g.app_id for g in grants_of(srv, user.id) if g.id == gid)
    insert_batch(srv.app[keys.STORE], [UsageRecord(user.id, app_id, gid, "sandbox", "sandbox-echo-1", 200, 5.0, False)
                                       for _ in range(3)])
    _, html = await browser.get("/")
    item = re.search(rf'<li id="home-grant-{gid}">.*?</li>', html, re.S).group(0)
    assert "Acme Notes" in item and f"Play ({SANDBOX})" in item
    assert '<span class="requests">3</span> requests in 30 days' in item
    assert "last test failed" not in item
    providers.record_test(srv.app[keys.STORE], conn, False, None)
    _, html = await browser.get("/")
    item = re.search(rf'<li id="home-grant-{gid}">.*?</li>', html, re.S).group(0)
    assert f'href="/providers#conn-{conn}">its provider\'s last test failed</a>' in item


# -- GET on POST-only form targets --------------------------------------------------------------
async def test_get_logout_offers_a_sign_out_button(site):
    srv, browser = site
    await browser.signup("uma@example.com")
    resp, html = await browser.get("/logout")
    assert resp.status == 200 and "Sign out?" in html and "uma@example.com" in html
    assert re.search(r'<form method="post" action="/logout".*?<button type="submit"[^>]*>Sign out</button>', html, re.S)
    resp, _ = await browser.submit("/logout", "/logout", {"confirm": "yes"}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/login"
    resp, _ = await browser.get("/", allow_redirects=False)
    assert resp.status in (302, 303) and resp.headers["Location"].startswith("/login")
    resp, _ = await browser.get("/logout", allow_redirects=False)  # signed out already: the sign-in page
    assert resp.status == 303 and resp.headers["Location"] == "/login"


async def test_every_browser_route_that_takes_a_post_also_answers_get(site):
    srv, browser = site
    posted_only = [r.canonical for r in srv.app.router.resources()
                   if not r.canonical.startswith(("/v1/", "/static")) and {"POST"} <= {x.method for x in r}
                   and "GET" not in {x.method for x in r}]
    assert posted_only == []
    await browser.signup("vic@example.com")
    conn = add_sandbox(srv, "vic@example.com")
    gid = connect_app(srv, "vic@example.com", conn)
    for path, target in ((f"/providers/{conn}/test", f"/providers#conn-{conn}"),
                         (f"/providers/{conn}/default", f"/providers#conn-{conn}"),
                         (f"/providers/{conn}/prices", f"/providers/{conn}/limits"),
                         (f"/connections/{gid}", f"/connections#grant-{gid}"),
                         (f"/connections/{gid}/limits", f"/connections#grant-{gid}"),
                         (f"/connections/{gid}/fallbacks", f"/connections#grant-{gid}"),
                         ("/device/consent", "/device")):
        resp, _ = await browser.get(path, allow_redirects=False)
        assert (resp.status, resp.headers.get("Location")) == (303, target), path
