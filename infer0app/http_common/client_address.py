"""The client's address, seen through trusted reverse proxies only.

X-Forwarded-For is honoured only when the connection comes from an address listed in the
`trusted_proxies` setting; then the right-most entry not itself a trusted proxy is the
client (entries further left are whatever the client chose to send).
"""

from __future__ import annotations

from aiohttp import web

from .. import keys


def client_ip(request: web.Request) -> str:
    remote = request.remote or ""
    trusted = request.config_dict[keys.SETTINGS].trusted_proxy_set
    if not trusted or remote not in trusted:
        return remote
    hops = [h.strip() for h in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop[:64]
    return remote
