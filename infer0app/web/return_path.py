"""Where a browser may be sent back to after a form (`next` after sign-in or sign-up, the return
to /oauth/authorize after adding a provider): only a path on this origin, never an open redirect.

The check reads the value the way a browser reads a Location header (WHATWG URL Standard,
"basic URL parser"): leading and trailing C0 controls and spaces are dropped, tab, LF and CR are
removed anywhere, and `\\` counts as `/` in http(s) URLs. So `/\\t/evil`, `/\\evil`, `\\/\\/evil`,
` //evil` all mean `//evil`, a network-path reference to another host. The value must start with
exactly one `/` after that, resolve (dot segments removed, RFC 3986 §5.2.4) to a path that still
starts with exactly one `/`, and stay so after percent-decoding (a proxy or a second decoder
could otherwise turn the path `/%2F%2Fevil` into `//evil`). Anything else falls back to the default.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urljoin, urlsplit

from yarl import URL

_EDGE = "".join(map(chr, range(0x21)))  # C0 controls and space: trimmed at both ends by browsers
_REMOVED = str.maketrans("", "", "\t\n\r")  # removed anywhere by browsers
_PROBE = "http://origin.invalid/"
MAX_LENGTH = 2048
_MAX_DECODES = 3  # more layers of percent-encoding than this is not a real return path


def _browser_form(value: str) -> str:
    return value.strip(_EDGE).translate(_REMOVED).replace("\\", "/")


def _is_local_path(value: str) -> bool:
    """True if `value`, read as a browser would, is a path-absolute reference on this origin."""
    seen = _browser_form(value)
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in seen):
        return False  # other controls inside: no real return path has them
    if not seen.startswith("/") or seen.startswith("//"):
        return False
    parts = urlsplit(urljoin(_PROBE, seen))
    return (parts.scheme, parts.netloc) == ("http", "origin.invalid") and not parts.path.startswith("//")


def same_origin_path(target: str | None, default: str = "/") -> str:
    """`target` as a Location on this origin (path, query, fragment: e.g. '/providers?x=1'),
    or `default` if it is missing, longer than MAX_LENGTH, or could lead anywhere else."""
    if not isinstance(target, str) or not target or len(target) > MAX_LENGTH:
        return default
    if not _is_local_path(target):
        return default
    layer = re.split(r"[?#]", _browser_form(target), maxsplit=1)[0]  # the query may hold encoded URLs
    for _ in range(_MAX_DECODES):
        if not _is_local_path(layer):
            return default
        decoded = unquote(layer)
        if decoded == layer:
            break
        layer = decoded
    else:
        return default
    location = _browser_form(target)
    sent = str(URL(location))  # what aiohttp puts in the Location header
    if not _is_local_path(sent):
        return default
    return location
