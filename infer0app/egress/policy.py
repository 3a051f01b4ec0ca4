"""Which upstream addresses infer0 may open a connection to (DESIGN.md §3.12), as pure logic.

Provider base URLs are typed by users, so by default infer0 refuses every destination that
is not on the public internet: loopback, private (RFC 1918, CGNAT 100.64.0.0/10, unique
local fc00::/7), link-local (169.254.0.0/16, fe80::/10 - the cloud metadata services
169.254.169.254 and fd00:ec2::254 live there), unspecified, multicast, broadcast and the
other special-purpose ranges of the IANA registries (RFC 6890), including IPv6 spellings
that carry one of those IPv4 addresses (IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96,
6to4 2002::/16, NAT64 64:ff9b::/96, Teredo 2001::/32).

The operator lets named destinations through with `--upstream-allow`, a comma-separated
list of entries, each a host or CIDR with an optional port:

    127.0.0.1:11434, 10.0.0.0/8, [::1]:8080, fd00::/8, [fd00::/8]:443, ollama.lan:11434

An IP/CIDR entry matches the address a connection is about to be opened to; a host-name
entry matches the URL's host name, and then whatever that name resolves to is allowed (the
operator trusts their own DNS for it). Without a port an entry allows every port.

This module judges addresses; `infer0app.egress.connector` asks it at connect time, on the
resolved address, so DNS rebinding and redirects cannot get around it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

_RFC1918 = "private (RFC 1918)"
_DOCS = "documentation (RFC 5737 / RFC 3849)"

#: Refused by default: (network, why). Special-purpose ranges of RFC 6890 and its updates.
REFUSED_NETWORKS: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), why) for net, why in (
        ("0.0.0.0/8", "this network, unspecified (RFC 1122)"),
        ("10.0.0.0/8", _RFC1918),
        ("100.64.0.0/10", "shared address space, carrier-grade NAT (RFC 6598)"),
        ("127.0.0.0/8", "loopback (RFC 1122)"),
        ("169.254.0.0/16", "link-local, cloud metadata 169.254.169.254 (RFC 3927)"),
        ("172.16.0.0/12", _RFC1918),
        ("192.0.0.0/24", "IETF protocol assignments (RFC 6890)"),
        ("192.0.2.0/24", _DOCS),
        ("192.88.99.0/24", "6to4 relay anycast (RFC 7526)"),
        ("192.168.0.0/16", _RFC1918),
        ("198.18.0.0/15", "benchmarking (RFC 2544)"),
        ("198.51.100.0/24", _DOCS),
        ("203.0.113.0/24", _DOCS),
        ("224.0.0.0/4", "multicast (RFC 5771)"),
        ("240.0.0.0/4", "reserved, and the limited broadcast 255.255.255.255 (RFC 1112, RFC 919)"),
        ("::/96", "unspecified ::, loopback ::1 and IPv4-compatible (RFC 4291 §2.5.5.1)"),
        ("64:ff9b:1::/48", "local-use NAT64 (RFC 8215)"),
        ("100::/64", "discard-only (RFC 6666)"),
        ("2001::/23", "IETF protocol assignments, Teredo 2001::/32 (RFC 2928, RFC 4380)"),
        ("2001:db8::/32", _DOCS),
        ("fc00::/7", "unique local, AWS metadata fd00:ec2::254 (RFC 4193)"),
        ("fe80::/10", "link-local (RFC 4291)"),
        ("fec0::/10", "site-local, deprecated (RFC 3879)"),
        ("ff00::/8", "multicast (RFC 4291)"),
    )
)

_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix: last 32 bits are IPv4


def embedded_ipv4(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 spelling routes to: IPv4-mapped (::ffff:a.b.c.d),
    6to4 (2002:AABB:CCDD::/48) or NAT64 well-known prefix (64:ff9b::a.b.c.d); else None."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refused_by_default(ip: IPAddress) -> bool:
    """True when `ip` is not a public internet address (see REFUSED_NETWORKS); IPv6 forms
    that carry an IPv4 address are judged by that IPv4 address."""
    if isinstance(ip, IPv6Address):
        if ip.scope_id:
            ip = IPv6Address(int(ip))  # fe80::1%eth0 is judged as fe80::1
        inner = embedded_ipv4(ip)
        if inner is not None:
            return refused_by_default(inner)
    if any(ip in net for net, _ in REFUSED_NETWORKS):
        return True
    # Catch-all for special-purpose ranges this table may not list yet: refuse more, never less.
    return not ip.is_global


def parse_address_literal(host: str) -> IPAddress | None:
    """The address a URL host spells, or None when it is a host name.

    Accepts what the C resolver (inet_aton) and browsers (WHATWG URL "IPv4 parser") accept
    as IPv4: one to four parts, each decimal, octal (leading 0) or hex (0x), the last part
    filling the remaining bytes - so 2130706433, 017700000001, 0x7f.1 and 127.1 all mean
    127.0.0.1. IPv6 may be bracketed and carry a zone id (fe80::1%25eth0).
    """
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        bare = host.split("%", 1)[0]
        try:
            return IPv6Address(bare)
        except ValueError:
            return None
    return _legacy_ipv4(host)


def _legacy_ipv4(host: str) -> IPv4Address | None:
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # one trailing dot is the root label: "127.0.0.1." is still 127.0.0.1
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        number = _ipv4_number(part)
        if number is None:
            return None
        numbers.append(number)
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for i, n in enumerate(head):
        value += n << (8 * (3 - i))
    return IPv4Address(value)


def _ipv4_number(part: str) -> int | None:
    if not part or not part.isascii():
        return None
    base, digits = 10, part
    if part[:2].lower() == "0x":
        base, digits = 16, part[2:] or "0"
    elif len(part) > 1 and part[0] == "0":
        base, digits = 8, part[1:]
    try:
        return int(digits, base) if digits.isalnum() else None
    except ValueError:
        return None


def normalize_host_name(name: str) -> str:
    """Host names compare lower-case, IDNA-encoded, without the root label's trailing dot."""
    name = name.strip().rstrip(".").lower()
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name


@dataclass(frozen=True)
class AllowEntry:
    """One `--upstream-allow` entry: a network (an address is a /32 or /128) or a host name,
    and a port (None: any port)."""

    network: IPNetwork | None = None
    name: str | None = None
    port: int | None = None

    def matches_address(self, ip: IPAddress, port: int) -> bool:
        if self.network is None or self.port not in (None, port):
            return False
        forms = [ip]
        if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
            forms.append(ip.ipv4_mapped)  # ::ffff:127.0.0.1 is the same socket peer as 127.0.0.1
        return any(f.version == self.network.version and f in self.network for f in forms)

    def matches_name(self, host: str, port: int) -> bool:
        return self.name is not None and self.port in (None, port) and self.name == normalize_host_name(host)

    def __str__(self) -> str:
        if self.name is not None:
            where = self.name
        elif self.network.num_addresses == 1:
            where = str(self.network.network_address)
        else:
            where = str(self.network)
        if self.port is None:
            return where
        return f"[{where}]:{self.port}" if ":" in where else f"{where}:{self.port}"


def parse_allow_entry(text: str) -> AllowEntry:
    """One entry: `HOST`, `HOST:PORT`, `CIDR`, `CIDR:PORT`, `[IPV6]`, `[IPV6]:PORT`,
    `[IPV6/LEN]:PORT`, or a bare IPv6 address/CIDR (no port). Raises ValueError naming it."""
    raw = text.strip()
    where, port = raw, None
    if raw.startswith("["):
        close = raw.find("]")
        rest = raw[close + 1:]
        if close < 0 or rest and not rest.startswith(":"):
            raise ValueError(f"{raw!r} is not HOST, HOST:PORT, CIDR or [IPV6]:PORT")
        where = raw[1:close]
        if rest:
            port = _port(raw, rest[1:])
    elif raw.count(":") == 1:
        where, port_text = raw.split(":")
        port = _port(raw, port_text)
    if not where:
        raise ValueError(f"{raw!r} names no host")
    if "/" in where or parse_address_literal(where) is not None:
        try:
            network = ipaddress.ip_network(where if "/" in where else parse_address_literal(where),
                                           strict=False)
        except ValueError:
            raise ValueError(f"{raw!r} is not a valid address or CIDR") from None
        return AllowEntry(network=network, port=port)
    name = normalize_host_name(where)
    if not name or any(c in name for c in "/@?#% \t") or ":" in name:
        raise ValueError(f"{raw!r} is not a valid host name")
    return AllowEntry(name=name, port=port)


def _port(raw: str, text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"{raw!r} has no valid port (1-65535)")
    return int(text)


@dataclass(frozen=True)
class EgressPolicy:
    """The default refusal plus the operator's allow-list. Immutable; build it once."""

    allow: tuple[AllowEntry, ...] = ()

    @classmethod
    def parse(cls, text: str) -> EgressPolicy:
        """From the `--upstream-allow` text (comma-separated entries; empty: allow nothing
        extra). Raises ValueError naming the first bad entry."""
        return cls(tuple(parse_allow_entry(p) for p in text.split(",") if p.strip()))

    def allows_address(self, ip: IPAddress, port: int) -> bool:
        """May a socket be opened to `ip`:`port`? (Public addresses: yes; others only when an
        IP/CIDR entry names them.)"""
        return not refused_by_default(ip) or any(e.matches_address(ip, port) for e in self.allow)

    def allows_name(self, host: str, port: int) -> bool:
        """Did the operator allow this host name (and port), whatever it resolves to?"""
        return any(e.matches_name(host, port) for e in self.allow)
