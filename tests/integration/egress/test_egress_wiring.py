"""The egress policy wired into the running server (issue 12 §1): chat calls, the dashboard's Test
button and redirects all go through the one upstream session, whose connector refuses loopback,
private and link-local destinations the operator did not allow - before any packet leaves.

Witnesses: a CountingListener on the refused address counts 0 accepted connections; the official
openai SDK sees 403 `provider_destination_refused` with the one fixed sentence; the Test button
shows that sentence, the same for an open port, a closed port and the metadata address.
"""

from __future__ import annotations

import html as html_lib
import re

import openai
import pytest

from infer0app import keys
from infer0app.egress import connector as egress_connector
from infer0app.egress.connector import REFUSED_MESSAGE
from tests.fakes import run_fake
from tests.support.browser import Browser
from tests.support.egress import ConnectRecorder, CountingListener, MapResolver, http_response
from tests.support.processes import free_port
from tests.support.seed import seed_grant

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}


async def _app_with_connection(server, base_url: str, *, allow: str = "", kind: str = "openai-compatible",
                               api_key: str = "sk-test-0123456789"):
    """infer0 with `--upstream-allow allow`, serving a user whose grant routes to `base_url`."""
    srv = await server(upstream_allow=allow)
    seeded = seed_grant(srv.app[keys.STORE], srv.app[keys.VAULT], kind=kind, base_url=base_url,
                        api_key=api_key, model="gpt-4o-mini")
    client = openai.AsyncOpenAI(base_url=str(srv.make_url("/v1")), api_key=seeded.access_token, max_retries=0)
    return srv, client


async def _chat(client: openai.AsyncOpenAI, *, stream: bool):
    if stream:
        async with await client.chat.completions.create(**CHAT, stream=True) as chunks:
            return [c async for c in chunks]
    return await client.chat.completions.create(**CHAT)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
async def test_sdk_chat_to_loopback_is_refused_and_nothing_connects(server, stream):
    async with CountingListener("127.0.0.1") as target:
        _, client = await _app_with_connection(server, target.url("/v1"))
        with pytest.raises(openai.PermissionDeniedError) as err:
            await _chat(client, stream=stream)
        assert err.value.status_code == 403
        assert err.value.body == {"message": REFUSED_MESSAGE, "type": "invalid_request_error",
                                  "code": "provider_destination_refused", "param": None}
        assert str(target.port) not in str(err.value.body)
        assert target.accepted == 0


async def test_chat_to_cloud_metadata_is_refused_before_any_connect(server):
    _, client = await _app_with_connection(server, "http://169.254.169.254/latest/v1")
    with ConnectRecorder() as attempts:
        with pytest.raises(openai.PermissionDeniedError) as err:
            await _chat(client, stream=False)
    assert err.value.body["code"] == "provider_destination_refused"
    assert not [a for a in attempts.addresses if a[0] == "169.254.169.254"]


async def test_v1_models_never_contacts_a_refused_address(server):
    """/v1/models answers from what infer0 stored for the grant; it opens no connection at all."""
    async with CountingListener("127.0.0.1") as target:
        _, client = await _app_with_connection(server, target.url("/v1"))
        models = await client.models.list()
        assert [m.id for m in models.data] == ["gpt-4o-mini"]
        with pytest.raises(openai.PermissionDeniedError):
            await _chat(client, stream=False)
        assert target.accepted == 0


@pytest.mark.parametrize("host", ["llm.attacker.example", "localhost"])
async def test_a_host_name_resolving_to_loopback_is_refused(server, monkeypatch, host):
    """An attacker's DNS name answering 127.0.0.1 (an injected resolver: DNS is the network edge),
    and `localhost` through the system resolver: both are judged on the resolved address."""
    resolver = MapResolver({"llm.attacker.example": ["127.0.0.1"]})
    if host != "localhost":
        monkeypatch.setattr(egress_connector, "DefaultResolver", lambda: resolver)
    async with CountingListener("127.0.0.1") as target:
        _, client = await _app_with_connection(server, f"http://{host}:{target.port}/v1")
        with pytest.raises(openai.PermissionDeniedError) as err:
            await _chat(client, stream=False)
        assert err.value.body["code"] == "provider_destination_refused"
        assert target.accepted == 0
    if host != "localhost":
        assert resolver.lookups == [host]  # refused on the answer, not on the spelling


# -- the dashboard's Test button ------------------------------------------------------------------
def _test_alert(page: str, cid: str) -> str:
    card = page[page.index(f'id="conn-{cid}"'):]
    match = re.search(r'<p class="alert (?:ok|error)" role="status">(.*?)</p>', card, re.S)
    assert match, card[:2000]
    return html_lib.unescape(match.group(1)).strip()


async def _press_test(browser: Browser, fields: dict) -> str:
    await browser.submit("/providers", "/providers", {"api_key": "", "model": "m", **fields})
    _, page = await browser.get("/providers")
    cid = re.findall(r'id="conn-(\d+)"', page)[-1]
    resp, page = await browser.submit("/providers", f"/providers/{cid}/test", {})
    assert resp.status == 200
    assert "last test failed" in page[page.index(f'id="conn-{cid}"'):].split("</li>")[0]
    return _test_alert(page, cid)


async def test_test_button_says_the_same_for_an_open_port_a_closed_port_and_metadata(server):
    srv = await server(upstream_allow="")
    browser = Browser(str(srv.make_url("")).rstrip("/"))
    try:
        await browser.signup("mallory@example.com")
        async with CountingListener("127.0.0.1") as open_port:
            said = {
                "open": await _press_test(browser, {"kind": "openai-compatible", "base_url": open_port.url("/v1")}),
                "closed": await _press_test(browser, {"kind": "openai-compatible",
                                                      "base_url": f"http://127.0.0.1:{free_port()}/v1"}),
                "metadata": await _press_test(browser, {"kind": "openai-compatible",
                                                        "base_url": "http://169.254.169.254/latest/v1"}),
                "ollama preset": await _press_test(browser, {"kind": "ollama", "base_url": ""}),
            }
            assert open_port.accepted == 0
    finally:
        await browser.close()
    assert set(said.values()) == {REFUSED_MESSAGE}, said


# -- an allowed local provider, as an operator sets up Ollama -------------------------------------
async def test_an_allow_listed_ollama_like_provider_works_end_to_end(server):
    async with run_fake("openai") as fake:  # speaks Ollama's OpenAI-compatible /v1
        port = int(fake.root_url.rsplit(":", 1)[1])
        srv, client = await _app_with_connection(server, fake.base_url, allow=f"127.0.0.1:{port}", kind="ollama",
                                                  api_key=fake.key)
        answer = await client.chat.completions.create(**CHAT)
        assert answer.choices[0].message.content
        chunks = await _chat(client, stream=True)
        assert any(c.choices and c.choices[0].delta.content for c in chunks)
        assert len(fake.chat_requests()) == 2

        browser = Browser(str(srv.make_url("")).rstrip("/"))
        try:
            await browser.signup("olga@example.com")
            _, add_page = await browser.get("/providers")
            assert "--upstream-allow 127.0.0.1:11434" in html_lib.unescape(add_page)
            await browser.submit("/providers", "/providers", {"kind": "ollama", "base_url": fake.base_url,
                                                                 "api_key": fake.key})
            _, page = await browser.get("/providers")
            cid = re.findall(r'id="conn-(\d+)"', page)[-1]
            _, page = await browser.submit("/providers", f"/providers/{cid}/test", {})
            assert _test_alert(page, cid) == "Connected. Found 2 models."
        finally:
            await browser.close()


async def test_allowing_one_port_does_not_open_the_others(server):
    async with CountingListener("127.0.0.1") as allowed, CountingListener("127.0.0.1") as other:
        _, client = await _app_with_connection(server, other.url("/v1"), allow=f"127.0.0.1:{allowed.port}")
        with pytest.raises(openai.PermissionDeniedError):
            await _chat(client, stream=False)
        assert other.accepted == 0


async def test_an_allow_listed_host_name_reaches_what_it_resolves_to(server, monkeypatch):
    async with run_fake("openai") as fake:
        port = int(fake.root_url.rsplit(":", 1)[1])
        monkeypatch.setattr(egress_connector, "DefaultResolver",
                            lambda: MapResolver({"ollama.lan": ["127.0.0.1"]}))
        _, client = await _app_with_connection(server, f"http://ollama.lan:{port}/v1", allow=f"ollama.lan:{port}",
                                               kind="ollama", api_key=fake.key)
        answer = await client.chat.completions.create(**CHAT)
        assert answer.choices[0].message.content and len(fake.chat_requests()) == 1


# -- redirects are never followed ----------------------------------------------------------------
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
async def test_a_provider_redirecting_to_a_refused_address_is_a_provider_error(server, stream):
    async with CountingListener("127.0.0.1") as target, CountingListener("127.0.0.1") as provider:
        provider.response = http_response(302, b"", {"Location": target.url("/v1/chat/completions")})
        _, client = await _app_with_connection(server, provider.url("/v1"), allow=f"127.0.0.1:{provider.port}")
        with pytest.raises(openai.APIStatusError) as err:
            await _chat(client, stream=stream)
        assert err.value.status_code == 424
        assert err.value.body["code"] == "provider_redirected"
        assert "redirect" in err.value.body["message"] and str(target.port) not in err.value.body["message"]
        assert provider.accepted == 1 and target.accepted == 0


async def test_the_test_button_does_not_follow_a_redirect_to_metadata(server):
    async with CountingListener("127.0.0.1") as provider:
        provider.response = http_response(307, b"", {"Location": "http://169.254.169.254/latest/meta-data/"})
        srv = await server(upstream_allow=f"127.0.0.1:{provider.port}")
        browser = Browser(str(srv.make_url("")).rstrip("/"))
        try:
            await browser.signup("rita@example.com")
            with ConnectRecorder() as attempts:
                said = await _press_test(browser, {"kind": "openai-compatible", "base_url": provider.url("/v1")})
        finally:
            await browser.close()
        assert "redirect" in said and "169.254" not in said
        assert provider.accepted == 1
        assert not [a for a in attempts.addresses if a[0] == "169.254.169.254"]


# -- every upstream call site, not only chat: embeddings (issue 14) goes through the same door --
async def _embed(client: openai.AsyncOpenAI):
    return await client.embeddings.create(model="text-embedding-3-small", input="hello")


async def test_sdk_embeddings_to_loopback_are_refused_and_nothing_connects(server):
    async with CountingListener("127.0.0.1") as target:
        _, client = await _app_with_connection(server, target.url("/v1"), kind="openai")
        with pytest.raises(openai.PermissionDeniedError) as err:
            await _embed(client)
        assert err.value.body["code"] == "provider_destination_refused"
        assert err.value.body["message"] == REFUSED_MESSAGE
        assert target.accepted == 0


async def test_embeddings_do_not_follow_a_provider_redirect(server):
    async with CountingListener("127.0.0.1") as target, CountingListener("127.0.0.1") as provider:
        provider.response = http_response(302, b"", {"Location": target.url("/v1/embeddings")})
        _, client = await _app_with_connection(server, provider.url("/v1"), kind="openai",
                                               allow=f"127.0.0.1:{provider.port},127.0.0.1:{target.port}")
        with pytest.raises(openai.APIStatusError) as err:
            await _embed(client)
        assert err.value.status_code == 424 and err.value.body["code"] == "provider_redirected"
        assert provider.accepted == 1 and target.accepted == 0  # even an allowed target: never followed
