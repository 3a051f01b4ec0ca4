"""SSRF through provider base URLs (issue 12 §1): the egress connector on a real aiohttp session.

Every refused URL must raise DestinationRefused with the one message, while a real listener on
loopback counts 0 accepted connections and the process attempts no connect() at all (Python's
"socket.connect" audit event, raised before the system call - so also for addresses nothing here
listens on, like 169.254.169.254). An allow-listed destination still works.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from infer0app.egress.connector import REFUSED_MESSAGE, DestinationRefused, EgressConnector
from infer0app.egress.policy import EgressPolicy
from tests.support.egress import ConnectRecorder, CountingListener, MapResolver, http_response

#: Stand-in DNS: names an attacker controls, pointing at internal addresses.
DNS = {
    "localhost": ["127.0.0.1", "::1"],
    "metadata.attacker.example": ["169.254.169.254"],
    "internal.attacker.example": ["10.0.0.5"],
    "mapped.attacker.example": ["::ffff:127.0.0.1"],
    "aws6.attacker.example": ["fd00:ec2::254"],
}
TIMEOUT = aiohttp.ClientTimeout(total=10)


def _v6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


# Spellings of a refused destination. {p}: the port of a listener on 127.0.0.1 (and ::1, if the
# machine has IPv6), so a spelling that got through would be counted there.
CORPUS = [
    "http://127.0.0.1:{p}/v1/models",
    "https://127.0.0.1:{p}/v1/models",
    "http://127.0.0.1.:{p}/",                       # trailing root dot
    "http://127.0.0.2:{p}/",                        # all of 127/8 is loopback
    "http://2130706433:{p}/",                       # decimal
    "http://0x7f000001:{p}/",                       # hex
    "http://0x7f.1:{p}/",                           # hex, two parts
    "http://017700000001:{p}/",                     # octal
    "http://0177.0.0.1:{p}/",                       # octal first octet
    "http://127.1:{p}/",                            # two-part
    "http://127.0.1:{p}/",                          # three-part
    "http://127.000.000.001:{p}/",                  # zero-padded
    "http://①②⑦.0.0.1:{p}/",                        # Unicode digits (IDNA maps them)
    "http://127。0。0。1:{p}/",                       # ideographic full stops
    "http://0.0.0.0:{p}/",                          # unspecified: Linux connects it to loopback
    "http://0:{p}/",
    "http://[::1]:{p}/",
    "http://[::]:{p}/",
    "http://[::ffff:127.0.0.1]:{p}/",               # IPv4-mapped
    "http://[0:0:0:0:0:ffff:7f00:1]:{p}/",
    "http://[::127.0.0.1]:{p}/",                    # IPv4-compatible
    "http://[64:ff9b::7f00:1]:{p}/",                # NAT64
    "http://[2002:7f00:1::]:{p}/",                  # 6to4
    "http://[fe80::1%25lo]:{p}/",                   # link-local with a zone
    "http://evil.example@127.0.0.1:{p}/",           # userinfo: the host is after the @
    "http://api.openai.com:443@127.0.0.1:{p}/",
    "http://localhost:{p}/",
    "http://LOCALHOST:{p}/",
    "http://localhost.:{p}/",
    "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ:{p}/",                        # IDNA folds to "localhost"
    "http://mapped.attacker.example:{p}/",          # a name resolving to a mapped loopback
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
    "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
    "http://0xa9fea9fe/latest/meta-data/",
    "http://metadata.attacker.example/latest/meta-data/",
    "http://aws6.attacker.example/latest/meta-data/",
    "http://internal.attacker.example:8080/",
    "http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.1.1/", "http://100.64.0.1/",
    "http://[fc00::1]/", "http://[fd12:3456::1]:8080/",
    "http://224.0.0.1/", "http://255.255.255.255/", "http://240.0.0.1/", "http://[ff02::1]/",
]


@pytest.fixture
async def listeners() -> AsyncIterator[list[CountingListener]]:
    """Listeners on the same port on 127.0.0.1, 127.0.0.2 and (if present) ::1."""
    first = CountingListener("127.0.0.1")
    async with first:
        others = [CountingListener("127.0.0.2", first.port)]
        if _v6_loopback():
            others.append(CountingListener("::1", first.port))
        for listener in others:
            await listener.__aenter__()
        try:
            yield [first, *others]
        finally:
            for listener in others:
                await listener.__aexit__(None, None, None)


def _session(allow: str = "", dns: dict | None = None, **connector_kwargs) -> aiohttp.ClientSession:
    connector = EgressConnector(EgressPolicy.parse(allow), resolver=MapResolver(dns or DNS), **connector_kwargs)
    return aiohttp.ClientSession(connector=connector, timeout=TIMEOUT)


@pytest.mark.parametrize("template", CORPUS)
async def test_refused_spelling_makes_no_connection(template, listeners):
    url = template.format(p=listeners[0].port)
    async with _session() as http:
        with ConnectRecorder() as attempts:
            with pytest.raises(DestinationRefused) as info:
                await http.get(url, allow_redirects=False)
    assert str(info.value) == REFUSED_MESSAGE
    assert attempts.addresses == [], f"{url} reached connect()"
    assert [lis.accepted for lis in listeners] == [0] * len(listeners)


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 25 and len(set(CORPUS)) == len(CORPUS)


async def test_refusal_says_the_same_for_open_and_closed_ports(listeners):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]  # bound, never listening: nothing answers there
    answers = []
    async with _session() as http:
        for port in (listeners[0].port, closed_port):
            with pytest.raises(aiohttp.ClientError) as info:
                await http.get(f"http://127.0.0.1:{port}/v1/models")
            answers.append((type(info.value), str(info.value), info.value.args))
    assert answers[0] == answers[1]
    assert str(listeners[0].port) not in repr(answers) and "127.0.0.1" not in repr(answers)


async def test_allow_listed_destination_works_and_only_on_its_port(listeners):
    target = listeners[0]
    async with _session(f"127.0.0.1:{target.port}") as http:
        async with http.get(target.url("/v1/models")) as resp:
            assert resp.status == 200 and await resp.json() == {"data": []}
        assert target.accepted == 1
        async with CountingListener("127.0.0.1") as other_port:
            with pytest.raises(DestinationRefused):
                await http.get(other_port.url())
            assert other_port.accepted == 0
        with pytest.raises(DestinationRefused):
            await http.get(f"http://127.0.0.2:{target.port}/")
        assert listeners[1].accepted == 0


async def test_allow_listed_host_name_works_whatever_it_resolves_to(listeners):
    target = listeners[0]
    dns = {"ollama.lan": ["127.0.0.1"], "other.lan": ["127.0.0.1"]}
    async with _session(f"ollama.lan:{target.port}", dns) as http:
        async with http.get(f"http://ollama.lan:{target.port}/api/tags") as resp:
            assert resp.status == 200
        assert target.accepted == 1
        with pytest.raises(DestinationRefused):
            await http.get(f"http://other.lan:{target.port}/api/tags")
        with pytest.raises(DestinationRefused):
            await http.get(target.url(), allow_redirects=False)  # the name was allowed, not the address
    assert target.accepted == 1


async def test_dns_rebinding_is_judged_on_every_resolution(listeners):
    """The name first answers an allowed address, then loopback: the second answer is refused."""
    allowed, refused = listeners[1], listeners[0]  # 127.0.0.2 is allowed, 127.0.0.1 is not
    dns = {"rebind.attacker.example": [["127.0.0.2"], ["127.0.0.1"]]}
    async with _session("127.0.0.2", dns, use_dns_cache=False, force_close=True) as http:
        url = f"http://rebind.attacker.example:{allowed.port}/"
        async with http.get(url) as resp:
            assert resp.status == 200
        with ConnectRecorder() as attempts:
            with pytest.raises(DestinationRefused):
                await http.get(url)
    assert allowed.accepted == 1 and refused.accepted == 0 and attempts.addresses == []


async def test_mixed_dns_answer_connects_only_to_the_allowed_address(listeners):
    allowed, refused = listeners[1], listeners[0]
    dns = {"mixed.attacker.example": ["127.0.0.1", "127.0.0.2", "169.254.169.254"]}
    async with _session("127.0.0.2", dns) as http:
        with ConnectRecorder() as attempts:
            async with http.get(f"http://mixed.attacker.example:{allowed.port}/") as resp:
                assert resp.status == 200
    assert allowed.accepted == 1 and refused.accepted == 0
    assert [a[0] for a in attempts.addresses] == ["127.0.0.2"]


@pytest.mark.parametrize("location", ["http://127.0.0.1:{p}/v1/models", "http://169.254.169.254/latest/meta-data/",
                                      "http://localhost:{p}/", "http://2130706433:{p}/", "http://[::1]:{p}/"])
async def test_redirect_to_a_refused_address_is_not_followed(location, listeners):
    """An allowed provider answers 302 to a refused address. Upstream calls never follow
    redirects; and even a followed one would be refused by the connector."""
    refused = listeners[0]
    where = location.format(p=refused.port)
    redirect = http_response(302, headers={"Location": where})
    async with CountingListener("127.0.0.2", response=redirect) as provider:
        async with _session(f"127.0.0.2:{provider.port}") as http:
            async with http.get(provider.url("/v1/models"), allow_redirects=False) as resp:
                assert resp.status == 302
            with ConnectRecorder() as attempts:
                with pytest.raises(DestinationRefused):
                    await http.get(provider.url("/v1/models"))  # aiohttp's default: follow
    assert provider.accepted == 2
    assert [a[0] for a in attempts.addresses] == ["127.0.0.2"], "only the provider was connected to"
    assert [lis.accepted for lis in listeners] == [0] * len(listeners)


async def test_socket_backstop_refuses_what_the_earlier_checks_did_not_see(listeners):
    """Fail closed: the socket factory judges the exact address about to be connected, even
    if a future aiohttp reached it by a path that skips the resolver and the URL check."""
    connector = EgressConnector(EgressPolicy(), resolver=MapResolver(DNS))
    try:
        info = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", listeners[0].port))
        with pytest.raises(OSError):
            connector._open_socket(info)
        public = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", 443))
        connector._open_socket(public).close()
    finally:
        await connector.close()
    assert listeners[0].accepted == 0
