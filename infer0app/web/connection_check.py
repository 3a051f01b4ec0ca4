"""The dashboard's "Test connection": list the provider's models with the user's key.

The user owns the connection, so the sentence names where infer0 tried to go (the base URL's
host and port, never its path or the key) and why it failed ("the name could not be resolved",
"connection refused"). `/v1` callers are apps and get the shorter gateway message instead."""

from __future__ import annotations

import errno
from urllib.parse import urlsplit

import aiohttp

from ..gateway.errors import DESTINATION_REFUSED
from ..gateway.pipeline import LIST_TIMEOUT, list_models
from ..gateway.providers.base import GatewayError, Route
from ..services.providers import ProviderTarget

_ERRNO_WORDS = {
    errno.ECONNREFUSED: "connection refused (nothing listens at that port?)",
    errno.ECONNRESET: "the connection was reset",
    errno.EHOSTUNREACH: "no route to that host",
    errno.ENETUNREACH: "the network is unreachable",
}


def where(route: Route) -> str:
    """The base URL's host[:port] ('' for a built-in kind such as the sandbox)."""
    netloc = urlsplit(route.base_url or "").netloc
    return netloc.rpartition("@")[2]  # never userinfo (validate_base_url refuses it anyway)


def failure_cause(exc: BaseException | None) -> str:
    """Plain words for why a connection attempt failed, from the aiohttp/OS exception that caused
    it. Built from the exception's type and errno only, never its text (which could echo a URL)."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "its name could not be resolved (DNS)"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return "its TLS certificate was not accepted"
    if isinstance(exc, aiohttp.ClientSSLError):
        return "the TLS handshake failed (is it http rather than https?)"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection without answering"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "the answer broke off"
    if isinstance(exc, aiohttp.InvalidURL):
        return "the base URL is not a valid URL"
    if isinstance(exc, OSError):  # ClientConnectorError, ClientOSError
        number = exc.errno
        os_error = getattr(exc, "os_error", None)
        if os_error is not None and os_error.errno is not None:
            number = os_error.errno
        if number in _ERRNO_WORDS:
            return _ERRNO_WORDS[number]
        if number:
            return f"network error ({errno.errorcode.get(number, number)})"
    return f"network error ({type(exc).__name__})" if exc is not None else "network error"


def failure_message(route: Route, exc: GatewayError) -> str:
    """The sentence shown under the connection for a failed test."""
    host = where(route)
    label = route.provider_label
    at = f" at {host}" if host else ""
    if exc.code == "provider_unreachable":
        # the gateway raises it `from None` inside the except block: the cause is its __context__
        return f"Could not reach {label}{at}: {failure_cause(exc.__context__)}."
    if exc.code == "provider_timeout":
        return f"{label}{at} did not answer within {LIST_TIMEOUT.total:g} seconds."
    return f"{label}{at} answered: {exc.message}"


async def check_connection(http: aiohttp.ClientSession, target: ProviderTarget) -> tuple[bool, str, list[str]]:
    """(ok, a sentence for the user, models found). A destination the egress policy refuses
    gets its one fixed sentence, the same for an open or a closed port: infer0 sent nothing,
    so the provider did not answer."""
    try:
        models = await list_models(http, target.route)
    except GatewayError as exc:
        if exc.code == DESTINATION_REFUSED:
            return False, exc.message, []
        return False, failure_message(target.route, exc), []
    if not models:
        return True, "Connected. The provider listed no models; type the model name yourself.", []
    return True, f"Connected. Found {len(models)} model{'s' if len(models) != 1 else ''}.", models
