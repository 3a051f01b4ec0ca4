"""Strict RFC 3986 syntax for the absolute URIs infer0 stores (redirect URIs).

Only the parts of RFC 3986's ABNF we allow are spelled out, each rule named as in the RFC:

    URI           = scheme ":" "//" authority path-abempty [ "?" query ]   ; no fragment
    authority     = host [ ":" port ]                                       ; no userinfo
    host          = "[" IPv6address "]" / IPv4address / reg-name           ; reg-name: DNS labels
    path-abempty  = *( "/" segment )      segment = *pchar
    query         = *( pchar / "/" / "?" )
    pchar         = unreserved / pct-encoded / sub-delims / ":" / "@"
    unreserved    = ALPHA / DIGIT / "-" / "." / "_" / "~"
    pct-encoded   = "%" HEXDIG HEXDIG
    sub-delims    = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="

Anything else (spaces, controls, `\\`, `"`, `<`, `>`, `{`, `|`, `^`, a backtick, raw non-ASCII,
a lone `%`) is not a URI and is refused, so what the consent page shows is what a browser goes to.
reg-name is narrowed to DNS names (RFC 1123 labels, punycode for IDNs) and port to 1-65535.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_URI = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+\-.]*)://"
    rf"(?P<authority>(?:[{_UNRESERVED}{_SUB_DELIMS}:@\[\]]|{_PCT})*)"
    rf"(?P<path>(?:/{_PCHAR}*)*)"
    rf"(?:\?(?P<query>(?:{_PCHAR}|[/?])*))?"
    r"(?P<fragment>#.*)?",
    re.DOTALL)
_HOST_PORT = re.compile(r"(?P<host>\[[^\]]*\]|[^:\[\]]*)(?::(?P<port>[^:]*))?")
_DNS_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_IPV4 = re.compile(r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}")


@dataclass(frozen=True)
class AbsoluteURI:
    scheme: str
    host: str  # as written; IPv6 keeps its brackets
    port: int | None
    path: str
    query: str | None


class URISyntaxError(ValueError):
    """The text is not an RFC 3986 URI of the allowed shape; the message says which part."""


def _check_host(host: str) -> None:
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise URISyntaxError("the bracketed host is not an IPv6 address.") from None
        return
    if _IPV4.fullmatch(host):
        return
    labels = host.split(".")
    if host.endswith(".") or len(host) > 253 or not all(_DNS_LABEL.fullmatch(label) for label in labels):
        raise URISyntaxError("the host must be a DNS name (letters, digits, hyphens; punycode for other "
                             "scripts), an IPv4 address or a bracketed IPv6 address.")
    if labels[-1].isdigit():
        raise URISyntaxError("the host looks like an IP address but is not a valid one.")


def parse_absolute_uri(text: str) -> AbsoluteURI:
    """Parse `scheme://host[:port]/path[?query]` per RFC 3986 §3; URISyntaxError says what is wrong.

    Refuses a fragment (§3.5), userinfo (§3.2.1), an empty or out-of-range port (1-65535)
    and any character outside the grammar above."""
    m = _URI.fullmatch(text)
    if m is None:
        bad = [c for c in text if not (0x21 <= ord(c) <= 0x7E) or c in '"<>\\^`{|}']
        if bad:
            raise URISyntaxError(f"contains U+{ord(bad[0]):04X}, which is not allowed in a URI (percent-encode it).")
        raise URISyntaxError("is not a URI of the form scheme://host/path?query (check every %-escape).")
    if m.group("fragment") is not None:
        raise URISyntaxError("fragments (#...) are not allowed.")
    authority = m.group("authority")
    if "@" in authority:
        raise URISyntaxError("must not contain user information (user@host).")
    hp = _HOST_PORT.fullmatch(authority)
    if hp is None or not hp.group("host"):
        raise URISyntaxError("has no valid host.")
    host, port_text = hp.group("host"), hp.group("port")
    _check_host(host)
    port = None
    if port_text is not None:
        if not (port_text.isascii() and port_text.isdigit()) or port_text.startswith("0") or not 1 <= int(port_text) <= 65535:
            raise URISyntaxError("the port must be a number from 1 to 65535.")
        port = int(port_text)
    return AbsoluteURI(m.group("scheme"), host, port, m.group("path"), m.group("query"))


# -- private-use URI schemes (RFC 8252 §7.1) ------------------------------------------------
#     private-use-URI = scheme ":" path-absolute [ "?" query ]     ; no authority, no fragment
#     scheme          = reverse domain name: 2+ dot-separated labels, e.g. com.example.app
#     path-absolute   = "/" [ segment-nz *( "/" segment ) ]
_PRIVATE_USE = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+\-.]*):"
    rf"(?P<path>/(?:{_PCHAR}+(?:/{_PCHAR}*)*)?)"
    rf"(?:\?(?P<query>(?:{_PCHAR}|[/?])*))?",
    re.DOTALL)
_SCHEME_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")


@dataclass(frozen=True)
class PrivateUseURI:
    scheme: str
    path: str
    query: str | None


def is_private_use_candidate(text: str) -> bool:
    """True when `text` names a scheme with a period and no `//` authority (RFC 8252 §7.1's shape)."""
    scheme, sep, rest = text.partition(":")
    return bool(sep) and "." in scheme and not rest.startswith("//")


def parse_private_use_uri(text: str) -> PrivateUseURI:
    """Parse `com.example.app:/path[?query]` (RFC 8252 §7.1, RFC 3986 §3 grammar); URISyntaxError
    otherwise. The scheme must be a reverse domain name (labels of lowercase letters, digits and
    hyphens, at least one period: RFC 7595 §3.8); the path starts with a single `/`."""
    if "#" in text:
        raise URISyntaxError("fragments (#...) are not allowed.")
    m = _PRIVATE_USE.fullmatch(text)
    if m is None:
        raise URISyntaxError("a private-use URI must look like com.example.app:/callback (scheme, ':', one '/', "
                             "a path; no '//' authority, no spaces; percent-encode other characters).")
    labels = m.group("scheme").split(".")
    if len(labels) < 2 or not all(_SCHEME_LABEL.fullmatch(label) for label in labels):
        raise URISyntaxError("a private-use scheme must be a reverse domain name you control, in lowercase, "
                             "e.g. com.example.app.")
    return PrivateUseURI(m.group("scheme"), m.group("path"), m.group("query"))
