"""The destination policy as pure logic: which addresses are refused, how hosts are read, and
what an operator's `--upstream-allow` entry lets through (infer0app/egress/policy.py)."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from infer0app.egress.policy import EgressPolicy, parse_address_literal, parse_allow_entry, refused_by_default

REFUSED = [
    "127.0.0.1", "127.255.255.254", "0.0.0.0", "0.1.2.3", "10.1.2.3", "172.16.0.1", "172.31.255.255",
    "192.168.1.1", "100.64.0.1", "100.127.255.254", "169.254.169.254", "169.254.0.1", "192.0.0.8",
    "192.0.2.7", "198.18.0.1", "198.51.100.1", "203.0.113.9", "224.0.0.1", "239.255.255.250",
    "240.0.0.1", "255.255.255.255",
    "::", "::1", "::127.0.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::1", "2002:7f00:1::1", "2002:a9fe:a9fe::",
    "2001::1", "2001:db8::1", "100::1", "fc00::1", "fd00:ec2::254", "fe80::1", "fec0::1", "ff02::1",
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "104.18.6.192", "172.32.0.1", "100.128.0.1", "::ffff:8.8.8.8",
          "64:ff9b::808:808", "2002:808:808::1", "2606:4700::6810:84e5", "2a00:1450:4001:81c::200e"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused_by_default(address):
    assert refused_by_default(ip_address(address))
    assert not EgressPolicy().allows_address(ip_address(address), 443)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address):
    assert not refused_by_default(ip_address(address))
    assert EgressPolicy().allows_address(ip_address(address), 443)


@pytest.mark.parametrize("host,meant", [
    ("2130706433", "127.0.0.1"), ("017700000001", "127.0.0.1"), ("0x7f000001", "127.0.0.1"),
    ("0x7f.1", "127.0.0.1"), ("0X7F.0.0.1", "127.0.0.1"), ("127.1", "127.0.0.1"), ("127.0.1", "127.0.0.1"),
    ("0177.0.0.1", "127.0.0.1"), ("127.000.000.001", "127.0.0.1"), ("127.0.0.1.", "127.0.0.1"),
    ("0", "0.0.0.0"), ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"), ("2852039166", "169.254.169.254"),
    ("[::1]", "::1"), ("::ffff:7f00:1", "::ffff:127.0.0.1"), ("fe80::1%25eth0", "fe80::1"),
    ("[fe80::1%eth0]", "fe80::1"),
])
def test_every_spelling_of_an_address_is_read_as_the_address(host, meant):
    assert parse_address_literal(host) == ip_address(meant)


@pytest.mark.parametrize("host", ["example.com", "localhost", "1.2.3.4.5", "256.0.0.1", "1.16777216",
                                  "08", "127.0.0.1x", "0x7g.1", "", "api.openai.com", "1e2"])
def test_names_and_invalid_numbers_are_not_addresses(host):
    assert parse_address_literal(host) is None


def test_operator_entries_let_named_destinations_through():
    policy = EgressPolicy.parse("127.0.0.1:11434, 10.0.0.0/8,[::1]:8080, ollama.lan:11434, fd00::/8")
    assert policy.allows_address(ip_address("127.0.0.1"), 11434)
    assert not policy.allows_address(ip_address("127.0.0.1"), 11435), "a port entry allows only that port"
    assert policy.allows_address(ip_address("::ffff:127.0.0.1"), 11434), "the mapped form is the same peer"
    assert policy.allows_address(ip_address("10.200.3.4"), 1) and policy.allows_address(ip_address("10.0.0.1"), 65535)
    assert policy.allows_address(ip_address("::1"), 8080) and not policy.allows_address(ip_address("::1"), 80)
    assert policy.allows_address(ip_address("fd00:ec2::254"), 80), "the operator asked for all of fd00::/8"
    assert not policy.allows_address(ip_address("169.254.169.254"), 80)
    assert not policy.allows_address(ip_address("192.168.0.1"), 11434)
    assert policy.allows_name("ollama.lan", 11434) and policy.allows_name("OLLAMA.LAN.", 11434)
    assert not policy.allows_name("ollama.lan", 80) and not policy.allows_name("other.lan", 11434)


@pytest.mark.parametrize("entry,shown", [
    ("127.0.0.1:11434", "127.0.0.1:11434"), ("10.0.0.0/8", "10.0.0.0/8"), ("10.1.2.3/8:443", "10.0.0.0/8:443"),
    ("[::1]:8080", "[::1]:8080"), ("::1", "::1"), ("[fd00::/8]:443", "[fd00::/8]:443"),
    ("Ollama.LAN.:11434", "ollama.lan:11434"), ("ollama", "ollama"), ("127.1", "127.0.0.1"),
    ("bücher.example", "xn--bcher-kva.example"),
])
def test_allow_entries_are_read_and_shown_canonically(entry, shown):
    assert str(parse_allow_entry(entry)) == shown


@pytest.mark.parametrize("entry", ["127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:http", "[::1", "[::1]x",
                                   "10.0.0.0/33", ":8080", "user@host", "host/path", "[]:80", "a b"])
def test_bad_allow_entries_are_refused_with_the_entry_named(entry):
    with pytest.raises(ValueError) as info:
        EgressPolicy.parse(f"127.0.0.1:11434,{entry}")
    assert entry.strip() in str(info.value)


def test_empty_allow_list_allows_nothing_extra():
    assert EgressPolicy.parse("").allow == () and EgressPolicy.parse(" , ").allow == ()


def test_setting_reads_flag_or_environment_and_names_itself_when_bad():
    from infer0app.config import SettingsError, load_settings

    s = load_settings({}, environ={"INFER0_UPSTREAM_ALLOW": "127.0.0.1:11434,ollama.lan:11434"})
    assert s.egress_policy.allows_address(ip_address("127.0.0.1"), 11434)
    assert s.egress_policy.allows_name("ollama.lan", 11434)
    assert load_settings({}, environ={}).egress_policy == EgressPolicy()
    with pytest.raises(SettingsError, match="--upstream-allow.*127.0.0.1:0"):
        load_settings({"upstream_allow": "127.0.0.1:0"}, environ={})
